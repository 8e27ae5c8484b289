package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/runspec"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
)

const deploymentColumns = `id, project_id, target, state, hostname, source_digest, files, sealed_env, run_spec, error_message, created_at, ready_at, claimed_by, lease_until,
	git, git_branch, env_digest, build_key, build_of, use_build_cache`

func scanDeployment(row pgx.Row) (*store.Deployment, error) {
	var d store.Deployment
	var files string
	var run, git []byte
	err := row.Scan(&d.ID, &d.ProjectID, &d.Target, &d.State, &d.Hostname, &d.SourceDigest, &files, &d.SealedEnv,
		&run, &d.ErrorMessage, &d.CreatedAt, &d.ReadyAt, &d.ClaimedBy, &d.LeaseUntil,
		&git, &d.GitBranch, &d.EnvDigest, &d.BuildKey, &d.BuildOf, &d.UseBuildCache)
	if err != nil {
		return nil, noRows(err)
	}
	d.Files = []byte(files)
	if run != nil {
		d.Run = &runspec.Spec{}
		if err := json.Unmarshal(run, d.Run); err != nil {
			return nil, fmt.Errorf("deployment %s: read its run spec: %w", d.ID, err)
		}
	}
	if git != nil {
		d.Git = &api.GitCommit{}
		if err := json.Unmarshal(git, d.Git); err != nil {
			return nil, fmt.Errorf("deployment %s: read its git commit: %w", d.ID, err)
		}
	}
	return &d, nil
}

// nullJSON encodes v for a nullable JSON column: NULL for a nil pointer.
func nullJSON[T any](v *T) (any, error) {
	if v == nil {
		return nil, nil
	}
	return json.Marshal(v)
}

// insertDeployment inserts d, in its state, with its own hostname. store.ErrNotFound when its
// project is gone.
func insertDeployment(ctx context.Context, tx pgx.Tx, d *store.Deployment) error {
	run, err := nullJSON(d.Run)
	if err != nil {
		return err
	}
	git, err := nullJSON(d.Git)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO deployments (`+deploymentColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, '', NULL, $13, $14, $15, $16, $17, $18)`,
		d.ID, d.ProjectID, d.Target, d.State, d.Hostname, d.SourceDigest, string(d.Files), d.SealedEnv, run,
		d.ErrorMessage, d.CreatedAt, d.ReadyAt, git, d.GitBranch, d.EnvDigest, d.BuildKey, d.BuildOf, d.UseBuildCache)
	if code, _ := pgCode(err); code == foreignKeyViolation {
		return store.ErrNotFound
	}
	if err != nil {
		return hostnameTaken(err)
	}
	_, err = tx.Exec(ctx, `INSERT INTO hostnames (hostname, project_id, kind, deployment_id) VALUES ($1, $2, 'deployment', $3)`,
		d.Hostname, d.ProjectID, d.ID)
	return hostnameTaken(err)
}

// newestProductionBut selects the id of the newest READY production
// deployment of the project of the hostnames row being updated, leaving out
// the deployment given as parameter $1.
const newestProductionBut = `(SELECT d.id FROM deployments d
	WHERE d.project_id = hostnames.project_id AND d.target = 'production' AND d.state = 'READY' AND d.id <> $1
	ORDER BY d.ready_at DESC, d.created_at DESC LIMIT 1)`

func queryDeployments(ctx context.Context, q querier, where string, args ...any) ([]*store.Deployment, error) {
	return listRows(ctx, q, scanDeployment, `SELECT `+deploymentColumns+` FROM deployments WHERE `+where+` ORDER BY created_at DESC, id`, args...)
}

