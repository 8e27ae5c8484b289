package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
)

// hostnameTaken maps a unique violation on a hostname to store.ErrHostnameTaken.
func hostnameTaken(err error) error {
	if isUniqueViolation(err) && (strings.Contains(err.Error(), "hostnames.hostname") || strings.Contains(err.Error(), "deployments.hostname")) {
		return store.ErrHostnameTaken
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
func (s *Store) ReadRoutes(ctx context.Context) (*store.Routes, error) {
	out := &store.Routes{}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT version FROM routes_version`).Scan(&out.Version); err != nil {
			return err
		}
		ready, err := queryDeployments(ctx, tx, `state = 'READY' AND id IN (SELECT deployment_id FROM hostnames)`)
		if err != nil {
			return err
		}
		byID := make(map[string]*store.Deployment, len(ready))
		for _, d := range ready {
			byID[d.ID] = d
		}
		rows, err := tx.QueryContext(ctx, `SELECT h.hostname, h.kind, p.name, COALESCE(h.deployment_id, ''),
				d.name IS NOT NULL, d.verified_at IS NOT NULL, COALESCE(d.redirect, ''), COALESCE(d.redirect_status, 0),
				COALESCE(pp.project_id, ''), COALESCE(pp.sealed_password, ''), COALESCE(pp.password_digest, ''), pp.sealed_bypass, COALESCE(pp.bypass_digest, '')
			FROM hostnames h JOIN projects p ON p.id = h.project_id LEFT JOIN domains d ON d.name = h.hostname
			LEFT JOIN preview_protection pp ON pp.project_id = h.project_id`)
		if err != nil {
			return err
		}
		defer func() { _ = rows.Close() }() // rows.Err() reports a failed read
		for rows.Next() {
			var r store.Route
			var deploymentID string
			var isDomain bool
			var domain store.RouteDomain
			protection := store.PreviewProtection{}
			if err := rows.Scan(&r.Hostname, &r.Kind, &r.ProjectName, &deploymentID, &isDomain, &domain.Verified, &domain.Redirect, &domain.RedirectStatus,
				&protection.ProjectID, &protection.SealedPassword, &protection.PasswordDigest, &protection.SealedBypass, &protection.BypassDigest); err != nil {
				return err
			}
			if isDomain {
				r.Domain = &domain
			}
			if protection.ProjectID != "" {
				r.Protection = &protection
			}
			r.Deployment = byID[deploymentID]
			out.Routes = append(out.Routes, r)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ownProductionHost selects, among a project's hostnames, its own production
// host (<name>.<base domain>), which its custom domains are not.
const ownProductionHost = `kind = 'production' AND custom = 0`

// ProductionDeploymentID returns the deployment the project's production alias serves, or "".
func (s *Store) ProductionDeploymentID(ctx context.Context, projectID string) (string, error) {
	var id string
	err := s.db.QueryRowContext(ctx, `SELECT COALESCE(deployment_id, '') FROM hostnames WHERE project_id = ? AND `+ownProductionHost+` LIMIT 1`, projectID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return id, err
}

// ServedDeployments returns the deployments a production or branch hostname serves.
func (s *Store) ServedDeployments(ctx context.Context) (map[string]bool, error) {
	ids, err := queryStrings(ctx, s.db, `SELECT DISTINCT deployment_id FROM hostnames WHERE kind <> 'deployment' AND deployment_id IS NOT NULL`)
	served := make(map[string]bool, len(ids))
	for _, id := range ids {
		served[id] = true
	}
	return served, err
}
