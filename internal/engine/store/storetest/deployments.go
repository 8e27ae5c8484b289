package storetest

import (
	"context"
	"reflect"
	"testing"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/runspec"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
)

// A READY deployment carries the run spec its build made, whole, and is never READY without one.
func testRunSpecIsKeptWithTheDeployment(t *testing.T, s store.Store, _ func(*testing.T) store.Store) {
	ctx := context.Background()
	createProject(t, s, "p1", "app")
	d := &store.Deployment{ID: "d1", ProjectID: "p1", Target: "production", Hostname: "app-d1.localhost", Files: []byte("[]"), SealedEnv: []byte("x")}
	if err := s.EnqueueDeployment(ctx, d, 10); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetDeployment(ctx, "d1"); got.Run != nil {
		t.Fatalf("a queued deployment has a run spec: %+v", got.Run)
	}
	claimBuild(t, s, d)
	d.Run = nil
	if err := s.MarkReady(ctx, d, store.Moves{Production: true}); err == nil {
		t.Fatal("a deployment was made READY without a run spec")
	}
	if got, _ := s.GetDeployment(ctx, "d1"); got.State != api.StateBuilding {
		t.Fatalf("state after a refused MarkReady: %s, want BUILDING", got.State)
	}
	want := runspec.Spec{AppDir: "src/api", Python: "venv/bin/python", Entrypoint: "index:app", Kind: runspec.KindASGI,
		UID: 1200007, Limits: api.Limits{MemoryMB: 512, CPU: 0.5, Processes: 64, OpenFiles: 1024, BuildMinutes: 10}}
	d.Run = &want
	if err := s.MarkReady(ctx, d, store.Moves{Production: true}); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetDeployment(ctx, "d1")
	if err != nil || got.Run == nil || !reflect.DeepEqual(*got.Run, want) {
		t.Fatalf("run spec read back: %+v, %v; want %+v", got.Run, err, want)
	}
	routes, err := s.ReadRoutes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range routes.Routes {
		if r.Deployment == nil || r.Deployment.Run == nil || !reflect.DeepEqual(*r.Deployment.Run, want) {
			t.Errorf("route %s serves %+v, want the run spec %+v", r.Hostname, r.Deployment, want)
		}
	}
}
