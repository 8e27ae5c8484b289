package store

import (
	"context"
	"database/sql"
	"errors"
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

// TestMigrationMakesEnvTargetsRows opens a database of the first schema whose env var lists its
// targets in one column; afterwards they are rows, and the database refuses a duplicate.
func TestMigrationMakesEnvTargetsRows(t *testing.T) {
	s := openFromFirstSchema(t,
		`INSERT INTO projects VALUES ('p1', 'hello', 'auto', '.', NULL, NULL, '2025-01-01 00:00:00', '2025-01-01 00:00:00')`,
		`INSERT INTO env_vars (id, project_id, key, sealed_value, value_digest, targets, created_at, updated_at)
			VALUES ('env_1', 'p1', 'API_KEY', x'00', '', 'production,preview', '2025-01-01 00:00:00', '2025-01-01 00:00:00')`)
	ctx := context.Background()
	v, err := s.GetEnvVar(ctx, "p1", "env_1")
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Targets) != 2 || v.Targets[0] != "preview" || v.Targets[1] != "production" {
		t.Errorf("targets after the migration: %v", v.Targets)
	}
	again := &EnvVar{ID: "env_2", ProjectID: "p1", Key: "API_KEY", SealedValue: []byte{0}, Targets: []string{"development", "preview"}}
	var dup *DuplicateEnvError
	if err := s.CreateEnvVar(ctx, again); !errors.As(err, &dup) || dup.Target != "preview" {
		t.Fatalf("a second API_KEY for preview: %v", err)
	}
	if _, err := s.GetEnvVar(ctx, "p1", "env_2"); !errors.Is(err, ErrNotFound) {
		t.Errorf("the refused var was stored: %v", err)
	}
	again.Targets = []string{"development"}
	if err := s.CreateEnvVar(ctx, again); err != nil {
		t.Errorf("API_KEY for development only: %v", err)
	}
}
