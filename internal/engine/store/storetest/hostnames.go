package storetest

import (
	"context"
	"errors"
	"testing"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
)

func testHostnamesAreOneNamespace(t *testing.T, s store.Store, _ func(*testing.T) store.Store) {
	ctx := context.Background()
	createProject(t, s, "p1", "shop")
	readyDeployment(t, s, "d1", "shop-abc.localhost")
	before, _ := s.RoutesVersion(ctx)

	// A project named after another's deployment host must not take it over.
	err := s.CreateProject(ctx, &store.Project{ID: "p2", Name: "shop-abc", Framework: "auto", RootDirectory: "."}, "shop-abc.localhost")
	if !errors.Is(err, store.ErrHostnameTaken) || !errors.Is(err, store.ErrConflict) {
		t.Fatalf("create over a deployment host: %v, want ErrHostnameTaken", err)
	}
	if _, err := s.GetProject(ctx, "p2"); !errors.Is(err, store.ErrNotFound) {
		t.Fatal("the refused project was stored")
	}
	// Nor by a rename.
	createProject(t, s, "p3", "other")
	p3, _ := s.GetProject(ctx, "p3")
	p3.Name = "shop-abc"
	if err := s.UpdateProject(ctx, p3, "shop-abc.localhost", branchHost); !errors.Is(err, store.ErrHostnameTaken) {
		t.Fatalf("rename over a deployment host: %v, want ErrHostnameTaken", err)
	}
	if p, _ := s.GetProject(ctx, "p3"); p.Name != "other" {
		t.Fatalf("refused rename changed the name to %q", p.Name)
	}
	routes, err := s.ReadRoutes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if routes.Version <= before {
		t.Fatalf("routes version %d did not go up from %d", routes.Version, before)
	}
	got := map[string]string{}
	for _, r := range routes.Routes {
		id := ""
		if r.Deployment != nil {
			id = r.Deployment.ID
		}
		got[r.Hostname] = r.Kind + ":" + r.ProjectName + ":" + id
	}
	want := map[string]string{
		"shop.localhost":     "production:shop:d1",
		"shop-abc.localhost": "deployment:shop:d1",
		"other.localhost":    "production:other:",
	}
	if len(got) != len(want) {
		t.Fatalf("routes %v, want %v", got, want)
	}
	for host, w := range want {
		if got[host] != w {
			t.Errorf("route %s = %q, want %q", host, got[host], w)
		}
	}
}

func testRenameMovesTheProductionHost(t *testing.T, s store.Store, _ func(*testing.T) store.Store) {
	ctx := context.Background()
	createProject(t, s, "p1", "old")
	readyDeployment(t, s, "d1", "old-abc.localhost")
	p, _ := s.GetProject(ctx, "p1")
	p.Name = "new"
	if err := s.UpdateProject(ctx, p, "new.localhost", branchHost); err != nil {
		t.Fatal(err)
	}
	routes, _ := s.ReadRoutes(ctx)
	hosts := map[string]bool{}
	for _, r := range routes.Routes {
		hosts[r.Hostname] = true
	}
	if !hosts["new.localhost"] || hosts["old.localhost"] || !hosts["old-abc.localhost"] {
		t.Fatalf("hosts after rename: %v", hosts)
	}
	if id, _ := s.ProductionDeploymentID(ctx, "p1"); id != "d1" {
		t.Fatalf("production at %q after rename, want d1", id)
	}
	gone := &store.Project{ID: "nope", Name: "x", Framework: "auto", RootDirectory: "."}
	if err := s.UpdateProject(ctx, gone, "x.localhost", branchHost); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("update of a missing project: %v", err)
	}
}

func testDeletingProductionFallsBackToThePreviousReadyOne(t *testing.T, s store.Store, _ func(*testing.T) store.Store) {
	ctx := context.Background()
	createProject(t, s, "p1", "app")
	readyDeployment(t, s, "d1", "app-d1.localhost")
	readyDeployment(t, s, "d2", "app-d2.localhost")
	preview := &store.Deployment{ID: "d3", ProjectID: "p1", Target: "preview", State: "QUEUED", Hostname: "app-d3.localhost", Files: []byte("[]"), SealedEnv: []byte("x")}
	if err := s.EnqueueDeployment(ctx, preview, 1000); err != nil {
		t.Fatal(err)
	}
	claimBuild(t, s, preview)
	if err := s.MarkReady(ctx, preview, store.Moves{}); err != nil {
		t.Fatal(err)
	}
	if id, _ := s.ProductionDeploymentID(ctx, "p1"); id != "d2" {
		t.Fatalf("production at %q, want d2", id)
	}
	if err := s.DeleteDeployment(ctx, "d2"); err != nil {
		t.Fatal(err)
	}
	if id, _ := s.ProductionDeploymentID(ctx, "p1"); id != "d1" {
		t.Fatalf("production at %q after deleting d2, want the previous production d1", id)
	}
	if err := s.DeleteDeployment(ctx, "d1"); err != nil {
		t.Fatal(err)
	}
	if id, _ := s.ProductionDeploymentID(ctx, "p1"); id != "" {
		t.Fatalf("production at %q with no production deployment left (a preview must not take it)", id)
	}
	if err := s.DeleteDeployment(ctx, "d1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	routes, _ := s.ReadRoutes(ctx)
	for _, r := range routes.Routes {
		if r.Hostname == "app-d1.localhost" || r.Hostname == "app-d2.localhost" {
			t.Errorf("host of a deleted deployment still routed: %s", r.Hostname)
		}
	}
}

// A database of the first schema keeps its projects, deployments and
// aliases when it moves to one namespace of hostnames.