// EnqueueDeployment inserts d as QUEUED and claims its hostname, unless
// maxQueued deployments are already waiting: then it inserts nothing and
// returns store.ErrQueueFull. store.ErrNotFound when its project is gone.
func (s *Store) EnqueueDeployment(ctx context.Context, d *store.Deployment, maxQueued int) error {
	d.CreatedAt = now()
	d.State = "QUEUED"
	// Under the routes lock, enqueues take turns: two nodes cannot both see room for one more.
	return s.routesTx(ctx, func(tx pgx.Tx) error {
		var queued int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM deployments WHERE state = 'QUEUED'`).Scan(&queued); err != nil {
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
	return s.routesTx(ctx, func(tx pgx.Tx) error {
		if d.BuildOf != "" {
			// FOR SHARE holds off a delete of the rows found until this
			// commits, so the deleter then sees d and keeps the files.
			var found int
			err := tx.QueryRow(ctx, `SELECT 1 FROM deployments WHERE id = $1 OR build_of = $1 LIMIT 1 FOR SHARE`, d.BuildOf).Scan(&found)
			if errors.Is(err, pgx.ErrNoRows) {
				return store.ErrBuildGone
			}
			if err != nil {
				return err
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
	return scanDeployment(s.pool.QueryRow(ctx, `SELECT `+deploymentColumns+` FROM deployments
		WHERE project_id = $1 AND build_key = $2 AND build_key <> '' AND state = 'READY' ORDER BY created_at DESC, id LIMIT 1`, projectID, buildKey))
}

// OutputInUse reports whether deployment id, or a redeploy of it, still exists.
func (s *Store) OutputInUse(ctx context.Context, id string) (bool, error) {
	var inUse bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM deployments WHERE id = $1 OR build_of = $1)`, id).Scan(&inUse)
	return inUse, err
}

// takeHostnames moves the hostnames of moves to d, READY. A branch's hostname serves the newest
// deployment of the branch, whichever of them finished last; one whose name another project
// or kind holds is left to it.
func takeHostnames(ctx context.Context, tx pgx.Tx, d *store.Deployment, moves store.Moves) error {
	if moves.Production {
		if _, err := tx.Exec(ctx, `UPDATE hostnames SET deployment_id = $1 WHERE project_id = $2 AND kind = 'production' AND NOT pinned`, d.ID, d.ProjectID); err != nil {
			return err
		}
	}
	if moves.BranchHost == "" || d.GitBranch == "" {
		return nil
	}
	_, err := tx.Exec(ctx, `INSERT INTO hostnames (hostname, project_id, kind, deployment_id, git_branch) VALUES ($1, $2, 'branch', $3, $4)
		ON CONFLICT DO NOTHING`, moves.BranchHost, d.ProjectID, d.ID, d.GitBranch)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `UPDATE hostnames SET deployment_id = $1 WHERE project_id = $2 AND kind = 'branch' AND git_branch = $3
		AND (deployment_id IS NULL OR (deployment_id <> $1 AND (SELECT created_at FROM deployments WHERE id = hostnames.deployment_id) <= $4))`,
		d.ID, d.ProjectID, d.GitBranch, d.CreatedAt)
	return err
}

// GetDeployment returns a deployment by id.
func (s *Store) GetDeployment(ctx context.Context, id string) (*store.Deployment, error) {
	return scanDeployment(s.pool.QueryRow(ctx, `SELECT `+deploymentColumns+` FROM deployments WHERE id = $1`, id))
}

// ListDeployments returns a project's deployments, newest first.
func (s *Store) ListDeployments(ctx context.Context, projectID string) ([]*store.Deployment, error) {
	return queryDeployments(ctx, s.pool, `project_id = $1`, projectID)
}

// claimAttempts bounds the claims that lose the last build slot of a team to another node's
// claim and try again: each loss is another claim made, so the queue moves meanwhile.
const claimAttempts = 10

