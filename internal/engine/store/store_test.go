package store

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"
)

func openTest(t *testing.T) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "ferry.db"))
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

func TestMigrationsAreIdempotent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ferry.db")
	ctx := context.Background()
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateProject(ctx, &Project{ID: "p1", Name: "hello", Framework: "auto", RootDirectory: "."}, "hello.localhost"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	}()
	if _, err := s.GetProject(ctx, "hello"); err != nil {
		t.Fatalf("project lost across reopen: %v", err)
	}
}

func TestProjectNameIsUnique(t *testing.T) {
	s, ctx := openTest(t), context.Background()
	if err := s.CreateProject(ctx, &Project{ID: "p1", Name: "hello", Framework: "auto", RootDirectory: "."}, "hello.localhost"); err != nil {
		t.Fatal(err)
	}
	err := s.CreateProject(ctx, &Project{ID: "p2", Name: "hello", Framework: "auto", RootDirectory: "."}, "hello.localhost")
	if !errors.Is(err, ErrConflict) {
		t.Fatalf("duplicate name: %v, want ErrConflict", err)
	}
	if _, err := s.GetProject(ctx, "p2"); !errors.Is(err, ErrNotFound) {
		t.Fatal("the refused project was stored")
	}
}

func TestEnvVarDuplicateKeyAndTarget(t *testing.T) {
	s, ctx := openTest(t), context.Background()
	if err := s.CreateProject(ctx, &Project{ID: "p1", Name: "hello", Framework: "auto", RootDirectory: "."}, "hello.localhost"); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateEnvVar(ctx, &EnvVar{ID: "e1", ProjectID: "p1", Key: "A", SealedValue: []byte("x"), Targets: []string{"production", "preview"}}); err != nil {
		t.Fatal(err)
	}
	// Same key, other target: allowed.
	if err := s.CreateEnvVar(ctx, &EnvVar{ID: "e2", ProjectID: "p1", Key: "A", SealedValue: []byte("y"), Targets: []string{"development"}}); err != nil {
		t.Fatal(err)
	}
	var dup *DuplicateEnvError
	err := s.CreateEnvVar(ctx, &EnvVar{ID: "e3", ProjectID: "p1", Key: "A", SealedValue: []byte("z"), Targets: []string{"preview"}})
	if !errors.As(err, &dup) || dup.Target != "preview" || !errors.Is(err, ErrConflict) {
		t.Fatalf("duplicate key+target: %v", err)
	}
	// Updating a var to overlap another is refused as well.
	e2, _ := s.GetEnvVar(ctx, "p1", "e2")
	e2.Targets = []string{"production"}
	if err := s.UpdateEnvVar(ctx, e2); !errors.As(err, &dup) {
		t.Fatalf("update into a duplicate: %v", err)
	}
}

func TestDeleteProjectCascades(t *testing.T) {
	s, ctx := openTest(t), context.Background()
	if err := s.CreateProject(ctx, &Project{ID: "p1", Name: "hello", Framework: "auto", RootDirectory: "."}, "hello.localhost"); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateEnvVar(ctx, &EnvVar{ID: "e1", ProjectID: "p1", Key: "A", SealedValue: []byte("x"), Targets: []string{"production"}}); err != nil {
		t.Fatal(err)
	}
	d := &Deployment{ID: "d1", ProjectID: "p1", Target: "production", State: "QUEUED", Hostname: "hello-d1.localhost", Files: []byte("[]"), SealedEnv: []byte("x")}
	if err := s.EnqueueDeployment(ctx, d, 10); err != nil {
		t.Fatal(err)
	}
	d, err := s.ClaimDeployment(ctx, "node-a", time.Now().Add(time.Minute))
	if err != nil || d == nil {
		t.Fatalf("claim: %v %v", d, err)
	}
	if err := s.MarkReady(ctx, d, true); err != nil {
		t.Fatal(err)
	}
	if id, _ := s.ProductionDeploymentID(ctx, "p1"); id != "d1" {
		t.Fatalf("production alias at %q, want d1", id)
	}
	before, _ := s.RoutesVersion(ctx)
	deleted, err := s.DeleteProject(ctx, "p1")
	if err != nil || len(deleted) != 1 || deleted[0] != "d1" {
		t.Fatalf("DeleteProject = %v, %v; want [d1]", deleted, err)
	}
	if _, err := s.GetDeployment(ctx, "d1"); !errors.Is(err, ErrNotFound) {
		t.Fatal("deployment survived its project")
	}
	if vars, _ := s.ListEnvVars(ctx, "p1"); len(vars) != 0 {
		t.Fatal("env vars survived their project")
	}
	if routes, _ := s.ReadRoutes(ctx); len(routes.Routes) != 0 || routes.Version <= before {
		t.Fatalf("hostnames survived their project (%+v) or the routes version stayed at %d", routes.Routes, before)
	}
}
