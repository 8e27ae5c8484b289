package storetest

import (
	"context"
	"errors"
	"testing"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
)

// A pinned production hostname stays on the deployment it was pinned to
// while new production deployments become READY, and goes back to the
// newest one when released.
func testPinnedAliasStaysPut(t *testing.T, s store.Store, _ func(*testing.T) store.Store) {
	ctx := context.Background()
	createProject(t, s, "p1", "app")
	readyDeployment(t, s, "d1", "app-d1.localhost")
	readyDeployment(t, s, "d2", "app-d2.localhost")
	production := func() store.Alias {
		t.Helper()
		aliases, err := s.ListAliases(ctx, "p1")
		if err != nil || len(aliases) != 1 {
			t.Fatalf("aliases: %+v, %v", aliases, err)
		}
		return aliases[0]
	}
	if a := production(); a.Hostname != "app.localhost" || a.DeploymentID != "d2" || a.Pinned {
		t.Fatalf("before pinning: %+v", a)
	}
	before, _ := s.RoutesVersion(ctx)
	if err := s.PinAlias(ctx, "p1", "", "d1"); err != nil {
		t.Fatal(err)
	}
	if a := production(); a.DeploymentID != "d1" || !a.Pinned {
		t.Fatalf("after pinning to d1: %+v", a)
	}
	if after, _ := s.RoutesVersion(ctx); after <= before {
		t.Errorf("routes version %d did not go up from %d", after, before)
	}
	readyDeployment(t, s, "d3", "app-d3.localhost")
	if a := production(); a.DeploymentID != "d1" {
		t.Fatalf("a new production deployment moved a pinned alias to %s", a.DeploymentID)
	}
	if err := s.DeleteDeployment(ctx, "d1"); !errors.Is(err, store.ErrPinned) {
		t.Fatalf("delete of the pinned deployment: %v, want ErrPinned", err)
	}
	if _, err := s.GetDeployment(ctx, "d1"); err != nil {
		t.Fatalf("the refused delete removed it: %v", err)
	}
	if err := s.UnpinAlias(ctx, "p1", "app.localhost"); err != nil {
		t.Fatal(err)
	}
	if a := production(); a.DeploymentID != "d3" || a.Pinned {
		t.Fatalf("after unpinning: %+v, want the newest production deployment d3", a)
	}
	if err := s.DeleteDeployment(ctx, "d1"); err != nil {
		t.Fatalf("delete once unpinned: %v", err)
	}
}

func testPinAliasRefusesWhatItCannotServe(t *testing.T, s store.Store, _ func(*testing.T) store.Store) {
	ctx := context.Background()
	createProject(t, s, "p1", "app")
	createProject(t, s, "p2", "other")
	readyDeployment(t, s, "d1", "app-d1.localhost")
	queued := &store.Deployment{ID: "q1", ProjectID: "p1", Target: "production", Hostname: "app-q1.localhost", Files: []byte("[]"), SealedEnv: []byte("x")}
	if err := s.EnqueueDeployment(ctx, queued, 10); err != nil {
		t.Fatal(err)
	}
	for name, tt := range map[string]struct {
		project, hostname, deployment string
		want                          error
	}{
		"another project's deployment":                             {"p2", "", "d1", store.ErrNotFound},
		"a deployment that is not READY":                           {"p1", "", "q1", store.ErrNotReady},
		"a deployment that does not exist":                         {"p1", "", "nope", store.ErrNotFound},
		"a hostname that is not the project's production hostname": {"p1", "app-d1.localhost", "d1", store.ErrNotFound},
	} {
		if err := s.PinAlias(ctx, tt.project, tt.hostname, tt.deployment); !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", name, err, tt.want)
		}
	}
	aliases, err := s.ListAliases(ctx, "p1")
	if err != nil || len(aliases) != 1 || aliases[0].Pinned || aliases[0].DeploymentID != "d1" {
		t.Errorf("a refused pin changed the alias: %+v, %v", aliases, err)
	}
	if err := s.UnpinAlias(ctx, "p1", "nope.localhost"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unpin of an unknown hostname: %v, want ErrNotFound", err)
	}
}