// ClaimDeployment claims the oldest deployment waiting to be built (QUEUED,
// or BUILDING under a lease that ran out) for node until leaseUntil, marks it
// BUILDING and returns it; nil when none is waiting. SKIP LOCKED: see the
// package comment. A deployment of a team with as many live claims as caps
// allows its plan is passed over; claims of a capped team lock the team's row
// and count again, so that two nodes cannot both take its last slot.
func (s *Store) ClaimDeployment(ctx context.Context, node string, leaseUntil time.Time, caps store.BuildCaps) (*store.Deployment, error) {
	for range claimAttempts {
		var d *store.Deployment
		err := s.inTx(ctx, func(tx pgx.Tx) error {
			d = nil
			now := time.Now()
			var id, teamID string
			var most int
			err := tx.QueryRow(ctx, `WITH caps AS (SELECT key AS plan, value::int AS most FROM jsonb_each_text($1::jsonb) WHERE value::int > 0),
				busy AS (SELECT p.team_id, COUNT(*) AS builds FROM deployments b JOIN projects p ON p.id = b.project_id
					WHERE b.state = 'BUILDING' AND b.lease_until >= $2 GROUP BY p.team_id)
				SELECT d.id, p.team_id, COALESCE(caps.most, 0) FROM deployments d JOIN projects p ON p.id = d.project_id JOIN teams t ON t.id = p.team_id
					LEFT JOIN caps ON caps.plan = t.plan LEFT JOIN busy ON busy.team_id = p.team_id
				WHERE (d.state = 'QUEUED' OR (d.state = 'BUILDING' AND COALESCE(d.lease_until, '-infinity') < $2))
					AND (caps.most IS NULL OR COALESCE(busy.builds, 0) < caps.most)
				ORDER BY d.created_at, d.id LIMIT 1 FOR UPDATE OF d SKIP LOCKED`, caps.JSON(), now).Scan(&id, &teamID, &most)
			if err != nil {
				return noRows(err)
			}
			if most > 0 {
				// Claims of this team queue here; the count after the lock sees the claims
				// committed before it.
				if _, err := tx.Exec(ctx, `SELECT 1 FROM teams WHERE id = $1 FOR NO KEY UPDATE`, teamID); err != nil {
					return err
				}
				var builds int
				if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM deployments b JOIN projects p ON p.id = b.project_id
					WHERE p.team_id = $1 AND b.state = 'BUILDING' AND b.lease_until >= $2`, teamID, time.Now()).Scan(&builds); err != nil {
					return err
				}
				if builds >= most {
					return nil // another node took the last slot: look again
				}
			}
			d, err = scanDeployment(tx.QueryRow(ctx, `UPDATE deployments SET state = 'BUILDING', claimed_by = $1, lease_until = $2 WHERE id = $3
				RETURNING `+deploymentColumns, node, leaseUntil, id))
			return err
		})
		switch {
		case errors.Is(err, store.ErrNotFound):
			return nil, nil
		case err != nil || d != nil:
			return d, err
		}
	}
	return nil, nil
}

// RenewLease extends node's claim on a building deployment, or returns
// store.ErrNotClaimed when node no longer holds it.
func (s *Store) RenewLease(ctx context.Context, id, node string, leaseUntil time.Time) error {
	tag, err := s.pool.Exec(ctx, `UPDATE deployments SET lease_until = $1 WHERE id = $2 AND claimed_by = $3 AND state = 'BUILDING'`, leaseUntil, id, node)
	return affectedOr(tag, err, store.ErrNotClaimed)
}

// ReleaseDeployment puts a deployment node was building back in the queue.
func (s *Store) ReleaseDeployment(ctx context.Context, id, node string) error {
	tag, err := s.pool.Exec(ctx, `UPDATE deployments SET state = 'QUEUED', claimed_by = '', lease_until = NULL WHERE id = $1 AND claimed_by = $2 AND state = 'BUILDING'`,
		id, node)
	return affectedOr(tag, err, store.ErrNotClaimed)
}

// ReleaseNodeClaims puts every build node claimed back in the queue and returns how many.
func (s *Store) ReleaseNodeClaims(ctx context.Context, node string) (int64, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE deployments SET state = 'QUEUED', claimed_by = '', lease_until = NULL WHERE claimed_by = $1 AND state = 'BUILDING'`, node)
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}

// FailBuild records the end of a build that did not succeed (ERROR, or
// CANCELED) with its message, if node still holds the claim.
func (s *Store) FailBuild(ctx context.Context, id, node, state, errorMessage string) error {
	tag, err := s.pool.Exec(ctx, `UPDATE deployments SET state = $1, error_message = $2, lease_until = NULL WHERE id = $3 AND claimed_by = $4 AND state = 'BUILDING'`,
		state, errorMessage, id, node)
	return affectedOr(tag, err, store.ErrNotClaimed)
}

// CancelDeployment marks a queued or building deployment CANCELED. It
// returns the deployment as it is afterwards, and whether it was canceled now.
func (s *Store) CancelDeployment(ctx context.Context, id string) (*store.Deployment, bool, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE deployments SET state = 'CANCELED', lease_until = NULL WHERE id = $1 AND state IN ('QUEUED', 'BUILDING')`, id)
	if err != nil {
		return nil, false, err
	}
	d, err := s.GetDeployment(ctx, id)
	return d, tag.RowsAffected() > 0, err
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
	return s.routesTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE deployments SET state = 'READY', run_spec = $1, error_message = '', ready_at = $2, lease_until = NULL
			WHERE id = $3 AND claimed_by = $4 AND state = 'BUILDING'`, run, t, d.ID, d.ClaimedBy)
		if err := affectedOr(tag, err, store.ErrNotClaimed); err != nil {
			return err
		}
		d.ReadyAt = &t
		d.State = "READY"
		d.LeaseUntil = nil
		return takeHostnames(ctx, tx, d, moves)
	})
}

