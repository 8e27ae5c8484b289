package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/runspec"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
)

const deploymentColumns = `id, project_id, target, state, hostname, source_digest, files, sealed_env, run_spec, error_message, created_at, ready_at, claimed_by, lease_until,
	git, git_branch, env_digest, build_key, build_of, use_build_cache`

func scanDeployment(row interface{ Scan(...any) error }) (*store.Deployment, error) {
	var d store.Deployment
	var readyAt sql.NullTime
	var leaseUntil sql.NullInt64
	var run, git sql.NullString
	err := row.Scan(&d.ID, &d.ProjectID, &d.Target, &d.State, &d.Hostname, &d.SourceDigest, &d.Files, &d.SealedEnv,
		&run, &d.ErrorMessage, &d.CreatedAt, &readyAt, &d.ClaimedBy, &leaseUntil,
		&git, &d.GitBranch, &d.EnvDigest, &d.BuildKey, &d.BuildOf, &d.UseBuildCache)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if readyAt.Valid {
		d.ReadyAt = &readyAt.Time
	}
	if run.Valid {
		d.Run = &runspec.Spec{}
		if err := json.Unmarshal([]byte(run.String), d.Run); err != nil {
			return nil, fmt.Errorf("deployment %s: read its run spec: %w", d.ID, err)
		}
	}
	if leaseUntil.Valid {
		t := time.UnixMilli(leaseUntil.Int64).UTC()
		d.LeaseUntil = &t
	}
	if git.Valid {
		d.Git = &api.GitCommit{}
		if err := json.Unmarshal([]byte(git.String), d.Git); err != nil {
			return nil, fmt.Errorf("deployment %s: read its git commit: %w", d.ID, err)
		}
	}
	return &d, nil
}

// nullJSON encodes v for a nullable JSON column: NULL for a nil pointer.
func nullJSON[T any](v *T) (sql.NullString, error) {
	if v == nil {
		return sql.NullString{}, nil
	}
	b, err := json.Marshal(v)
	return sql.NullString{String: string(b), Valid: true}, err
}

// insertDeployment inserts d, in its state, with its own hostname. store.ErrNotFound when its
// project is gone.
func insertDeployment(ctx context.Context, tx *sql.Tx, d *store.Deployment) error {
	run, err := nullJSON(d.Run)
	if err != nil {
		return err
	}
	git, err := nullJSON(d.Git)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO deployments (`+deploymentColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', NULL, ?, ?, ?, ?, ?, ?)`,
		d.ID, d.ProjectID, d.Target, d.State, d.Hostname, d.SourceDigest, d.Files, d.SealedEnv, run,
		d.ErrorMessage, d.CreatedAt, d.ReadyAt, git, d.GitBranch, d.EnvDigest, d.BuildKey, d.BuildOf, d.UseBuildCache)
	if err != nil && strings.Contains(err.Error(), "FOREIGN KEY constraint failed") {
		return store.ErrNotFound
	}
	if err != nil {
		return hostnameTaken(err)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO hostnames (hostname, project_id, kind, deployment_id) VALUES (?, ?, 'deployment', ?)`,
		d.Hostname, d.ProjectID, d.ID)
	return hostnameTaken(err)
}

// newestProductionBut selects the id of the newest READY production
// deployment of the project of the hostnames row being updated, leaving out
// the deployment given as its parameter.
const newestProductionBut = `(SELECT d.id FROM deployments d
	WHERE d.project_id = hostnames.project_id AND d.target = 'production' AND d.state = 'READY' AND d.id <> ?
	ORDER BY d.ready_at DESC, d.created_at DESC LIMIT 1)`

// queryer is a *sql.DB or a *sql.Tx.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func queryDeployments(ctx context.Context, q queryer, where string, args ...any) ([]*store.Deployment, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+deploymentColumns+` FROM deployments WHERE `+where+` ORDER BY created_at DESC, id`, args...)
	if err != nil {
		return nil, err
	}
	defer func() { _ = rows.Close() }() // rows.Err() reports a failed read
	var out []*store.Deployment
	for rows.Next() {
		d, err := scanDeployment(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// EnqueueDeployment inserts d as QUEUED and claims its hostname, unless
// maxQueued deployments are already waiting: then it inserts nothing and
// returns store.ErrQueueFull. store.ErrNotFound when its project is gone.
func (s *Store) EnqueueDeployment(ctx context.Context, d *store.Deployment, maxQueued int) error {
	d.CreatedAt = now()
	d.State = "QUEUED"
	return s.inTx(ctx, func(tx *sql.Tx) error {
		var queued int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM deployments WHERE state = 'QUEUED'`).Scan(&queued); err != nil {
			return err
		}
		if queued >= maxQueued {
			return fmt.Errorf("%w: %d deployments are waiting to be built", store.ErrQueueFull, queued)
		}
		return insertDeployment(ctx, tx, d)
	})
}

