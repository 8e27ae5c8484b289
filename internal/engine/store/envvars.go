package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// EnvVar is a stored env var; its value is sealed.
type EnvVar struct {
	ID          string
	ProjectID   string
	Key         string
	SealedValue []byte
	ValueDigest string
	Targets     []string
	GitBranch   string
	Comment     string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// DuplicateEnvError says which existing var an env var would clash with.
type DuplicateEnvError struct {
	Key, Target, GitBranch string
}

func (e *DuplicateEnvError) Error() string {
	where := e.Target
	if e.GitBranch != "" {
		where += " (git branch " + e.GitBranch + ")"
	}
	return fmt.Sprintf("%s is already set for %s", e.Key, where)
}

func (e *DuplicateEnvError) Unwrap() error { return ErrConflict }

const envColumns = `id, project_id, key, sealed_value, value_digest, targets, git_branch, comment, created_at, updated_at`

func scanEnvVar(row interface{ Scan(...any) error }) (*EnvVar, error) {
	var v EnvVar
	var targets string
	err := row.Scan(&v.ID, &v.ProjectID, &v.Key, &v.SealedValue, &v.ValueDigest, &targets, &v.GitBranch, &v.Comment, &v.CreatedAt, &v.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	v.Targets = strings.Split(targets, ",")
	return &v, nil
}

// checkNoDuplicate refuses v when another var of the project has the same
// key, an overlapping target and the same git branch.
func checkNoDuplicate(ctx context.Context, tx *sql.Tx, v *EnvVar) error {
	rows, err := tx.QueryContext(ctx, `SELECT `+envColumns+` FROM env_vars WHERE project_id = ? AND key = ? AND id != ?`, v.ProjectID, v.Key, v.ID)
	if err != nil {
		return err
	}
	defer func() { _ = rows.Close() }() // rows.Err() reports a failed read
	for rows.Next() {
		other, err := scanEnvVar(rows)
		if err != nil {
			return err
		}
		if other.GitBranch != v.GitBranch {
			continue
		}
		for _, t := range v.Targets {
			if slices.Contains(other.Targets, t) {
				return &DuplicateEnvError{Key: v.Key, Target: t, GitBranch: v.GitBranch}
			}
		}
	}
	return rows.Err()
}

// CreateEnvVar inserts v unless it duplicates a key for one of its targets.
func (s *Store) CreateEnvVar(ctx context.Context, v *EnvVar) error {
	v.CreatedAt = now()
	v.UpdatedAt = v.CreatedAt
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if err := checkNoDuplicate(ctx, tx, v); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO env_vars (`+envColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			v.ID, v.ProjectID, v.Key, v.SealedValue, v.ValueDigest, strings.Join(v.Targets, ","), v.GitBranch, v.Comment, v.CreatedAt, v.UpdatedAt)
		return err
	})
}

// UpdateEnvVar replaces v's key, value, targets, branch and comment.
func (s *Store) UpdateEnvVar(ctx context.Context, v *EnvVar) error {
	v.UpdatedAt = now()
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if err := checkNoDuplicate(ctx, tx, v); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE env_vars SET key = ?, sealed_value = ?, value_digest = ?, targets = ?, git_branch = ?, comment = ?, updated_at = ? WHERE id = ? AND project_id = ?`,
			v.Key, v.SealedValue, v.ValueDigest, strings.Join(v.Targets, ","), v.GitBranch, v.Comment, v.UpdatedAt, v.ID, v.ProjectID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return nil
	})
}

// GetEnvVar returns one var of a project.
func (s *Store) GetEnvVar(ctx context.Context, projectID, id string) (*EnvVar, error) {
	return scanEnvVar(s.db.QueryRowContext(ctx, `SELECT `+envColumns+` FROM env_vars WHERE id = ? AND project_id = ?`, id, projectID))
}

// ListEnvVars returns a project's vars by key.
func (s *Store) ListEnvVars(ctx context.Context, projectID string) ([]*EnvVar, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+envColumns+` FROM env_vars WHERE project_id = ? ORDER BY key, created_at`, projectID)
	if err != nil {
		return nil, err
	}
	defer func() { _ = rows.Close() }() // rows.Err() reports a failed read
	var out []*EnvVar
	for rows.Next() {
		v, err := scanEnvVar(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// DeleteEnvVar deletes one var of a project.
func (s *Store) DeleteEnvVar(ctx context.Context, projectID, id string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM env_vars WHERE id = ? AND project_id = ?`, id, projectID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}
