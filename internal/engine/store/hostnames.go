package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
)

// Kinds of hostnames.
const (
	HostDeployment = "deployment" // a deployment's own host; never moves
	HostProduction = "production" // a project's production alias; moves on promote, rename and delete
)

// Route is one hostname and what it serves.
type Route struct {
	Hostname    string
	Kind        string
	ProjectName string
	Deployment  *Deployment       // the READY deployment it serves; nil when there is none
	Sandbox     DeploymentSandbox // how Deployment's instances are confined
}

// Routes is everything the edge serves, as of one version of the store.
type Routes struct {
	Version int64 // goes up with every change to what is served
	Routes  []Route
}

// hostnameTaken maps a unique violation on a hostname to ErrHostnameTaken.
func hostnameTaken(err error) error {
	if isUniqueViolation(err) && (strings.Contains(err.Error(), "hostnames.hostname") || strings.Contains(err.Error(), "deployments.hostname")) {
		return ErrHostnameTaken
	}
	return err
}

// RoutesVersion returns the version of what is served now.
func (s *Store) RoutesVersion(ctx context.Context) (int64, error) {
	var v int64
	err := s.db.QueryRowContext(ctx, `SELECT version FROM routes_version`).Scan(&v)
	return v, err
}

// ReadRoutes returns every hostname with what it serves, read in one
// transaction so that the result is one consistent version.
func (s *Store) ReadRoutes(ctx context.Context) (*Routes, error) {
	out := &Routes{}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT version FROM routes_version`).Scan(&out.Version); err != nil {
			return err
		}
		ready, err := queryDeployments(ctx, tx, `state = 'READY' AND id IN (SELECT deployment_id FROM hostnames)`)
		if err != nil {
			return err
		}
		sandboxes, err := deploymentSandboxes(ctx, tx)
		if err != nil {
			return err
		}
		byID := make(map[string]*Deployment, len(ready))
		for _, d := range ready {
			byID[d.ID] = d
		}
		rows, err := tx.QueryContext(ctx, `SELECT h.hostname, h.kind, p.name, COALESCE(h.deployment_id, '')
			FROM hostnames h JOIN projects p ON p.id = h.project_id`)
		if err != nil {
			return err
		}
		defer func() { _ = rows.Close() }() // rows.Err() reports a failed read
		for rows.Next() {
			var r Route
			var deploymentID string
			if err := rows.Scan(&r.Hostname, &r.Kind, &r.ProjectName, &deploymentID); err != nil {
				return err
			}
			r.Deployment = byID[deploymentID]
			r.Sandbox = sandboxes[deploymentID]
			out.Routes = append(out.Routes, r)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ProductionDeploymentID returns the deployment the project's production alias serves, or "".
func (s *Store) ProductionDeploymentID(ctx context.Context, projectID string) (string, error) {
	var id string
	err := s.db.QueryRowContext(ctx, `SELECT COALESCE(deployment_id, '') FROM hostnames WHERE project_id = ? AND kind = 'production' LIMIT 1`, projectID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return id, err
}