// InsertReady inserts d READY with its run spec, claims its hostname and moves the hostnames
// of moves to it, in one transaction.
func (s *Store) InsertReady(ctx context.Context, d *store.Deployment, moves store.Moves) error {
	if d.Run == nil {
		return fmt.Errorf("deployment %s: ready without a run spec", d.ID)
	}
	t := now()
	d.CreatedAt, d.ReadyAt, d.State = t, &t, "READY"
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if d.BuildOf != "" {
			inUse, err := outputInUse(ctx, tx, d.BuildOf)
			if err != nil {
				return err
			}
			if !inUse {
				return store.ErrBuildGone
			}
		}
		if err := insertDeployment(ctx, tx, d); err != nil {
			return err
		}
		return takeHostnames(ctx, tx, d, moves)
	})
}

// FindBuild returns the newest READY deployment of a project built with buildKey.
func (s *Store) FindBuild(ctx context.Context, projectID, buildKey string) (*store.Deployment, error) {
	return scanDeployment(s.db.QueryRowContext(ctx, `SELECT `+deploymentColumns+` FROM deployments
		WHERE project_id = ? AND build_key = ? AND build_key <> '' AND state = 'READY' ORDER BY created_at DESC, id LIMIT 1`, projectID, buildKey))
}

// OutputInUse reports whether deployment id, or a redeploy of it, still exists.
func (s *Store) OutputInUse(ctx context.Context, id string) (bool, error) {
	return outputInUse(ctx, s.db, id)
}

func outputInUse(ctx context.Context, q queryer, id string) (bool, error) {
	var inUse bool
	err := q.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM deployments WHERE id = ? OR build_of = ?)`, id, id).Scan(&inUse)
	return inUse, err
}

// takeHostnames moves the hostnames of moves to d, READY. A branch's hostname serves the newest
// deployment of the branch, whichever of them finished last; one whose name another project
// or kind holds is left to it.
func takeHostnames(ctx context.Context, tx *sql.Tx, d *store.Deployment, moves store.Moves) error {
	if moves.Production {
		if _, err := tx.ExecContext(ctx, `UPDATE hostnames SET deployment_id = ? WHERE project_id = ? AND kind = 'production' AND pinned = 0`, d.ID, d.ProjectID); err != nil {
			return err
		}
	}
	if moves.BranchHost == "" || d.GitBranch == "" {
		return nil
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO hostnames (hostname, project_id, kind, deployment_id, git_branch) VALUES (?, ?, 'branch', ?, ?)
		ON CONFLICT DO NOTHING`, moves.BranchHost, d.ProjectID, d.ID, d.GitBranch)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `UPDATE hostnames SET deployment_id = ? WHERE project_id = ? AND kind = 'branch' AND git_branch = ?
		AND (deployment_id IS NULL OR (deployment_id <> ? AND (SELECT created_at FROM deployments WHERE id = hostnames.deployment_id) <= ?))`,
		d.ID, d.ProjectID, d.GitBranch, d.ID, d.CreatedAt)
	return err
}

