package storetest

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/runspec"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/vercelconfig"
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
	slash := false
	want := runspec.Spec{AppDir: "src/api", Python: "venv/bin/python", PythonVersion: "3.12.1", Entrypoint: "index:app", Kind: runspec.KindASGI,
		UID: 1200007, Limits: api.Limits{MemoryMB: 512, CPU: 0.5, Processes: 64, OpenFiles: 1024, BuildMinutes: 10}, MaxDuration: 30,
		Functions: []runspec.Function{
			{File: "api/index.py", Route: "/api", Entrypoint: "api.index:app", Kind: runspec.KindASGI},
			{File: "api/users.py", Route: "/api/users", Entrypoint: "api.users:handler", Kind: runspec.KindHandler, MaxDuration: 5, MemoryMB: 256},
		},
		Vercel: &vercelconfig.Config{TrailingSlash: &slash, Rewrites: []vercelconfig.Rewrite{{Source: "/(.*)", Destination: "/api"}},
			Crons: []vercelconfig.Cron{{Path: "/api", Schedule: "0 5 * * *"}}}}
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

// A deployment keeps whether its build may use the build cache, through the queue.
func testBuildCacheChoiceIsKept(t *testing.T, s store.Store, _ func(*testing.T) store.Store) {
	ctx := context.Background()
	createProject(t, s, "p1", "app")
	for _, use := range []bool{true, false} {
		id := fmt.Sprint("d-", use)
		d := &store.Deployment{ID: id, ProjectID: "p1", Target: "preview", Hostname: id + ".localhost", Files: []byte("[]"), SealedEnv: []byte("x"), UseBuildCache: use}
		if err := s.EnqueueDeployment(ctx, d, 10); err != nil {
			t.Fatal(err)
		}
		if got, err := s.GetDeployment(ctx, id); err != nil || got.UseBuildCache != use {
			t.Fatalf("UseBuildCache read back as %v (%v), want %v", got.UseBuildCache, err, use)
		}
		claimed, err := s.ClaimDeployment(ctx, "node", time.Now().Add(time.Minute), nil)
		if err != nil || claimed == nil || claimed.ID != id || claimed.UseBuildCache != use {
			t.Fatalf("claimed %+v (%v), want %s with UseBuildCache %v", claimed, err, id, use)
		}
	}
}
