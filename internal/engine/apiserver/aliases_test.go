package apiserver

import (
	"context"
	"testing"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/runspec"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
)

// storeDeployment puts a deployment of project p in the store as a build worker would leave it.
func storeDeployment(t *testing.T, st store.Store, p *api.Project, id, target string, ready bool) {
	t.Helper()
	ctx := context.Background()
	d := &store.Deployment{ID: id, ProjectID: p.ID, Target: target, Hostname: p.Name + "-" + id + ".localhost", Files: []byte("[]"), SealedEnv: []byte("x")}
	if err := st.EnqueueDeployment(ctx, d, 100); err != nil {
		t.Fatal(err)
	}
	if !ready {
		return
	}
	claimed, err := st.ClaimDeployment(ctx, "test", time.Now().Add(time.Hour), nil)
	if err != nil || claimed == nil || claimed.ID != id {
		t.Fatalf("claim %s: %+v %v", id, claimed, err)
	}
	claimed.Run = &runspec.Spec{AppDir: ".", Python: "python", Entrypoint: "app:app", Kind: runspec.KindWSGI}
	if err := st.MarkReady(ctx, claimed, store.Moves{Production: target == api.TargetProduction}); err != nil {
		t.Fatal(err)
	}
}

func TestAliases(t *testing.T) {
	srv, st := newTestServer(t)
	var p, other api.Project
	call(t, srv, "POST", "/v1/projects", api.ProjectRequest{Name: "shop"}, &p)
	call(t, srv, "POST", "/v1/projects", api.ProjectRequest{Name: "other"}, &other)
	storeDeployment(t, st, &p, "v1", api.TargetProduction, true)
	storeDeployment(t, st, &p, "v2", api.TargetProduction, true)
	storeDeployment(t, st, &p, "pr", api.TargetPreview, true)
	storeDeployment(t, st, &other, "o1", api.TargetProduction, true)
	storeDeployment(t, st, &p, "q1", api.TargetProduction, false) // last: it stays queued
	production := "/v1/projects/shop/production"

	for name, tt := range map[string]struct {
		path, deployment string
		status           int
		field            string
	}{
		"empty deployment id":       {production, "", 400, "deployment_id"},
		"a preview deployment":      {production, "pr", 400, "deployment_id"},
		"a queued deployment":       {production, "q1", 409, "deployment_id"},
		"another project's":         {production, "o1", 404, "deployment_id"},
		"no such deployment":        {production, "nope", 404, "deployment_id"},
		"not a production hostname": {"/v1/projects/shop/aliases/shop-v1.localhost", "v1", 404, ""},
		"no such project":           {"/v1/projects/nope/production", "v1", 404, ""},
	} {
		status, e := call(t, srv, "PUT", tt.path, api.AliasRequest{DeploymentID: tt.deployment}, nil)
		if status != tt.status || e.Field != tt.field || e.Message == "" {
			t.Errorf("%s: %d %+v, want %d on field %q", name, status, e, tt.status, tt.field)
		}
	}
	var a api.Alias
	call(t, srv, "GET", production, nil, &a)
	if a.DeploymentID != "v2" || a.Pinned {
		t.Fatalf("refused requests moved production: %+v", a)
	}

	if status, e := call(t, srv, "PUT", production, api.AliasRequest{DeploymentID: "v1"}, &a); status != 200 {
		t.Fatalf("roll back to v1: %d %+v", status, e)
	}
	if a.DeploymentID != "v1" || !a.Pinned || len(a.URLs) != 1 || a.URLs[0] != "http://shop.localhost:3080" {
		t.Errorf("after the rollback: %+v", a)
	}
	if status, e := call(t, srv, "DELETE", "/v1/deployments/v1", nil, nil); status != 409 || e.Code != api.CodeConflict {
		t.Errorf("delete of the pinned deployment: %d %+v, want 409", status, e)
	}
	if _, _, err := st.CancelDeployment(context.Background(), "q1"); err != nil {
		t.Fatal(err)
	}
	storeDeployment(t, st, &p, "v3", api.TargetProduction, true)
	call(t, srv, "GET", "/v1/projects/shop/aliases/shop.localhost", nil, &a)
	if a.DeploymentID != "v1" || a.Hostname != "shop.localhost" {
		t.Errorf("a new production deployment moved the pinned alias: %+v", a)
	}
	if status, e := call(t, srv, "DELETE", production, nil, nil); status != 204 {
		t.Fatalf("release: %d %+v", status, e)
	}
	call(t, srv, "GET", production, nil, &a)
	if a.DeploymentID != "v3" || a.Pinned {
		t.Errorf("after the release: %+v, want the newest production deployment v3", a)
	}
}
