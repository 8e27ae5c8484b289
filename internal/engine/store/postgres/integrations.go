package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
)

const integrationColumns = `id, project_id, kind, settings, sealed_secrets, git_branch, created_at, updated_at`

// integrationSelect reads integrations with the targets and keys they claim.
const integrationSelect = `SELECT ` + integrationColumns + `,
	ARRAY(SELECT DISTINCT target FROM env_var_targets t WHERE t.integration_id = integrations.id ORDER BY target),
	ARRAY(SELECT DISTINCT key FROM env_var_targets t WHERE t.integration_id = integrations.id ORDER BY key)
	FROM integrations`

func scanIntegration(row pgx.Row) (*store.Integration, error) {
	var i store.Integration
	var settings string
	err := row.Scan(&i.ID, &i.ProjectID, &i.Kind, &settings, &i.SealedSecrets, &i.GitBranch, &i.CreatedAt, &i.UpdatedAt, &i.Targets, &i.EnvKeys)
	if err != nil {
		return nil, noRows(err)
	}
	i.Settings = []byte(settings)
	if len(i.Targets) == 0 {
		i.Targets = nil
	}
	if len(i.EnvKeys) == 0 {
		i.EnvKeys = nil
	}
	return &i, nil
}

func claimIntegrationKeys(ctx context.Context, tx pgx.Tx, i *store.Integration) error {
	return claimEnvKeys(ctx, tx, "integration_id", i.ID, i.ProjectID, i.GitBranch, i.EnvKeys, i.Targets)
}

// CreateIntegration inserts i unless one of its keys is already set for one of its targets.
func (s *Store) CreateIntegration(ctx context.Context, i *store.Integration) error {
	i.CreatedAt = now()
	i.UpdatedAt = i.CreatedAt
	return s.inTx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO integrations (`+integrationColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			i.ID, i.ProjectID, i.Kind, string(i.Settings), i.SealedSecrets, i.GitBranch, i.CreatedAt, i.UpdatedAt)
		if err != nil {
			return err
		}
		return claimIntegrationKeys(ctx, tx, i)
	})
}

// UpdateIntegration replaces i's settings, secrets, targets, branch and keys.
func (s *Store) UpdateIntegration(ctx context.Context, i *store.Integration) error {
	i.UpdatedAt = now()
	return s.inTx(ctx, func(tx pgx.Tx) error {
		err := oneRow(tx.Exec(ctx, `UPDATE integrations SET settings = $1, sealed_secrets = $2, git_branch = $3, updated_at = $4 WHERE id = $5 AND project_id = $6`,
			string(i.Settings), i.SealedSecrets, i.GitBranch, i.UpdatedAt, i.ID, i.ProjectID))
		if err != nil {
			return err
		}
		return claimIntegrationKeys(ctx, tx, i)
	})
}

// GetIntegration returns one integration of a project.
func (s *Store) GetIntegration(ctx context.Context, projectID, id string) (*store.Integration, error) {
	return scanIntegration(s.pool.QueryRow(ctx, integrationSelect+` WHERE id = $1 AND project_id = $2`, id, projectID))
}

// ListIntegrations returns a project's integrations, oldest first.
func (s *Store) ListIntegrations(ctx context.Context, projectID string) ([]*store.Integration, error) {
	return listRows(ctx, s.pool, scanIntegration, integrationSelect+` WHERE project_id = $1 ORDER BY created_at, id`, projectID)
}

// DeleteIntegration deletes one integration of a project, with its claims.
func (s *Store) DeleteIntegration(ctx context.Context, projectID, id string) error {
	return oneRow(s.pool.Exec(ctx, `DELETE FROM integrations WHERE id = $1 AND project_id = $2`, id, projectID))
}
