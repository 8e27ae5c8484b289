package engine_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/client"
	"github.com/ferryhq/terraform-provider-ferry/internal/gittest"
)

// handlerApp answers with text, from a BaseHTTPRequestHandler: it needs no package installed.
func handlerApp(text string) string {
	return "from http.server import BaseHTTPRequestHandler\n\n\nclass handler(BaseHTTPRequestHandler):\n" +
		"    def do_GET(self):\n        self.send_response(200)\n        self.end_headers()\n" +
		"        self.wfile.write(b\"" + text + "\")\n"
}

// Redeploying a files deployment takes its source and the env as it is now: with the build cache
// it serves the old build output at once, without it the dependencies are installed anew.
func TestRedeployOfAFilesDeployment(t *testing.T) {
	c, addr := startEngine(t)
	ctx := context.Background()
	p := newProject(t, c, "again")
	first := deployRequest(t, c, writeTree(t, wheelFiles(t)), api.DeploymentRequest{ProjectID: p.ID, Production: true})
	if first.State != api.StateReady {
		t.Fatalf("first build: %s %s", first.State, first.ErrorMessage)
	}
	if _, err := c.CreateEnvVar(ctx, p.ID, api.EnvVarRequest{Key: "GREETING", Value: "hello", Targets: []string{api.TargetPreview, api.TargetProduction}}); err != nil {
		t.Fatal(err)
	}

	cached, err := c.Redeploy(ctx, first.ID, false, true)
	if err != nil {
		t.Fatal(err)
	}
	if cached.State != api.StateReady || cached.ReusedBuildOf != first.ID || cached.Target != api.TargetPreview ||
		cached.SourceDigest != first.SourceDigest || cached.EnvDigest == first.EnvDigest {
		t.Fatalf("redeploy with the cache: %+v; want a READY preview of the same source on %s's build, with the new env", cached, first.ID)
	}
	if log, err := c.DeploymentLog(ctx, cached.ID); err != nil || !strings.Contains(log, "no build step ran") {
		t.Errorf("its log (%v):\n%s", err, log)
	}

	fresh, err := c.Redeploy(ctx, first.ID, true, false)
	if err != nil {
		t.Fatal(err)
	}
	built := waitBuilt(t, c, fresh.ID, 0)
	if built.State != api.StateReady || built.Target != api.TargetProduction || built.ReusedBuildOf != "" {
		t.Fatalf("redeploy without the cache: %s %s, target %s, reusing %q", built.State, built.ErrorMessage, built.Target, built.ReusedBuildOf)
	}
	log, err := c.DeploymentLog(ctx, fresh.ID)
	if err != nil || !strings.Contains(log, "the build cache is off for this deployment") || !strings.Contains(log, "running pip install") {
		t.Errorf("a redeploy without the cache did not install anew (%v):\n%s", err, log)
	}
	if status, body := get(t, addr, p.ProductionURL); status != 200 || body != "from the wheel" {
		t.Errorf("production answers %d %q", status, body)
	}
	if now, _ := c.GetProject(ctx, p.ID); now.ProductionDeploymentID != fresh.ID {
		t.Errorf("production serves %s, want the production redeploy %s", now.ProductionDeploymentID, fresh.ID)
	}

	// A deployment that is gone, or never was, is a clear 404.
	if err := c.DeleteDeployment(ctx, cached.ID); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{cached.ID, "dpl_nosuchdeploymentaaaaaa"} {
		_, err := c.Redeploy(ctx, id, false, true)
		e, ok := client.AsError(err)
		if !ok || e.StatusCode != http.StatusNotFound || !strings.Contains(e.Message, id) || !strings.Contains(e.Message, "does not exist") {
			t.Errorf("redeploy of %s: %v, want a 404 naming it", id, err)
		}
	}
	// A redeploy names neither another source nor another project.
	other := newProject(t, c, "other")
	for _, req := range []api.DeploymentRequest{
		{RedeployOf: first.ID, ProjectID: other.ID},
		{RedeployOf: first.ID, Git: &api.GitSource{}},
	} {
		_, err := c.CreateDeployment(ctx, req)
		if e, ok := client.AsError(err); !ok || e.StatusCode != http.StatusBadRequest || e.Field != "redeploy_of" {
			t.Errorf("%+v: %v, want a bad request on redeploy_of", req, err)
		}
	}
}

