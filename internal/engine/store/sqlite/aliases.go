package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
)

// PinAlias implements store.Aliases.
func (s *Store) PinAlias(ctx context.Context, projectID, hostname, deploymentID string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		var state string
		err := tx.QueryRowContext(ctx, `SELECT state FROM deployments WHERE id = ? AND project_id = ?`, deploymentID, projectID).Scan(&state)
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		if state != "READY" {
			return store.ErrNotReady
		}
		res, err := tx.ExecContext(ctx, `UPDATE hostnames SET deployment_id = ?, pinned = 1
			WHERE project_id = ? AND kind = 'production' AND (? = '' OR hostname = ?)`, deploymentID, projectID, hostname, hostname)
		return affectedOr(res, err, store.ErrNotFound)
	})
}

// UnpinAlias implements store.Aliases.
func (s *Store) UnpinAlias(ctx context.Context, projectID, hostname string) error {
	res, err := s.db.ExecContext(ctx, `UPDATE hostnames SET pinned = 0, deployment_id = `+newestProductionBut+`
		WHERE project_id = ? AND kind = 'production' AND (? = '' OR hostname = ?)`, "", projectID, hostname, hostname)
	return affectedOr(res, err, store.ErrNotFound)
}

// ListAliases implements store.Aliases.
func (s *Store) ListAliases(ctx context.Context, projectID string) ([]store.Alias, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT hostname, COALESCE(deployment_id, ''), pinned FROM hostnames
		WHERE project_id = ? AND kind = 'production' ORDER BY hostname`, projectID)
	if err != nil {
		return nil, err
	}
	defer func() { _ = rows.Close() }() // rows.Err() reports a failed read
	var out []store.Alias
	for rows.Next() {
		var a store.Alias
		if err := rows.Scan(&a.Hostname, &a.DeploymentID, &a.Pinned); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}
