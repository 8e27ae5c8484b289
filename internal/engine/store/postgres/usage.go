package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
)

// AddUsage adds each record to its project's day, in one transaction. Nodes adding to one day
// at once each add theirs: the upsert adds to the row, whichever comes first.
func (s *Store) AddUsage(ctx context.Context, records []store.UsageRecord) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		for _, r := range records {
			_, err := tx.Exec(ctx, `INSERT INTO usage (project_id, team_id, day, requests, bytes_out, memory_mb_millis, build_millis)
				VALUES ($1, COALESCE((SELECT team_id FROM projects WHERE id = $1), ''), $2, $3, $4, $5, $6)
				ON CONFLICT (project_id, day) DO UPDATE SET requests = usage.requests + excluded.requests, bytes_out = usage.bytes_out + excluded.bytes_out,
					memory_mb_millis = usage.memory_mb_millis + excluded.memory_mb_millis, build_millis = usage.build_millis + excluded.build_millis`,
				r.ProjectID, store.Day(r.Day), r.Requests, r.BytesOut, r.MemoryMBMillis, r.BuildMillis)
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// ListUsage returns the days from since up to until that filter picks, by day then project.
func (s *Store) ListUsage(ctx context.Context, filter store.UsageFilter, since, until time.Time) ([]store.UsageRecord, error) {
	rows, err := s.pool.Query(ctx, `SELECT project_id, team_id, day, requests, bytes_out, memory_mb_millis, build_millis FROM usage
		WHERE day >= $1 AND day < $2 AND ($3::text[] IS NULL OR project_id = ANY($3)) AND ($4 = '' OR team_id = $4)
		ORDER BY day, project_id`, store.Day(since), store.Day(until), filter.ProjectIDs, filter.TeamID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var records []store.UsageRecord
	for rows.Next() {
		var r store.UsageRecord
		if err := rows.Scan(&r.ProjectID, &r.TeamID, &r.Day, &r.Requests, &r.BytesOut, &r.MemoryMBMillis, &r.BuildMillis); err != nil {
			return nil, err
		}
		r.Day = r.Day.UTC()
		records = append(records, r)
	}
	return records, rows.Err()
}
