package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"
)

// Deployment is a stored deployment. Files is the JSON file list; SealedEnv
// the frozen env, sealed.
type Deployment struct {
	ID           string
	ProjectID    string
	Target       string
	State        string
	Hostname     string
	SourceDigest string
	Files        []byte
	SealedEnv    []byte
	AppDir       string
	Python       string
	Entrypoint   string
	Kind         string
	ErrorMessage string
	CreatedAt    time.Time
	ReadyAt      *time.Time
}

const deploymentColumns = `id, project_id, target, state, hostname, source_digest, files, sealed_env, app_dir, python, entrypoint, kind, error_message, created_at, ready_at`

func scanDeployment(row interface{ Scan(...any) error }) (*Deployment, error) {
	var d Deployment
	var readyAt sql.NullTime
	err := row.Scan(&d.ID, &d.ProjectID, &d.Target, &d.State, &d.Hostname, &d.SourceDigest, &d.Files, &d.SealedEnv,
		&d.AppDir, &d.Python, &d.Entrypoint, &d.Kind, &d.ErrorMessage, &d.CreatedAt, &readyAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if readyAt.Valid {
		d.ReadyAt = &readyAt.Time
	}
	return &d, nil
}

// queryer is a *sql.DB or a *sql.Tx.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func queryDeployments(ctx context.Context, q queryer, where string, args ...any) ([]*Deployment, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+deploymentColumns+` FROM deployments WHERE `+where+` ORDER BY created_at DESC, id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Deployment
	for rows.Next() {
		d, err := scanDeployment(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// CreateDeployment inserts d and claims its hostname; ErrNotFound when its
// project is gone.
func (s *Store) CreateDeployment(ctx context.Context, d *Deployment) error {
	d.CreatedAt = now()
	return s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO deployments (`+deploymentColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			d.ID, d.ProjectID, d.Target, d.State, d.Hostname, d.SourceDigest, d.Files, d.SealedEnv,
			d.AppDir, d.Python, d.Entrypoint, d.Kind, d.ErrorMessage, d.CreatedAt, d.ReadyAt)
		if err != nil && strings.Contains(err.Error(), "FOREIGN KEY constraint failed") {
			return ErrNotFound
		}
		if err != nil {
			return hostnameTaken(err)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO hostnames (hostname, project_id, kind, deployment_id) VALUES (?, ?, 'deployment', ?)`,
			d.Hostname, d.ProjectID, d.ID)
		return hostnameTaken(err)
	})
}

// GetDeployment returns a deployment by id.
func (s *Store) GetDeployment(ctx context.Context, id string) (*Deployment, error) {
	return scanDeployment(s.db.QueryRowContext(ctx, `SELECT `+deploymentColumns+` FROM deployments WHERE id = ?`, id))
}

// ListDeployments returns a project's deployments, newest first.
func (s *Store) ListDeployments(ctx context.Context, projectID string) ([]*Deployment, error) {
	return queryDeployments(ctx, s.db, `project_id = ?`, projectID)
}

// UnfinishedDeployments returns deployments still queued or building, for
// resuming after a restart.
func (s *Store) UnfinishedDeployments(ctx context.Context) ([]*Deployment, error) {
	return queryDeployments(ctx, s.db, `state IN ('QUEUED', 'BUILDING')`)
}

// SetDeploymentState records a state change (and an error message for ERROR).
func (s *Store) SetDeploymentState(ctx context.Context, id, state, errorMessage string) error {
	res, err := s.db.ExecContext(ctx, `UPDATE deployments SET state = ?, error_message = ? WHERE id = ?`, state, errorMessage, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// MarkReady records a successful build and, for a production deployment,
// moves the project's production aliases to it in the same transaction, so
// traffic switches at once.
func (s *Store) MarkReady(ctx context.Context, d *Deployment, moveProduction bool) error {
	t := now()
	d.ReadyAt = &t
	d.State = "READY"
	return s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE deployments SET state = 'READY', app_dir = ?, python = ?, entrypoint = ?, kind = ?, error_message = '', ready_at = ? WHERE id = ?`,
			d.AppDir, d.Python, d.Entrypoint, d.Kind, t, d.ID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		if moveProduction {
			_, err = tx.ExecContext(ctx, `UPDATE hostnames SET deployment_id = ? WHERE project_id = ? AND kind = 'production'`, d.ID, d.ProjectID)
		}
		return err
	})
}

// DeleteDeployment deletes a deployment with its hostname. Production
// aliases that served it fall back to the project's newest other READY
// production deployment, or to nothing, in the same transaction.
func (s *Store) DeleteDeployment(ctx context.Context, id string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE hostnames SET deployment_id = (
				SELECT d.id FROM deployments d
				WHERE d.project_id = hostnames.project_id AND d.target = 'production' AND d.state = 'READY' AND d.id <> ?
				ORDER BY d.ready_at DESC, d.created_at DESC LIMIT 1)
			WHERE kind = 'production' AND deployment_id = ?`, id, id)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM deployments WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return nil
	})
}