// DeleteDeployment deletes a deployment with its hostname. Production
// hostnames that served it fall back to the project's newest other READY
// production deployment, or to nothing, and its branch's hostname to the
// newest other READY deployment of the branch, or is removed, in the same transaction.
func (s *Store) DeleteDeployment(ctx context.Context, id string) error {
	return s.routesTx(ctx, func(tx pgx.Tx) error {
		var pinned bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM hostnames WHERE deployment_id = $1 AND pinned)`, id).Scan(&pinned); err != nil {
			return err
		}
		if pinned {
			return store.ErrPinned
		}
		_, err := tx.Exec(ctx, `UPDATE hostnames SET deployment_id = `+newestProductionBut+` WHERE kind = 'production' AND deployment_id = $1`, id)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE hostnames SET deployment_id = (
				SELECT d.id FROM deployments d
				WHERE d.project_id = hostnames.project_id AND d.git_branch = hostnames.git_branch AND d.state = 'READY' AND d.id <> $1
				ORDER BY d.created_at DESC LIMIT 1)
			WHERE kind = 'branch' AND deployment_id = $1`, id)
		if err != nil {
			return err
		}
		// A branch's own URL goes with its last deployment; a custom domain stays, waiting for the next.
		if _, err := tx.Exec(ctx, `DELETE FROM hostnames WHERE kind = 'branch' AND deployment_id IS NULL AND NOT custom`); err != nil {
			return err
		}
		return oneRow(tx.Exec(ctx, `DELETE FROM deployments WHERE id = $1`, id))
	})
}

// UnconfinedDeployments implements store.Deployments: READY deployments whose run spec gives no uid.
func (s *Store) UnconfinedDeployments(ctx context.Context) ([]*store.Deployment, error) {
	return queryDeployments(ctx, s.pool, `state = 'READY' AND COALESCE((run_spec->>'uid')::bigint, 0) = 0`)
}

// SetRunSpec implements store.Deployments.
func (s *Store) SetRunSpec(ctx context.Context, id string, run *runspec.Spec) error {
	raw, err := json.Marshal(run)
	if err != nil {
		return err
	}
	return oneRow(s.pool.Exec(ctx, `UPDATE deployments SET run_spec = $1 WHERE id = $2 AND state = 'READY'`, raw, id))
}

// QueuedBuilds counts the deployments waiting to be built.
func (s *Store) QueuedBuilds(ctx context.Context) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT COUNT(*) FROM deployments WHERE state = 'QUEUED'`).Scan(&n)
	return n, err
}
