package storetest

import (
	"context"
	"errors"
	"testing"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
)

func testProjectNameIsUnique(t *testing.T, s store.Store, _ func(*testing.T) store.Store) {
	ctx := context.Background()
	if err := s.CreateProject(ctx, &store.Project{ID: "p1", Name: "hello", Framework: "auto", RootDirectory: "."}, "hello.localhost"); err != nil {
		t.Fatal(err)
	}
	err := s.CreateProject(ctx, &store.Project{ID: "p2", Name: "hello", Framework: "auto", RootDirectory: "."}, "hello.localhost")
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("duplicate name: %v, want ErrConflict", err)
	}
	if _, err := s.GetProject(ctx, "p2"); !errors.Is(err, store.ErrNotFound) {
		t.Fatal("the refused project was stored")
	}
}

func testEnvVarDuplicateKeyAndTarget(t *testing.T, s store.Store, _ func(*testing.T) store.Store) {
	ctx := context.Background()
	if err := s.CreateProject(ctx, &store.Project{ID: "p1", Name: "hello", Framework: "auto", RootDirectory: "."}, "hello.localhost"); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateEnvVar(ctx, &store.EnvVar{ID: "e1", ProjectID: "p1", Key: "A", SealedValue: []byte("x"), Targets: []string{"production", "preview"}}); err != nil {
		t.Fatal(err)
	}
	// Same key, other target: allowed.
	if err := s.CreateEnvVar(ctx, &store.EnvVar{ID: "e2", ProjectID: "p1", Key: "A", SealedValue: []byte("y"), Targets: []string{"development"}}); err != nil {
		t.Fatal(err)
	}
	var dup *store.DuplicateEnvError
	err := s.CreateEnvVar(ctx, &store.EnvVar{ID: "e3", ProjectID: "p1", Key: "A", SealedValue: []byte("z"), Targets: []string{"preview"}})
	if !errors.As(err, &dup) || dup.Target != "preview" || !errors.Is(err, store.ErrConflict) {
		t.Fatalf("duplicate key+target: %v", err)
	}
	// Updating a var to overlap another is refused as well.
	e2, _ := s.GetEnvVar(ctx, "p1", "e2")
	e2.Targets = []string{"production"}
	if err := s.UpdateEnvVar(ctx, e2); !errors.As(err, &dup) {
		t.Fatalf("update into a duplicate: %v", err)
	}
}

func testDeleteProjectCascades(t *testing.T, s store.Store, _ func(*testing.T) store.Store) {
	ctx := context.Background()
	if err := s.CreateProject(ctx, &store.Project{ID: "p1", Name: "hello", Framework: "auto", RootDirectory: "."}, "hello.localhost"); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateEnvVar(ctx, &store.EnvVar{ID: "e1", ProjectID: "p1", Key: "A", SealedValue: []byte("x"), Targets: []string{"production"}}); err != nil {
		t.Fatal(err)
	}
	d := &store.Deployment{ID: "d1", ProjectID: "p1", Target: "production", State: "QUEUED", Hostname: "hello-d1.localhost", Files: []byte("[]"), SealedEnv: []byte("x")}
	if err := s.EnqueueDeployment(ctx, d, 10); err != nil {
		t.Fatal(err)
	}
	claimBuild(t, s, d)
	if err := s.MarkReady(ctx, d, store.Moves{Production: true}); err != nil {
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
	if _, err := s.GetDeployment(ctx, "d1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatal("deployment survived its project")
	}
	if vars, _ := s.ListEnvVars(ctx, "p1"); len(vars) != 0 {
		t.Fatal("env vars survived their project")
	}
	if routes, _ := s.ReadRoutes(ctx); len(routes.Routes) != 0 || routes.Version <= before {
		t.Fatalf("hostnames survived their project (%+v) or the routes version stayed at %d", routes.Routes, before)
	}
}
