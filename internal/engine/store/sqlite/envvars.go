package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
)

const envColumns = `id, project_id, key, sealed_value, value_digest, git_branch, comment, created_at, updated_at`

// envSelect reads env vars with their targets, joined here and split by scanEnvVar.
const envSelect = `SELECT ` + envColumns + `, (SELECT group_concat(target) FROM env_var_targets t WHERE t.env_var_id = env_vars.id) FROM env_vars`

func scanEnvVar(row scanner) (*store.EnvVar, error) {
	var v store.EnvVar
	var targets sql.NullString
	err := row.Scan(&v.ID, &v.ProjectID, &v.Key, &v.SealedValue, &v.ValueDigest, &v.GitBranch, &v.Comment, &v.CreatedAt, &v.UpdatedAt, &targets)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if targets.String != "" {
		v.Targets = strings.Split(targets.String, ",")
		slices.Sort(v.Targets)
	}
	return &v, nil
}

// setTargets gives v its target rows; the database refuses a key already set for one of them.
func setTargets(ctx context.Context, tx *sql.Tx, v *store.EnvVar) error {
	return claimEnvKeys(ctx, tx, "env_var_id", v.ID, v.ProjectID, v.GitBranch, []string{v.Key}, v.Targets)
}

// claimEnvKeys replaces the env keys the owner (an env var or an integration, by the column
// naming it) claims: each key for each target, in the project and git branch. The database
// refuses a key another owner holds there.
func claimEnvKeys(ctx context.Context, tx *sql.Tx, ownerColumn, ownerID, projectID, gitBranch string, keys, targets []string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM env_var_targets WHERE `+ownerColumn+` = ?`, ownerID); err != nil {
		return err
	}
	for _, key := range keys {
		for _, target := range targets {
			_, err := tx.ExecContext(ctx, `INSERT INTO env_var_targets (`+ownerColumn+`, project_id, key, git_branch, target) VALUES (?, ?, ?, ?, ?)`,
				ownerID, projectID, key, gitBranch, target)
			if isUniqueViolation(err) {
				dup := &store.DuplicateEnvError{Key: key, Target: target, GitBranch: gitBranch}
				err := tx.QueryRowContext(ctx, `SELECT COALESCE(integration_id, '') FROM env_var_targets WHERE project_id = ? AND key = ? AND git_branch = ? AND target = ?`,
					projectID, key, gitBranch, target).Scan(&dup.IntegrationID)
				if err != nil {
					return errors.Join(dup, err)
				}
				return dup
			}
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// CreateEnvVar inserts v unless it duplicates a key for one of its targets.
func (s *Store) CreateEnvVar(ctx context.Context, v *store.EnvVar) error {
	v.CreatedAt = now()
	v.UpdatedAt = v.CreatedAt
	return s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO env_vars (`+envColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
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
	return s.inTx(ctx, func(tx *sql.Tx) error {
		err := oneRow(tx.ExecContext(ctx, `UPDATE env_vars SET key = ?, sealed_value = ?, value_digest = ?, git_branch = ?, comment = ?, updated_at = ? WHERE id = ? AND project_id = ?`,
			v.Key, v.SealedValue, v.ValueDigest, v.GitBranch, v.Comment, v.UpdatedAt, v.ID, v.ProjectID))
		if err != nil {
			return err
		}
		return setTargets(ctx, tx, v)
	})
}

// GetEnvVar returns one var of a project.
func (s *Store) GetEnvVar(ctx context.Context, projectID, id string) (*store.EnvVar, error) {
	return scanEnvVar(s.db.QueryRowContext(ctx, envSelect+` WHERE id = ? AND project_id = ?`, id, projectID))
}

// ListEnvVars returns a project's vars by key.
func (s *Store) ListEnvVars(ctx context.Context, projectID string) ([]*store.EnvVar, error) {
	return listRows(ctx, s.db, scanEnvVar, envSelect+` WHERE project_id = ? ORDER BY key, created_at`, projectID)
}

// DeleteEnvVar deletes one var of a project.
func (s *Store) DeleteEnvVar(ctx context.Context, projectID, id string) error {
	return oneRow(s.db.ExecContext(ctx, `DELETE FROM env_vars WHERE id = ? AND project_id = ?`, id, projectID))
}