// GetDeployment returns a deployment by id.
func (s *Store) GetDeployment(ctx context.Context, id string) (*store.Deployment, error) {
	return scanDeployment(s.db.QueryRowContext(ctx, `SELECT `+deploymentColumns+` FROM deployments WHERE id = ?`, id))
}

// ListDeployments returns a project's deployments, newest first.
func (s *Store) ListDeployments(ctx context.Context, projectID string) ([]*store.Deployment, error) {
	return queryDeployments(ctx, s.db, `project_id = ?`, projectID)
}

// ClaimDeployment claims the oldest deployment waiting to be built (QUEUED,
// or BUILDING under a lease that ran out) for node until leaseUntil, marks it
// BUILDING and returns it; nil when none is waiting. A deployment of a team
// with as many live claims as caps allows its plan is passed over. The claim
// is one UPDATE, and SQLite runs one writer at a time, so two workers (or
// nodes) never claim the same row nor pass a team's cap together.
func (s *Store) ClaimDeployment(ctx context.Context, node string, leaseUntil time.Time, caps store.BuildCaps) (*store.Deployment, error) {
	nowMilli := time.Now().UnixMilli()
	// The outer WHERE repeats the condition so that the statement stays
	// correct on a database whose subquery can see a row another claim is
	// updating (PostgreSQL under READ COMMITTED).
	d, err := scanDeployment(s.db.QueryRowContext(ctx, `WITH caps(plan, most) AS (SELECT key, value FROM json_each(?) WHERE value > 0),
		full(team_id) AS (SELECT p.team_id FROM deployments b JOIN projects p ON p.id = b.project_id JOIN teams t ON t.id = p.team_id JOIN caps ON caps.plan = t.plan
			WHERE b.state = 'BUILDING' AND b.lease_until >= ? GROUP BY p.team_id, caps.most HAVING COUNT(*) >= caps.most)
		UPDATE deployments SET state = 'BUILDING', claimed_by = ?, lease_until = ?
		WHERE id = (SELECT d.id FROM deployments d JOIN projects p ON p.id = d.project_id
			WHERE (d.state = 'QUEUED' OR (d.state = 'BUILDING' AND COALESCE(d.lease_until, 0) < ?)) AND p.team_id NOT IN (SELECT team_id FROM full)
			ORDER BY d.created_at, d.id LIMIT 1)
		AND (state = 'QUEUED' OR (state = 'BUILDING' AND COALESCE(lease_until, 0) < ?))
		RETURNING `+deploymentColumns, caps.JSON(), nowMilli, node, leaseUntil.UnixMilli(), nowMilli, nowMilli))
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return d, err
}

// RenewLease extends node's claim on a building deployment, or returns
// store.ErrNotClaimed when node no longer holds it.
func (s *Store) RenewLease(ctx context.Context, id, node string, leaseUntil time.Time) error {
	res, err := s.db.ExecContext(ctx, `UPDATE deployments SET lease_until = ? WHERE id = ? AND claimed_by = ? AND state = 'BUILDING'`,
		leaseUntil.UnixMilli(), id, node)
	return affectedOr(res, err, store.ErrNotClaimed)
}

// ReleaseDeployment puts a deployment node was building back in the queue,
// for a build interrupted by the engine stopping.
func (s *Store) ReleaseDeployment(ctx context.Context, id, node string) error {
	res, err := s.db.ExecContext(ctx, `UPDATE deployments SET state = 'QUEUED', claimed_by = '', lease_until = NULL WHERE id = ? AND claimed_by = ? AND state = 'BUILDING'`,
		id, node)
	return affectedOr(res, err, store.ErrNotClaimed)
}

// ReleaseNodeClaims puts every build node claimed back in the queue and
// returns how many. Called when node starts: its previous run is gone, so
// its builds need not wait for their leases to run out.
func (s *Store) ReleaseNodeClaims(ctx context.Context, node string) (int64, error) {
	return rowsAffected(s.db.ExecContext(ctx, `UPDATE deployments SET state = 'QUEUED', claimed_by = '', lease_until = NULL WHERE claimed_by = ? AND state = 'BUILDING'`, node))
}

