package storetest

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
)

// branchHost names branch hostnames as the engine does, for project "shop".
func branchHost(branch string) string { return "shop-git-" + branch + ".localhost" }

// queueBranchDeployment queues a preview deployment of branch in project p1.
func queueBranchDeployment(t *testing.T, s store.Store, id, branch string) *store.Deployment {
	t.Helper()
	d := &store.Deployment{ID: id, ProjectID: "p1", Target: "preview", Hostname: "shop-" + id + ".localhost",
		Files: []byte("[]"), SealedEnv: []byte("x"), GitBranch: branch,
		Git: &api.GitCommit{URL: "https://example.com/acme/shop.git", Ref: branch, Branch: branch, SHA: "0123456789012345678901234567890123456789"}}
	if err := s.EnqueueDeployment(context.Background(), d, 1000); err != nil {
		t.Fatal(err)
	}
	return d
}

// routeOf is the deployment a hostname serves ("" for none), and whether it is routed at all.
func routeOf(t *testing.T, s store.Store, host string) (string, bool) {
	t.Helper()
	routes, err := s.ReadRoutes(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range routes.Routes {
		if r.Hostname == host {
			if r.Deployment == nil {
				return "", true
			}
			return r.Deployment.ID, true
		}
	}
	return "", false
}

func testBranchHostServesTheNewestReadyDeployment(t *testing.T, s store.Store, _ func(*testing.T) store.Store) {
	ctx := context.Background()
	createProject(t, s, "p1", "shop")
	older := queueBranchDeployment(t, s, "d1", "feature")
	time.Sleep(5 * time.Millisecond) // created_at has millisecond precision
	newer := queueBranchDeployment(t, s, "d2", "feature")
	host := branchHost("feature")
	moves := store.Moves{BranchHost: host}

	// The newer build finishes first; the older one finishing later does not take the URL back.
	claimBuild(t, s, older)
	claimed, err := s.ClaimDeployment(ctx, "test", time.Now().Add(time.Hour), nil)
	if err != nil || claimed == nil || claimed.ID != newer.ID {
		t.Fatalf("claim d2: %v, %v", claimed, err)
	}
	newer.ClaimedBy, newer.Run = claimed.ClaimedBy, older.Run
	if err := s.MarkReady(ctx, newer, moves); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkReady(ctx, older, moves); err != nil {
		t.Fatal(err)
	}
	if id, _ := routeOf(t, s, host); id != "d2" {
		t.Fatalf("branch host serves %q, want d2", id)
	}
	got, err := s.GetDeployment(ctx, "d2")
	if err != nil || got.GitBranch != "feature" || got.Git == nil || got.Git.SHA != newer.Git.SHA {
		t.Fatalf("the deployment's git record: %+v, %v", got, err)
	}
	if served, err := s.ServedDeployments(ctx); err != nil || !served["d2"] || served["d1"] {
		t.Errorf("served deployments: %v, %v; want d2 (through its branch host) only", served, err)
	}

	// Renaming the project moves the branch host.
	p, _ := s.GetProject(ctx, "p1")
	p.Name = "store"
	renamed := func(b string) string { return "store-git-" + b + ".localhost" }
	if err := s.UpdateProject(ctx, p, "store.localhost", renamed); err != nil {
		t.Fatal(err)
	}
	if _, routed := routeOf(t, s, host); routed {
		t.Error("the old branch host still routes after a rename")
	}
	host = renamed("feature")
	if id, _ := routeOf(t, s, host); id != "d2" {
		t.Fatalf("renamed branch host serves %q, want d2", id)
	}

	// Deleting the newest falls back to the other deployment of the branch; deleting that too
	// frees the name.
	if err := s.DeleteDeployment(ctx, "d2"); err != nil {
		t.Fatal(err)
	}
	if id, _ := routeOf(t, s, host); id != "d1" {
		t.Fatalf("after deleting d2 the branch host serves %q, want d1", id)
	}
	if err := s.DeleteDeployment(ctx, "d1"); err != nil {
		t.Fatal(err)
	}
	if _, routed := routeOf(t, s, host); routed {
		t.Error("the branch host still routes once its branch has no deployment")
	}
}

func testBranchHostTakenElsewhereIsLeftAlone(t *testing.T, s store.Store, _ func(*testing.T) store.Store) {
	ctx := context.Background()
	createProject(t, s, "p1", "shop")
	createProject(t, s, "p2", "shop-git-main") // its production host is shop's branch host
	d := queueBranchDeployment(t, s, "d1", "main")
	claimBuild(t, s, d)
	if err := s.MarkReady(ctx, d, store.Moves{BranchHost: branchHost("main")}); err != nil {
		t.Fatalf("a branch host held elsewhere must not fail the build: %v", err)
	}
	routes, _ := s.ReadRoutes(ctx)
	for _, r := range routes.Routes {
		if r.Hostname == branchHost("main") && (r.Kind != store.HostProduction || r.ProjectName != "shop-git-main") {
			t.Errorf("the other project's host was taken over: %+v", r)
		}
	}
}

func testRedeployReusesABuild(t *testing.T, s store.Store, _ func(*testing.T) store.Store) {
	ctx := context.Background()
	createProject(t, s, "p1", "shop")
	if _, err := s.FindBuild(ctx, "p1", "key1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("FindBuild on an empty project: %v, want ErrNotFound", err)
	}
	built := &store.Deployment{ID: "d1", ProjectID: "p1", Target: "production", State: "QUEUED", Hostname: "shop-d1.localhost",
		Files: []byte("[]"), SealedEnv: []byte("x"), BuildKey: "key1", EnvDigest: "env1"}
	if err := s.EnqueueDeployment(ctx, built, 10); err != nil {
		t.Fatal(err)
	}
	if _, err := s.FindBuild(ctx, "p1", "key1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a build still queued was offered for reuse: %v", err)
	}
	claimBuild(t, s, built)
	if err := s.MarkReady(ctx, built, store.Moves{Production: true}); err != nil {
		t.Fatal(err)
	}
	found, err := s.FindBuild(ctx, "p1", "key1")
	if err != nil || found.ID != "d1" || found.Run == nil {
		t.Fatalf("FindBuild = %+v, %v; want d1 with its run spec", found, err)
	}
	if _, err := s.FindBuild(ctx, "p1", "other"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("FindBuild of another key: %v", err)
	}

	redeploy := &store.Deployment{ID: "d2", ProjectID: "p1", Target: "production", Hostname: "shop-d2.localhost",
		Files: []byte("[]"), SealedEnv: []byte("y"), BuildKey: "key1", BuildOf: "d1", EnvDigest: "env2", Run: found.Run}
	before, _ := s.RoutesVersion(ctx)
	if err := s.InsertReady(ctx, redeploy, store.Moves{Production: true}); err != nil {
		t.Fatal(err)
	}
	if after, _ := s.RoutesVersion(ctx); after <= before {
		t.Error("a redeploy did not change the routes version")
	}
	got, err := s.GetDeployment(ctx, "d2")
	if err != nil || got.State != "READY" || got.ReadyAt == nil || got.Run == nil || got.BuildOf != "d1" || got.EnvDigest != "env2" || got.OutputOwner() != "d1" {
		t.Fatalf("redeploy as stored: %+v, %v", got, err)
	}
	if id, _ := s.ProductionDeploymentID(ctx, "p1"); id != "d2" {
		t.Errorf("production serves %q after the redeploy, want d2", id)
	}
	if found, _ := s.FindBuild(ctx, "p1", "key1"); found == nil || found.ID != "d2" {
		t.Errorf("FindBuild after the redeploy = %+v, want the newest, d2", found)
	}
	// The duplicate hostname is refused like any other.
	dup := *redeploy
	dup.ID = "d3"
	if err := s.InsertReady(ctx, &dup, store.Moves{}); !errors.Is(err, store.ErrHostnameTaken) {
		t.Errorf("InsertReady over a taken hostname: %v, want ErrHostnameTaken", err)
	}
	gone := *redeploy
	gone.ID, gone.ProjectID, gone.Hostname = "d4", "nope", "x-d4.localhost"
	if err := s.InsertReady(ctx, &gone, store.Moves{}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("InsertReady into a missing project: %v, want ErrNotFound", err)
	}

	// d1's directory holds the output d2 serves: in use until both are gone.
	if err := s.DeleteDeployment(ctx, "d1"); err != nil {
		t.Fatal(err)
	}
	if inUse, err := s.OutputInUse(ctx, "d1"); err != nil || !inUse {
		t.Errorf("OutputInUse(d1) with its redeploy d2 left = %v, %v; want true", inUse, err)
	}
	// Deleting the project names d1's directory too, which only its redeploy kept.
	dirs, err := s.DeleteProject(ctx, "p1")
	if slices.Sort(dirs); err != nil || !slices.Equal(dirs, []string{"d1", "d2"}) {
		t.Errorf("DeleteProject = %v, %v; want the directories [d1 d2]", dirs, err)
	}
	if inUse, err := s.OutputInUse(ctx, "d1"); err != nil || inUse {
		t.Errorf("OutputInUse(d1) with nothing left = %v, %v; want false", inUse, err)
	}
	// A redeploy found d1's output before those deletes: its files are going, so it is refused.
	late := *redeploy
	late.ID, late.Hostname = "d5", "shop-d5.localhost"
	if err := s.InsertReady(ctx, &late, store.Moves{Production: true}); !errors.Is(err, store.ErrBuildGone) {
		t.Errorf("InsertReady of a redeploy of a deleted output: %v, want ErrBuildGone", err)
	}
	if _, err := s.GetDeployment(ctx, "d5"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the refused redeploy was stored: %v", err)
	}
}

