package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
)

// ErrUIDsExhausted means every uid of the sandbox range has been given to a project.
var ErrUIDsExhausted = errors.New("every uid of the sandbox range is taken")

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
			return fmt.Errorf("%w (%d-%d): give the engine a wider range", ErrUIDsExhausted, first, last)
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

// DeploymentSandbox is how a built deployment's instances are confined, frozen at build time.
type DeploymentSandbox struct {
	UID    int
	Limits api.Limits
}

// SetDeploymentSandbox records how a deployment's instances run.
func (s *Store) SetDeploymentSandbox(ctx context.Context, deploymentID string, sb DeploymentSandbox) error {
	raw, err := json.Marshal(sb.Limits)
	if err != nil {
		return err
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO deployment_sandboxes (deployment_id, uid, limits) VALUES (?, ?, ?)
		ON CONFLICT (deployment_id) DO UPDATE SET uid = excluded.uid, limits = excluded.limits`, deploymentID, sb.UID, string(raw))
	return err
}

// deploymentSandboxes returns the sandbox of every deployment that has one, by deployment id.
func deploymentSandboxes(ctx context.Context, q queryer) (map[string]DeploymentSandbox, error) {
	rows, err := q.QueryContext(ctx, `SELECT deployment_id, uid, limits FROM deployment_sandboxes`)
	if err != nil {
		return nil, err
	}
	defer func() { _ = rows.Close() }() // rows.Err() reports a failed read
	out := map[string]DeploymentSandbox{}
	for rows.Next() {
		var id, raw string
		var sb DeploymentSandbox
		if err := rows.Scan(&id, &sb.UID, &raw); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(raw), &sb.Limits); err != nil {
			return nil, fmt.Errorf("deployment %s limits: %w", id, err)
		}
		out[id] = sb
	}
	return out, rows.Err()
}

// UnconfinedDeployments returns the READY deployments that have no sandbox recorded: those built
// before engines confined their instances.
func (s *Store) UnconfinedDeployments(ctx context.Context) ([]*Deployment, error) {
	return queryDeployments(ctx, s.db, `state = 'READY' AND id NOT IN (SELECT deployment_id FROM deployment_sandboxes)`)
}
