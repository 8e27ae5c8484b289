package sqlite

import (
	"context"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
)

// Heartbeat records that node n is up now.
func (s *Store) Heartbeat(ctx context.Context, n store.Node) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO nodes (id, version, http_address, api_address, started_at, seen_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET version = excluded.version, http_address = excluded.http_address, api_address = excluded.api_address,
			started_at = excluded.started_at, seen_at = excluded.seen_at`,
		n.ID, n.Version, n.HTTPAddress, n.APIAddress, n.StartedAt.UTC(), n.SeenAt.UTC())
	return err
}

// LeaveNodes removes node id and the nodes not seen since forgetBefore.
func (s *Store) LeaveNodes(ctx context.Context, id string, forgetBefore time.Time) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM nodes WHERE id = ? OR seen_at < ?`, id, forgetBefore.UTC())
	return err
}

// ListNodes returns the nodes, by id.
func (s *Store) ListNodes(ctx context.Context) ([]store.Node, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, version, http_address, api_address, started_at, seen_at FROM nodes ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer func() { _ = rows.Close() }() // rows.Err reports what matters
	var nodes []store.Node
	for rows.Next() {
		var n store.Node
		if err := rows.Scan(&n.ID, &n.Version, &n.HTTPAddress, &n.APIAddress, &n.StartedAt, &n.SeenAt); err != nil {
			return nil, err
		}
		nodes = append(nodes, n)
	}
	return nodes, rows.Err()
}
