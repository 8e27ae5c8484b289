package apiserver

import (
	"strings"
	"testing"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
)

func TestBranchScopedEnvVarIsRefused(t *testing.T) {
	srv, _ := newTestServer(t)
	call(t, srv, "POST", "/v1/projects", api.ProjectRequest{Name: "hello"}, nil)
	status, e := call(t, srv, "POST", "/v1/projects/hello/env", api.EnvVarRequest{Key: "DEBUG", Value: "1", Targets: []string{"preview"}, GitBranch: "feature-x"}, nil)
	if status != 400 || e.Field != "git_branch" || !strings.Contains(e.Message, "not supported yet") {
		t.Fatalf("git_branch: %d %+v", status, e)
	}
	var list api.EnvVarList
	call(t, srv, "GET", "/v1/projects/hello/env", nil, &list)
	if len(list.EnvVars) != 0 {
		t.Errorf("the refused variable was stored: %+v", list.EnvVars)
	}
}
