package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/runspec"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
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
// deployment holds absolute paths, as the engine wrote them then: they end in its run spec,
// relative to the deployment's directory.
func TestMigrationMakesDeploymentPathsRelative(t *testing.T) {
	s := openFromFirstSchema(t,
		`INSERT INTO projects VALUES ('p1', 'hello', 'auto', '.', NULL, NULL, '2025-01-01 00:00:00', '2025-01-01 00:00:00')`,
		`INSERT INTO deployments (id, project_id, target, state, hostname, source_digest, files, sealed_env, app_dir, python, entrypoint, kind, created_at)
			VALUES ('dpl_1', 'p1', 'production', 'READY', 'hello-1.localhost', 'x', '[]', x'00',
			'/root/.local/share/ferry/deployments/dpl_1/src/api', '/root/.local/share/ferry/deployments/dpl_1/venv/bin/python', 'index:app', 'wsgi', '2025-01-01 00:00:00')`)
	d, err := s.GetDeployment(context.Background(), "dpl_1")
	if err != nil {
		t.Fatal(err)
	}
	want := runspec.Spec{AppDir: "src/api", Python: "venv/bin/python", Entrypoint: "index:app", Kind: runspec.KindWSGI}
	if d.Run == nil || !reflect.DeepEqual(*d.Run, want) {
		t.Errorf("run spec after the migrations: %+v, want %+v", d.Run, want)
	}
}

// TestMigrationGathersTheRunSpec opens a database of the schema before run specs: a READY
// deployment's columns and its sandbox row become one run spec; a failed build gets none.
func TestMigrationGathersTheRunSpec(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ferry.db")
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatal(err)
	}
	before := slices.Index(migrations, runSpecMigration)
	for _, stmt := range append(slices.Clone(migrations[:before]),
		fmt.Sprintf(`PRAGMA user_version = %d`, before),
		`INSERT INTO projects VALUES ('p1', 'hello', 'auto', '.', NULL, NULL, '2025-01-01 00:00:00', '2025-01-01 00:00:00')`,
		`INSERT INTO deployments (id, project_id, target, state, hostname, source_digest, files, sealed_env, app_dir, python, entrypoint, kind, created_at)
			VALUES ('d1', 'p1', 'production', 'READY', 'hello-1.localhost', 'x', '[]', x'00', 'src', 'venv/bin/python', 'app:app', 'asgi', '2025-01-01 00:00:00'),
			('d2', 'p1', 'preview', 'ERROR', 'hello-2.localhost', 'x', '[]', x'00', '', '', '', '', '2025-01-01 00:00:00')`,
		`INSERT INTO deployment_sandboxes VALUES ('d1', 1200003, '{"memory_mb":256,"cpu":0.5,"processes":32,"open_files":512}')`,
	) {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	s := openPath(t, path)
	d1, err := s.GetDeployment(ctx, "d1")
	if err != nil {
		t.Fatal(err)
	}
	want := runspec.Spec{AppDir: "src", Python: "venv/bin/python", Entrypoint: "app:app", Kind: runspec.KindASGI,
		UID: 1200003, Limits: api.Limits{MemoryMB: 256, CPU: 0.5, Processes: 32, OpenFiles: 512}}
	if d1.Run == nil || !reflect.DeepEqual(*d1.Run, want) {
		t.Errorf("d1's run spec: %+v, want %+v", d1.Run, want)
	}
	if d2, err := s.GetDeployment(ctx, "d2"); err != nil || d2.Run != nil {
		t.Errorf("a failed build got a run spec: %+v, %v", d2.Run, err)
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
	again := &store.EnvVar{ID: "env_2", ProjectID: "p1", Key: "API_KEY", SealedValue: []byte{0}, Targets: []string{"development", "preview"}}
	var dup *store.DuplicateEnvError
	if err := s.CreateEnvVar(ctx, again); !errors.As(err, &dup) || dup.Target != "preview" {
		t.Fatalf("a second API_KEY for preview: %v", err)
	}
	if _, err := s.GetEnvVar(ctx, "p1", "env_2"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the refused var was stored: %v", err)
	}
	again.Targets = []string{"development"}
	if err := s.CreateEnvVar(ctx, again); err != nil {
		t.Errorf("API_KEY for development only: %v", err)
	}
}

// TestMigrationToGitSourcesKeepsHostnames opens a database of the first schema with a READY
// production deployment and its alias: after the migrations that rebuild the hostnames table
// both still route, the project reads with no git repository and unlimited retention, and a
// branch hostname can be added.
func TestMigrationToGitSourcesKeepsHostnames(t *testing.T) {
	s := openFromFirstSchema(t,
		`INSERT INTO projects VALUES ('p1', 'hello', 'auto', '.', NULL, NULL, '2025-01-01 00:00:00', '2025-01-01 00:00:00')`,
		`INSERT INTO deployments (id, project_id, target, state, hostname, source_digest, files, sealed_env, app_dir, python, entrypoint, kind, created_at)
			VALUES ('d1', 'p1', 'production', 'READY', 'hello-d1.localhost', 'x', '[]', x'00', 'src', 'venv/bin/python', 'app:app', 'wsgi', '2025-01-01 00:00:00')`,
		`INSERT INTO aliases VALUES ('hello.localhost', 'p1', 'd1', 1)`)
	ctx := context.Background()
	before, err := s.RoutesVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	routes, err := s.ReadRoutes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	served := map[string]string{}
	for _, r := range routes.Routes {
		if r.Deployment != nil {
			served[r.Hostname] = r.Kind + ":" + r.Deployment.ID
		}
	}
	if served["hello.localhost"] != "production:d1" || served["hello-d1.localhost"] != "deployment:d1" {
		t.Fatalf("routes after the migrations: %v", served)
	}
	p, err := s.GetProject(ctx, "p1")
	if err != nil || p.GitRepositoryURL != "" || p.Retention != (api.Retention{}) {
		t.Fatalf("project after the migrations: %+v, %v", p, err)
	}
	d := &store.Deployment{ID: "d2", ProjectID: "p1", Target: "preview", Hostname: "hello-d2.localhost", Files: []byte("[]"),
		SealedEnv: []byte("x"), GitBranch: "main", Run: &runspec.Spec{AppDir: "src", Python: "venv/bin/python", Entrypoint: "app:app", Kind: runspec.KindWSGI}}
	if err := s.InsertReady(ctx, d, store.Moves{BranchHost: "hello-git-main.localhost"}); err != nil {
		t.Fatal(err)
	}
	if after, _ := s.RoutesVersion(ctx); after <= before {
		t.Error("the routes version did not go up: the hostnames triggers are missing")
	}
	routes, _ = s.ReadRoutes(ctx)
	for _, r := range routes.Routes {
		if r.Hostname == "hello-git-main.localhost" && (r.Kind != store.HostBranch || r.Deployment == nil || r.Deployment.ID != "d2") {
			t.Errorf("branch route: %+v", r)
		}
	}
}
