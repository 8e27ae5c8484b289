package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"os"
)

// Snapshot writes a consistent copy of the database at dbPath to dest, a
// file that must not exist, and returns the copy's schema version. It needs
// no engine to stop: VACUUM INTO reads one transaction's view of the
// database while engines go on writing to it, and does not migrate it.
func Snapshot(ctx context.Context, dbPath, dest string) (int, error) {
	// Created first, empty and private, since it holds sealed values: VACUUM INTO
	// writes into an empty file, and would create one with the default mode.
	f, err := os.OpenFile(dest, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return 0, fmt.Errorf("create the copy of the store: %w", err)
	}
	if err := f.Close(); err != nil {
		return 0, err
	}
	db, err := sql.Open("sqlite", "file:"+dbPath+"?_pragma=busy_timeout(5000)")
	if err != nil {
		return 0, err
	}
	defer func() { _ = db.Close() }() // only read
	if _, err := db.ExecContext(ctx, `VACUUM INTO ?`, dest); err != nil {
		_ = os.Remove(dest) // a partial copy is no backup
		return 0, fmt.Errorf("copy %s: %w", dbPath, err)
	}
	return SchemaOf(ctx, dest)
}

// DeploymentStates returns the state of every deployment in the database
// at path (a snapshot), by id. The table and its columns are those of the
// first schema, so this reads a database of any schema.
func DeploymentStates(ctx context.Context, path string) (map[string]string, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		return nil, err
	}
	defer func() { _ = db.Close() }() // only read
	rows, err := db.QueryContext(ctx, `SELECT id, state FROM deployments`)
	if err != nil {
		return nil, fmt.Errorf("read the deployments of %s: %w", path, err)
	}
	defer func() { _ = rows.Close() }() // rows.Err() reports a failed read
	states := map[string]string{}
	for rows.Next() {
		var id, state string
		if err := rows.Scan(&id, &state); err != nil {
			return nil, err
		}
		states[id] = state
	}
	return states, rows.Err()
}
