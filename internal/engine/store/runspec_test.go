package store

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
)

// openFromFirstSchema writes a database of the first schema with rows, then opens it, which
// runs every later migration on them.
func openFromFirstSchema(t *testing.T, rows ...string) *Store {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ferry.db")
	ctx := context.Background()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatal(err)
	}
	for _, stmt := range append([]string{migrations[0], `PRAGMA user_version = 1`}, rows...) {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// TestMigrationMakesDeploymentPathsRelative opens a database of the first schema whose READY
// deployment holds absolute paths, as the engine wrote them then.
func TestMigrationMakesDeploymentPathsRelative(t *testing.T) {
	s := openFromFirstSchema(t,
		`INSERT INTO projects VALUES ('p1', 'hello', 'auto', '.', NULL, NULL, '2025-01-01 00:00:00', '2025-01-01 00:00:00')`,
		`INSERT INTO deployments (id, project_id, target, state, hostname, source_digest, files, sealed_env, app_dir, python, created_at)
			VALUES ('dpl_1', 'p1', 'production', 'READY', 'hello-1.localhost', 'x', '[]', x'00',
			'/root/.local/share/ferry/deployments/dpl_1/src/api', '/root/.local/share/ferry/deployments/dpl_1/venv/bin/python', '2025-01-01 00:00:00')`)
	d, err := s.GetDeployment(context.Background(), "dpl_1")
	if err != nil {
		t.Fatal(err)
	}
	if d.AppDir != "src/api" || d.Python != "venv/bin/python" {
		t.Errorf("paths after the migration: app_dir %q, python %q; want src/api, venv/bin/python", d.AppDir, d.Python)
	}
}