func testProjectKeepsGitRepositoryAndRetention(t *testing.T, s store.Store, _ func(*testing.T) store.Store) {
	ctx := context.Background()
	p := &store.Project{ID: "p1", Name: "shop", Framework: "auto", RootDirectory: ".",
		GitRepositoryURL: "https://example.com/acme/shop.git", ProductionBranch: "main",
		Retention: api.Retention{Production: "1y", Preview: "1w", Errored: "1d", Canceled: "unlimited"}}
	if err := s.CreateProject(ctx, p, "shop.localhost"); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetProject(ctx, "shop")
	if err != nil || got.GitRepositoryURL != p.GitRepositoryURL || got.ProductionBranch != "main" || got.Retention != p.Retention {
		t.Fatalf("project as stored: %+v, %v", got, err)
	}
	got.GitRepositoryURL, got.ProductionBranch, got.Retention = "", "", api.Retention{}
	if err := s.UpdateProject(ctx, got, "shop.localhost", branchHost); err != nil {
		t.Fatal(err)
	}
	if again, _ := s.GetProject(ctx, "p1"); again.GitRepositoryURL != "" || again.ProductionBranch != "" || again.Retention != (api.Retention{}) {
		t.Errorf("project after clearing: %+v", again)
	}
}

func testDomainFollowsItsBranch(t *testing.T, s store.Store, _ func(*testing.T) store.Store) {
	ctx := context.Background()
	createProject(t, s, "p1", "shop")
	readyDeployment(t, s, "prod", "shop-prod.localhost")
	const staging = "staging.example.com"
	// Bound before the branch has a deployment: routed, serving nothing yet.
	if err := s.CreateDomain(ctx, &store.Domain{Name: staging, ProjectID: "p1", GitBranch: "develop", Token: "t"}); err != nil {
		t.Fatal(err)
	}
	if id, routed := routeOf(t, s, staging); !routed || id != "" {
		t.Fatalf("a branch's domain before any deployment of it: routed %v, serving %q", routed, id)
	}
	first := queueBranchDeployment(t, s, "d1", "develop")
	claimBuild(t, s, first)
	if err := s.MarkReady(ctx, first, store.Moves{BranchHost: branchHost("develop")}); err != nil {
		t.Fatal(err)
	}
	if id, _ := routeOf(t, s, staging); id != "d1" {
		t.Fatalf("the domain serves %q, want d1", id)
	}
	if id, _ := routeOf(t, s, branchHost("develop")); id != "d1" {
		t.Fatalf("the branch's own URL serves %q beside the domain, want d1", id)
	}
	// A production deployment does not move it; a rename leaves its name alone.
	readyDeployment(t, s, "prod2", "shop-prod2.localhost")
	p, _ := s.GetProject(ctx, "p1")
	p.Name = "store"
	if err := s.UpdateProject(ctx, p, "store.localhost", func(b string) string { return "store-git-" + b + ".localhost" }); err != nil {
		t.Fatal(err)
	}
	if id, _ := routeOf(t, s, staging); id != "d1" {
		t.Fatalf("after a production deployment and a rename the domain serves %q, want d1", id)
	}
	// Its branch's last deployment deleted: the branch URL goes, the domain stays and waits.
	if err := s.DeleteDeployment(ctx, "d1"); err != nil {
		t.Fatal(err)
	}
	if id, routed := routeOf(t, s, staging); !routed || id != "" {
		t.Fatalf("after its branch's last deployment went: routed %v, serving %q", routed, id)
	}
	if _, routed := routeOf(t, s, "store-git-develop.localhost"); routed {
		t.Error("the branch URL outlived the branch's last deployment")
	}
	// Unbound from the branch, it serves production; bound again, the branch.
	d, err := s.GetDomain(ctx, staging)
	if err != nil {
		t.Fatal(err)
	}
	d.GitBranch = ""
	if err := s.UpdateDomain(ctx, d); err != nil {
		t.Fatal(err)
	}
	if id, _ := routeOf(t, s, staging); id != "prod2" {
		t.Fatalf("unbound from its branch the domain serves %q, want prod2", id)
	}
	second := queueBranchDeployment(t, s, "d2", "develop")
	claimBuild(t, s, second)
	if err := s.MarkReady(ctx, second, store.Moves{BranchHost: "store-git-develop.localhost"}); err != nil {
		t.Fatal(err)
	}
	d.GitBranch = "develop"
	if err := s.UpdateDomain(ctx, d); err != nil {
		t.Fatal(err)
	}
	if id, _ := routeOf(t, s, staging); id != "d2" {
		t.Fatalf("bound to its branch again the domain serves %q, want d2", id)
	}
	if err := s.DeleteDomain(ctx, "p1", staging); err != nil {
		t.Fatal(err)
	}
	if _, routed := routeOf(t, s, staging); routed {
		t.Error("a deleted branch domain still routes")
	}
}
