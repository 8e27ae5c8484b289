package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
)

// PinAlias implements store.Aliases.
func (s *Store) PinAlias(ctx context.Context, projectID, hostname, deploymentID string) error {
	return s.routesTx(ctx, func(tx pgx.Tx) error {
		var state string
		err := tx.QueryRow(ctx, `SELECT state FROM deployments WHERE id = $1 AND project_id = $2`, deploymentID, projectID).Scan(&state)
		if err != nil {
			return noRows(err)
		}
		if state != "READY" {
			return store.ErrNotReady
		}
		tag, err := tx.Exec(ctx, `UPDATE hostnames SET deployment_id = $1, pinned = true
			WHERE project_id = $2 AND kind = 'production' AND ($3 = '' OR hostname = $3)`, deploymentID, projectID, hostname)
		return affectedOr(tag, err, store.ErrNotFound)
	})
}

// UnpinAlias implements store.Aliases.
func (s *Store) UnpinAlias(ctx context.Context, projectID, hostname string) error {
	return s.routesTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE hostnames SET pinned = false, deployment_id = `+newestProductionBut+`
			WHERE project_id = $2 AND kind = 'production' AND ($3 = '' OR hostname = $3)`, "", projectID, hostname)
		return affectedOr(tag, err, store.ErrNotFound)
	})
}

// ListAliases implements store.Aliases.
func (s *Store) ListAliases(ctx context.Context, projectID string) ([]store.Alias, error) {
	return listRows(ctx, s.pool, func(row pgx.Row) (store.Alias, error) {
		var a store.Alias
		err := row.Scan(&a.Hostname, &a.DeploymentID, &a.Pinned)
		return a, err
	}, `SELECT hostname, COALESCE(deployment_id, ''), pinned FROM hostnames WHERE project_id = $1 AND kind = 'production' ORDER BY hostname`, projectID)
}
