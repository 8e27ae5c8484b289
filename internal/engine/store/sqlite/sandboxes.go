package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/runspec"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
)

// ProjectUID returns the uid a project's builds and instances run as, allocating the next one
// of [first, last] on first use. Uids are handed out in order and never reused.
func (s *Store) ProjectUID(ctx context.Context, projectID string, first, last int) (int, error) {
	var uid int
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT uid FROM project_sandboxes WHERE project_id = ?`, projectID).Scan(&uid)
		if err == nil || !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		var highest sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT MAX(uid) FROM project_sandboxes WHERE uid BETWEEN ? AND ?`, first, last).Scan(&highest); err != nil {
			return err
		}
		uid = first
		if highest.Valid {
			uid = int(highest.Int64) + 1
		}
		if uid > last {
			return fmt.Errorf("%w (%d-%d): give the engine a wider range", store.ErrUIDsExhausted, first, last)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO project_sandboxes (project_id, uid) VALUES (?, ?)`, projectID, uid)
		return err
	})
	return uid, err
}

// ProjectLimits returns the limits set on a project; nil when none are.
func (s *Store) ProjectLimits(ctx context.Context, projectID string) (*api.Limits, error) {
	var raw string
	err := s.db.QueryRowContext(ctx, `SELECT limits FROM project_limits WHERE project_id = ?`, projectID).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var l api.Limits
	if err := json.Unmarshal([]byte(raw), &l); err != nil {
		return nil, fmt.Errorf("project %s limits: %w", projectID, err)
	}
	return &l, nil
}

// SetProjectLimits sets (or, with nil, clears) a project's limits.
func (s *Store) SetProjectLimits(ctx context.Context, projectID string, l *api.Limits) error {
	if l == nil {
		_, err := s.db.ExecContext(ctx, `DELETE FROM project_limits WHERE project_id = ?`, projectID)
		return err
	}
	raw, err := json.Marshal(l)
	if err != nil {
		return err
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO project_limits (project_id, limits) VALUES (?, ?)
		ON CONFLICT (project_id) DO UPDATE SET limits = excluded.limits`, projectID, string(raw))
	return err
}

// UnconfinedDeployments implements store.Deployments: READY deployments whose run spec gives no uid.
func (s *Store) UnconfinedDeployments(ctx context.Context) ([]*store.Deployment, error) {
	return queryDeployments(ctx, s.db, `state = 'READY' AND COALESCE(json_extract(run_spec, '$.uid'), 0) = 0`)
}

// SetRunSpec implements store.Deployments.
func (s *Store) SetRunSpec(ctx context.Context, id string, run *runspec.Spec) error {
	raw, err := json.Marshal(run)
	if err != nil {
		return err
	}
	res, err := s.db.ExecContext(ctx, `UPDATE deployments SET run_spec = ? WHERE id = ? AND state = 'READY'`, string(raw), id)
	return affectedOr(res, err, store.ErrNotFound)
}
