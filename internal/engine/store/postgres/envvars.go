package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
)

const envColumns = `id, project_id, key, sealed_value, value_digest, git_branch, comment, created_at, updated_at`

// envSelect reads env vars with their targets.
const envSelect = `SELECT ` + envColumns + `,
	ARRAY(SELECT target FROM env_var_targets t WHERE t.env_var_id = env_vars.id ORDER BY target) FROM env_vars`

func scanEnvVar(row pgx.Row) (*store.EnvVar, error) {
	var v store.EnvVar
	err := row.Scan(&v.ID, &v.ProjectID, &v.Key, &v.SealedValue, &v.ValueDigest, &v.GitBranch, &v.Comment, &v.CreatedAt, &v.UpdatedAt, &v.Targets)
	if err != nil {
		return nil, noRows(err)
	}
	if len(v.Targets) == 0 {
		v.Targets = nil
	}
	return &v, nil
}

// claimEnvKeys replaces the env keys the owner (an env var or an integration, by the column
// naming it) claims: each key for each target, in the project and git branch. A key another
// owner holds there is a *store.DuplicateEnvError.
func claimEnvKeys(ctx context.Context, tx pgx.Tx, ownerColumn, ownerID, projectID, gitBranch string, keys, targets []string) error {
	if _, err := tx.Exec(ctx, `DELETE FROM env_var_targets WHERE `+ownerColumn+` = $1`, ownerID); err != nil {
		return err
	}
	for _, key := range keys {
		for _, target := range targets {
			// ON CONFLICT rather than catching the violation, which would abort the transaction
			// before the holder could be read.
			tag, err := tx.Exec(ctx, `INSERT INTO env_var_targets (`+ownerColumn+`, project_id, key, git_branch, target) VALUES ($1, $2, $3, $4, $5)
				ON CONFLICT ON CONSTRAINT env_var_targets_claim DO NOTHING`, ownerID, projectID, key, gitBranch, target)
			if err != nil {
				return err
			}
			if tag.RowsAffected() > 0 {
				continue
			}
			dup := &store.DuplicateEnvError{Key: key, Target: target, GitBranch: gitBranch}
			err = tx.QueryRow(ctx, `SELECT COALESCE(integration_id, '') FROM env_var_targets WHERE project_id = $1 AND key = $2 AND git_branch = $3 AND target = $4`,
				projectID, key, gitBranch, target).Scan(&dup.IntegrationID)
			if err != nil {
				return errors.Join(dup, err)
			}
			return dup
		}
	}
	return nil
}

func setTargets(ctx context.Context, tx pgx.Tx, v *store.EnvVar) error {
	return claimEnvKeys(ctx, tx, "env_var_id", v.ID, v.ProjectID, v.GitBranch, []string{v.Key}, v.Targets)
}

// CreateEnvVar inserts v unless it duplicates a key for one of its targets.
func (s *Store) CreateEnvVar(ctx context.Context, v *store.EnvVar) error {
	v.CreatedAt = now()
	v.UpdatedAt = v.CreatedAt
	return s.inTx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO env_vars (`+envColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			v.ID, v.ProjectID, v.Key, v.SealedValue, v.ValueDigest, v.GitBranch, v.Comment, v.CreatedAt, v.UpdatedAt)
		if err != nil {
			return err
		}
		return setTargets(ctx, tx, v)
	})
}

// UpdateEnvVar replaces v's key, value, targets, branch and comment.
func (s *Store) UpdateEnvVar(ctx context.Context, v *store.EnvVar) error {
	v.UpdatedAt = now()
	return s.inTx(ctx, func(tx pgx.Tx) error {
		err := oneRow(tx.Exec(ctx, `UPDATE env_vars SET key = $1, sealed_value = $2, value_digest = $3, git_branch = $4, comment = $5, updated_at = $6
			WHERE id = $7 AND project_id = $8`,
			v.Key, v.SealedValue, v.ValueDigest, v.GitBranch, v.Comment, v.UpdatedAt, v.ID, v.ProjectID))
		if err != nil {
			return err
		}
		return setTargets(ctx, tx, v)
	})
}

// GetEnvVar returns one var of a project.
func (s *Store) GetEnvVar(ctx context.Context, projectID, id string) (*store.EnvVar, error) {
	return scanEnvVar(s.pool.QueryRow(ctx, envSelect+` WHERE id = $1 AND project_id = $2`, id, projectID))
}

// ListEnvVars returns a project's vars by key.
func (s *Store) ListEnvVars(ctx context.Context, projectID string) ([]*store.EnvVar, error) {
	return listRows(ctx, s.pool, scanEnvVar, envSelect+` WHERE project_id = $1 ORDER BY key, created_at`, projectID)
}

// DeleteEnvVar deletes one var of a project.
func (s *Store) DeleteEnvVar(ctx context.Context, projectID, id string) error {
	return oneRow(s.pool.Exec(ctx, `DELETE FROM env_vars WHERE id = $1 AND project_id = $2`, id, projectID))
}
