package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
)

// ownProductionHost selects, among a project's hostnames, its own production
// host (<name>.<base domain>), which its custom domains are not.
const ownProductionHost = `kind = 'production' AND NOT custom`

// RoutesVersion returns the version of what is served now.
func (s *Store) RoutesVersion(ctx context.Context) (int64, error) {
	var v int64
	err := s.pool.QueryRow(ctx, `SELECT version FROM routes_version`).Scan(&v)
	return v, err
}

// ReadRoutes returns every hostname with what it serves, read in one
// REPEATABLE READ transaction: one snapshot, so that the version and the
// rows agree.
func (s *Store) ReadRoutes(ctx context.Context) (*store.Routes, error) {
	out := &store.Routes{}
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT version FROM routes_version`).Scan(&out.Version); err != nil {
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
		out.Routes, err = listRows(ctx, tx, func(row pgx.Row) (store.Route, error) {
			var r store.Route
			var deploymentID string
			var isDomain bool
			var domain store.RouteDomain
			protection := store.PreviewProtection{}
			if err := row.Scan(&r.Hostname, &r.Kind, &r.ProjectName, &deploymentID, &isDomain, &domain.Verified, &domain.Redirect, &domain.RedirectStatus,
				&protection.ProjectID, &protection.SealedPassword, &protection.PasswordDigest, &protection.SealedBypass, &protection.BypassDigest); err != nil {
				return r, err
			}
			if isDomain {
				r.Domain = &domain
			}
			if protection.ProjectID != "" {
				r.Protection = &protection
			}
			r.Deployment = byID[deploymentID]
			return r, nil
		}, `SELECT h.hostname, h.kind, p.name, COALESCE(h.deployment_id, ''),
				d.name IS NOT NULL, d.verified_at IS NOT NULL, COALESCE(d.redirect, ''), COALESCE(d.redirect_status, 0),
				COALESCE(pp.project_id, ''), COALESCE(pp.sealed_password, ''), COALESCE(pp.password_digest, ''), pp.sealed_bypass, COALESCE(pp.bypass_digest, '')
			FROM hostnames h JOIN projects p ON p.id = h.project_id LEFT JOIN domains d ON d.name = h.hostname
			LEFT JOIN preview_protection pp ON pp.project_id = h.project_id`)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ProductionDeploymentID returns the deployment the project's production host serves, or "".
func (s *Store) ProductionDeploymentID(ctx context.Context, projectID string) (string, error) {
	var id string
	err := s.pool.QueryRow(ctx, `SELECT COALESCE(deployment_id, '') FROM hostnames WHERE project_id = $1 AND `+ownProductionHost+` LIMIT 1`, projectID).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	return id, err
}

// ServedDeployments returns the deployments a production or branch hostname serves.
func (s *Store) ServedDeployments(ctx context.Context) (map[string]bool, error) {
	ids, err := queryStrings(ctx, s.pool, `SELECT DISTINCT deployment_id FROM hostnames WHERE kind <> 'deployment' AND deployment_id IS NOT NULL`)
	served := make(map[string]bool, len(ids))
	for _, id := range ids {
		served[id] = true
	}
	return served, err
}

// ReferencedDigests returns the digest of every file that some deployment
// lists, whatever its state, and of every build output archive a run spec
// names: the blobs that must be kept.
func (s *Store) ReferencedDigests(ctx context.Context) (map[string]bool, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, files, run_spec FROM deployments`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	referenced := map[string]bool{}
	for rows.Next() {
		var id, files string
		var run []byte
		if err := rows.Scan(&id, &files, &run); err != nil {
			return nil, err
		}
		var list []struct {
			Digest string `json:"digest"`
		}
		if err := json.Unmarshal([]byte(files), &list); err != nil {
			// Keeping every blob is safe; deleting on a misread list is not.
			return nil, fmt.Errorf("read the file list of deployment %s: %w", id, err)
		}
		for _, f := range list {
			referenced[f.Digest] = true
		}
		if output, err := store.RunOutput(run); err != nil {
			return nil, fmt.Errorf("read the run spec of deployment %s: %w", id, err)
		} else if output != "" {
			referenced[output] = true
		}
	}
	return referenced, rows.Err()
}

// SealedSample returns one value sealed with the engine's key, or nil when
// the store holds none.
func (s *Store) SealedSample(ctx context.Context) ([]byte, error) {
	var sealed []byte
	err := s.pool.QueryRow(ctx, `SELECT sealed FROM (
		SELECT sealed_value AS sealed FROM env_vars
		UNION ALL SELECT sealed_secrets FROM integrations
		UNION ALL SELECT sealed_env FROM deployments
		UNION ALL SELECT sealed_password FROM preview_protection
	) AS s LIMIT 1`).Scan(&sealed)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	return sealed, err
}

// ForgetUnkeyedDigests blanks stored value digests that do not start with keyedPrefix.
func (s *Store) ForgetUnkeyedDigests(ctx context.Context, keyedPrefix string) error {
	_, err := s.pool.Exec(ctx, `UPDATE env_vars SET value_digest = '' WHERE NOT starts_with(value_digest, $1)`, keyedPrefix)
	return err
}
