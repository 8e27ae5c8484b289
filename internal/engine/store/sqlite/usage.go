package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
)

// dayLayout is how a day is written in the usage table: text that sorts as days do.
const dayLayout = time.DateOnly

// AddUsage adds each record to its project's day, in one transaction.
func (s *Store) AddUsage(ctx context.Context, records []store.UsageRecord) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		for _, r := range records {
			_, err := tx.ExecContext(ctx, `INSERT INTO usage (project_id, team_id, day, requests, bytes_out, memory_mb_millis, build_millis)
				VALUES (?, COALESCE((SELECT team_id FROM projects WHERE id = ?), ''), ?, ?, ?, ?, ?)
				ON CONFLICT (project_id, day) DO UPDATE SET requests = requests + excluded.requests, bytes_out = bytes_out + excluded.bytes_out,
					memory_mb_millis = memory_mb_millis + excluded.memory_mb_millis, build_millis = build_millis + excluded.build_millis`,
				r.ProjectID, r.ProjectID, store.Day(r.Day).Format(dayLayout), r.Requests, r.BytesOut, r.MemoryMBMillis, r.BuildMillis)
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// ListUsage returns the days from since up to until that filter picks, by day then project.
func (s *Store) ListUsage(ctx context.Context, filter store.UsageFilter, since, until time.Time) ([]store.UsageRecord, error) {
	query := `SELECT project_id, team_id, day, requests, bytes_out, memory_mb_millis, build_millis FROM usage WHERE day >= ? AND day < ?`
	args := []any{store.Day(since).Format(dayLayout), store.Day(until).Format(dayLayout)}
	if filter.TeamID != "" {
		query += ` AND team_id = ?`
		args = append(args, filter.TeamID)
	}
	if filter.ProjectIDs != nil {
		query += ` AND project_id IN (SELECT value FROM json_each(?))`
		ids, err := json.Marshal(filter.ProjectIDs)
		if err != nil {
			return nil, err
		}
		args = append(args, string(ids))
	}
	rows, err := s.db.QueryContext(ctx, query+` ORDER BY day, project_id`, args...)
	if err != nil {
		return nil, err
	}
	defer func() { _ = rows.Close() }() // rows.Err reports what matters
	var records []store.UsageRecord
	for rows.Next() {
		var r store.UsageRecord
		var day string
		if err := rows.Scan(&r.ProjectID, &r.TeamID, &day, &r.Requests, &r.BytesOut, &r.MemoryMBMillis, &r.BuildMillis); err != nil {
			return nil, err
		}
		if r.Day, err = time.Parse(dayLayout, day); err != nil {
			return nil, err
		}
		records = append(records, r)
	}
	return records, rows.Err()
}
