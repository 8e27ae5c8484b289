package apiserver

import (
	"strings"
	"testing"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
)

func TestBranchScopedEnvVars(t *testing.T) {
	srv, _ := newTestServer(t)
	call(t, srv, "POST", "/v1/projects", api.ProjectRequest{Name: "hello"}, nil)
	for _, tc := range []struct {
		req  api.EnvVarRequest
		want string
	}{
		{api.EnvVarRequest{Key: "DEBUG", Value: "1", Targets: []string{"preview", "production"}, GitBranch: "feature-x"}, `set target = ["preview"]`},
		{api.EnvVarRequest{Key: "DEBUG", Value: "1", Targets: []string{"production"}, GitBranch: "feature-x"}, `set target = ["preview"]`},
		{api.EnvVarRequest{Key: "DEBUG", Value: "1", Targets: []string{"preview"}, GitBranch: "feature x"}, "not a valid git branch name"},
	} {
		status, e := call(t, srv, "POST", "/v1/projects/hello/env", tc.req, nil)
		if status != 400 || e.Field != "git_branch" || !strings.Contains(e.Message, tc.want) {
			t.Errorf("%+v: %d %+v, want 400 saying %q", tc.req, status, e, tc.want)
		}
	}
	var list api.EnvVarList
	call(t, srv, "GET", "/v1/projects/hello/env", nil, &list)
	if len(list.EnvVars) != 0 {
		t.Errorf("a refused variable was stored: %+v", list.EnvVars)
	}

	var before, other, after api.EnvDigest
	call(t, srv, "GET", "/v1/projects/hello/env-digest?target=preview&git_branch=feature-x", nil, &before)
	var created api.EnvVar
	if status, e := call(t, srv, "POST", "/v1/projects/hello/env", api.EnvVarRequest{Key: "DEBUG", Value: "1", Targets: []string{"preview"}, GitBranch: "feature-x"}, &created); status != 201 {
		t.Fatalf("a preview var of a branch: %d %+v", status, e)
	}
	if created.GitBranch != "feature-x" {
		t.Errorf("created var: %+v", created)
	}
	call(t, srv, "GET", "/v1/projects/hello/env-digest?target=preview&git_branch=feature-x", nil, &after)
	call(t, srv, "GET", "/v1/projects/hello/env-digest?target=preview&git_branch=main", nil, &other)
	if after.EnvDigest == before.EnvDigest || other.EnvDigest != before.EnvDigest || !strings.HasPrefix(after.EnvDigest, "sha256:") {
		t.Errorf("env digests: before %q, after %q, other branch %q: only feature-x's should change", before.EnvDigest, after.EnvDigest, other.EnvDigest)
	}
	if status, e := call(t, srv, "GET", "/v1/projects/hello/env-digest?target=staging", nil, nil); status != 400 || e.Field != "target" {
		t.Errorf("env digest of an unknown target: %d %+v", status, e)
	}
}

func TestProjectGitRepositoryAndRetention(t *testing.T) {
	srv, _ := newTestServer(t)
	var p api.Project
	status, e := call(t, srv, "POST", "/v1/projects", api.ProjectRequest{Name: "hello",
		GitRepository: &api.GitRepository{URL: "https://example.com/acme/hello.git", ProductionBranch: "main"},
		Retention:     &api.Retention{Preview: "1w", Errored: "1d"}}, &p)
	if status != 201 {
		t.Fatalf("create: %d %+v", status, e)
	}
	want := api.Retention{Production: "unlimited", Preview: "1w", Errored: "1d", Canceled: "unlimited"}
	if p.GitRepository == nil || p.GitRepository.ProductionBranch != "main" || p.Retention != want {
		t.Errorf("project: %+v", p)
	}
	for _, tc := range []struct {
		req   api.ProjectRequest
		field string
	}{
		{api.ProjectRequest{Name: "x", Retention: &api.Retention{Preview: "5d"}}, "retention.preview"},
		{api.ProjectRequest{Name: "x", GitRepository: &api.GitRepository{URL: " "}}, "git_repository.url"},
		{api.ProjectRequest{Name: "x", GitRepository: &api.GitRepository{URL: "https://example.com/x.git", ProductionBranch: "a b"}}, "git_repository.production_branch"},
	} {
		if status, e := call(t, srv, "POST", "/v1/projects", tc.req, nil); status != 400 || e.Field != tc.field {
			t.Errorf("%+v: %d %+v, want 400 on %s", tc.req, status, e, tc.field)
		}
	}
	// Replacing the settings without them clears them.
	var cleared api.Project
	call(t, srv, "PUT", "/v1/projects/hello", api.ProjectRequest{Name: "hello"}, &cleared)
	if cleared.GitRepository != nil || cleared.Retention.Preview != "unlimited" {
		t.Errorf("after clearing: %+v", cleared)
	}
}