// A deployment whose build failed may be redeployed: that is how a build that failed for want
// of an env var is retried once the var is set.
func TestRedeployOfAFailedDeployment(t *testing.T) {
	c, addr := startEngine(t)
	ctx := context.Background()
	p := newProject(t, c, "retry")
	failed := deployRequest(t, c, writeTree(t, map[string]string{
		"index.py":    handlerApp("built"),
		"vercel.json": `{"buildCommand": "test \"$BUILD_TOKEN\" = present"}`,
	}), api.DeploymentRequest{ProjectID: p.ID, Production: true})
	if failed.State != api.StateError {
		t.Fatalf("the build without BUILD_TOKEN: %s, want ERROR", failed.State)
	}
	if _, err := c.CreateEnvVar(ctx, p.ID, api.EnvVarRequest{Key: "BUILD_TOKEN", Value: "present", Targets: []string{api.TargetProduction}}); err != nil {
		t.Fatal(err)
	}
	again, err := c.Redeploy(ctx, failed.ID, true, true)
	if err != nil {
		t.Fatal(err)
	}
	if built := waitBuilt(t, c, again.ID, 0); built.State != api.StateReady {
		t.Fatalf("the redeploy with BUILD_TOKEN: %s %s", built.State, built.ErrorMessage)
	}
	if status, body := get(t, addr, p.ProductionURL); status != 200 || body != "built" {
		t.Errorf("production answers %d %q", status, body)
	}
}

// Redeploying a git deployment builds the same commit, not the branch's newest one.
func TestRedeployOfAGitDeployment(t *testing.T) {
	repo := gittest.New(t)
	sha := repo.Commit("First version", map[string]string{"index.py": handlerApp("v1")})
	c, addr := startEngine(t)
	ctx := context.Background()
	p, err := c.CreateProject(ctx, api.ProjectRequest{Name: "fromgit", GitRepository: &api.GitRepository{URL: repo.Dir, ProductionBranch: "main"}})
	if err != nil {
		t.Fatal(err)
	}
	created, err := c.CreateDeployment(ctx, api.DeploymentRequest{ProjectID: p.ID, Git: &api.GitSource{}, Production: true})
	if err != nil {
		t.Fatal(err)
	}
	first := waitBuilt(t, c, created.ID, 0)
	if first.State != api.StateReady {
		t.Fatalf("first build: %s %s", first.State, first.ErrorMessage)
	}
	repo.Commit("Second version", map[string]string{"index.py": handlerApp("v2")})

	for _, useCache := range []bool{true, false} {
		d, err := c.Redeploy(ctx, first.ID, true, useCache)
		if err != nil {
			t.Fatal(err)
		}
		d = *waitBuilt(t, c, d.ID, 0)
		if d.State != api.StateReady || d.Git == nil || d.Git.SHA != sha || d.Git.Message != "First version" || d.GitBranch != "main" {
			t.Fatalf("redeploy (cache %v): %s %s, commit %+v on %q; want %s of main", useCache, d.State, d.ErrorMessage, d.Git, d.GitBranch, sha)
		}
		if (d.ReusedBuildOf == first.ID) != useCache {
			t.Errorf("redeploy (cache %v) reuses the build of %q", useCache, d.ReusedBuildOf)
		}
		if status, body := get(t, addr, p.ProductionURL); status != 200 || body != "v1" {
			t.Errorf("production after the redeploy (cache %v): %d %q, want the first commit's v1", useCache, status, body)
		}
	}
}
