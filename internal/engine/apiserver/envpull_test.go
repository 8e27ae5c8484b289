package apiserver

import (
	"net/http"
	"strings"
	"testing"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
)

func TestEnvPullGivesWhatADeploymentWouldGet(t *testing.T) {
	srv, _ := newTestServer(t)
	call(t, srv, "POST", "/v1/projects", api.ProjectRequest{Name: "hello"}, nil)
	for _, v := range []api.EnvVarRequest{
		{Key: "GREETING", Value: "hello", Targets: []string{"development", "preview", "production"}},
		{Key: "GREETING", Value: "hi from feature", Targets: []string{"preview"}, GitBranch: "feature"},
	} {
		if status, e := call(t, srv, "POST", "/v1/projects/hello/env", v, nil); status != http.StatusCreated {
			t.Fatalf("env var: %d %+v", status, e)
		}
	}
	if status, e := call(t, srv, "POST", integrations, api.SupabaseIntegrationRequest{ConnectionString: copiedURL, Driver: "asyncpg", Targets: []string{"production"}}, nil); status != http.StatusCreated {
		t.Fatalf("integration: %d %+v", status, e)
	}
	var production, feature, development api.EnvPull
	call(t, srv, "GET", "/v1/projects/hello/env-pull?target=production", nil, &production)
	call(t, srv, "GET", "/v1/projects/hello/env-pull?target=preview&git_branch=feature", nil, &feature)
	call(t, srv, "GET", "/v1/projects/hello/env-pull?target=development", nil, &development)
	if production.Vars["GREETING"] != "hello" || !strings.Contains(production.Vars["DATABASE_URL"], testPassword) || strings.Contains(production.Vars["DATABASE_URL"], "supa=") {
		t.Errorf("production: %v; want GREETING and the integration's DATABASE_URL, made safe for asyncpg", production.Vars)
	}
	if feature.Vars["GREETING"] != "hi from feature" || feature.Vars["DATABASE_URL"] != "" {
		t.Errorf("preview of feature: %v", feature.Vars)
	}
	if len(development.Vars) != 1 || development.Vars["GREETING"] != "hello" {
		t.Errorf("development: %v", development.Vars)
	}
	for query, field := range map[string]string{"?target=staging": "target", "?target=production&git_branch=feature": "git_branch"} {
		if status, e := call(t, srv, "GET", "/v1/projects/hello/env-pull"+query, nil, nil); status != http.StatusBadRequest || e.Field != field {
			t.Errorf("%s: %d %+v; want 400 on %s", query, status, e, field)
		}
	}
	if status, _ := call(t, srv, "GET", "/v1/projects/nope/env-pull?target=production", nil, nil); status != http.StatusNotFound {
		t.Errorf("unknown project: %d", status)
	}
}