// FailBuild records the end of a build that did not succeed (ERROR, or
// CANCELED) with its message, if node still holds the claim.
func (s *Store) FailBuild(ctx context.Context, id, node, state, errorMessage string) error {
	res, err := s.db.ExecContext(ctx, `UPDATE deployments SET state = ?, error_message = ?, lease_until = NULL WHERE id = ? AND claimed_by = ? AND state = 'BUILDING'`,
		state, errorMessage, id, node)
	return affectedOr(res, err, store.ErrNotClaimed)
}

// CancelDeployment marks a queued or building deployment CANCELED. It
// returns the deployment as it is afterwards, and whether it was canceled
// now (false: it had already finished).
func (s *Store) CancelDeployment(ctx context.Context, id string) (*store.Deployment, bool, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE deployments SET state = 'CANCELED', lease_until = NULL WHERE id = ? AND state IN ('QUEUED', 'BUILDING')`, id)
	if err != nil {
		return nil, false, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return nil, false, err
	}
	d, err := s.GetDeployment(ctx, id)
	return d, n > 0, err
}

// affectedOr returns none when a statement changed no row, and its error if it failed.
func affectedOr(res sql.Result, err, none error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return none
	}
	return nil
}

// MarkReady records a successful build, if d.ClaimedBy still holds its
// claim (else store.ErrNotClaimed), and moves the hostnames of moves to it in
// the same transaction, so traffic switches at once.
func (s *Store) MarkReady(ctx context.Context, d *store.Deployment, moves store.Moves) error {
	if d.Run == nil {
		return fmt.Errorf("deployment %s: ready without a run spec", d.ID)
	}
	run, err := json.Marshal(d.Run)
	if err != nil {
		return err
	}
	t := now()
	return s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE deployments SET state = 'READY', run_spec = ?, error_message = '', ready_at = ?, lease_until = NULL WHERE id = ? AND claimed_by = ? AND state = 'BUILDING'`,
			string(run), t, d.ID, d.ClaimedBy)
		if err := affectedOr(res, err, store.ErrNotClaimed); err != nil {
			return err
		}
		d.ReadyAt = &t
		d.State = "READY"
		d.LeaseUntil = nil
		return takeHostnames(ctx, tx, d, moves)
	})
}

// DeleteDeployment deletes a deployment with its hostname. Production
// aliases that served it fall back to the project's newest other READY
// production deployment, or to nothing, in the same transaction.
func (s *Store) DeleteDeployment(ctx context.Context, id string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		var pinned int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM hostnames WHERE deployment_id = ? AND pinned = 1`, id).Scan(&pinned); err != nil {
			return err
		}
		if pinned > 0 {
			return store.ErrPinned
		}
		_, err := tx.ExecContext(ctx, `UPDATE hostnames SET deployment_id = `+newestProductionBut+`
			WHERE kind = 'production' AND deployment_id = ?`, id, id)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE hostnames SET deployment_id = (
				SELECT d.id FROM deployments d
				WHERE d.project_id = hostnames.project_id AND d.git_branch = hostnames.git_branch AND d.state = 'READY' AND d.id <> ?
				ORDER BY d.created_at DESC LIMIT 1)
			WHERE kind = 'branch' AND deployment_id = ?`, id, id)
		if err != nil {
			return err
		}
		// A branch's own URL goes with its last deployment; a custom domain stays, waiting for the next.
		if _, err := tx.ExecContext(ctx, `DELETE FROM hostnames WHERE kind = 'branch' AND deployment_id IS NULL AND custom = 0`); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM deployments WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.ErrNotFound
		}
		return nil
	})
}

// QueuedBuilds counts the deployments waiting to be built.
func (s *Store) QueuedBuilds(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM deployments WHERE state = 'QUEUED'`).Scan(&n)
	return n, err
}
