package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
)

const integrationColumns = `id, project_id, kind, settings, sealed_secrets, git_branch, created_at, updated_at`

// integrationSelect reads integrations with their claimed targets and keys, split by scanIntegration.
const integrationSelect = `SELECT ` + integrationColumns + `,
	(SELECT group_concat(DISTINCT target) FROM env_var_targets t WHERE t.integration_id = integrations.id),
	(SELECT group_concat(DISTINCT key) FROM env_var_targets t WHERE t.integration_id = integrations.id)
	FROM integrations`

func scanIntegration(row scanner) (*store.Integration, error) {
	var i store.Integration
	var settings string
	var targets, keys sql.NullString
	err := row.Scan(&i.ID, &i.ProjectID, &i.Kind, &settings, &i.SealedSecrets, &i.GitBranch, &i.CreatedAt, &i.UpdatedAt, &targets, &keys)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	i.Settings = []byte(settings)
	i.Targets, i.EnvKeys = splitSorted(targets.String), splitSorted(keys.String)
	return &i, nil
}

func splitSorted(list string) []string {
	if list == "" {
		return nil
	}
	values := strings.Split(list, ",")
	slices.Sort(values)
	return values
}

func claimIntegrationKeys(ctx context.Context, tx *sql.Tx, i *store.Integration) error {
	return claimEnvKeys(ctx, tx, "integration_id", i.ID, i.ProjectID, i.GitBranch, i.EnvKeys, i.Targets)
}

// CreateIntegration inserts i unless one of its keys is already set for one of its targets.
func (s *Store) CreateIntegration(ctx context.Context, i *store.Integration) error {
	i.CreatedAt = now()
	i.UpdatedAt = i.CreatedAt
	return s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO integrations (`+integrationColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
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
	return s.inTx(ctx, func(tx *sql.Tx) error {
		err := oneRow(tx.ExecContext(ctx, `UPDATE integrations SET settings = ?, sealed_secrets = ?, git_branch = ?, updated_at = ? WHERE id = ? AND project_id = ?`,
			string(i.Settings), i.SealedSecrets, i.GitBranch, i.UpdatedAt, i.ID, i.ProjectID))
		if err != nil {
			return err
		}
		return claimIntegrationKeys(ctx, tx, i)
	})
}

// GetIntegration returns one integration of a project.
func (s *Store) GetIntegration(ctx context.Context, projectID, id string) (*store.Integration, error) {
	return scanIntegration(s.db.QueryRowContext(ctx, integrationSelect+` WHERE id = ? AND project_id = ?`, id, projectID))
}

// ListIntegrations returns a project's integrations, oldest first.
func (s *Store) ListIntegrations(ctx context.Context, projectID string) ([]*store.Integration, error) {
	return listRows(ctx, s.db, scanIntegration, integrationSelect+` WHERE project_id = ? ORDER BY created_at, id`, projectID)
}

// DeleteIntegration deletes one integration of a project, with its claims.
func (s *Store) DeleteIntegration(ctx context.Context, projectID, id string) error {
	return oneRow(s.db.ExecContext(ctx, `DELETE FROM integrations WHERE id = ? AND project_id = ?`, id, projectID))
}
