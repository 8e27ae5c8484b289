package envvars

import (
	"slices"
	"strings"
	"testing"
)

func TestResolve(t *testing.T) {
	d := Deployment{ID: "dpl_1", ProjectName: "hello", Target: "preview", GitBranch: "feat", Hostname: "hello-abc.localhost", ProductionHost: "hello.localhost"}
	vars := []Var{
		{Key: "ONLY_PROD", Value: "p", Targets: []string{"production"}},
		{Key: "SHARED", Value: "any-branch", Targets: []string{"preview", "production"}},
		{Key: "SHARED", Value: "feat-branch", Targets: []string{"preview"}, GitBranch: "feat"},
		{Key: "OTHER_BRANCH", Value: "x", Targets: []string{"preview"}, GitBranch: "main"},
	}
	got := Resolve(d, vars)
	want := []string{"SHARED=feat-branch", "VERCEL=1", "VERCEL_ENV=preview", "VERCEL_URL=hello-abc.localhost", "FERRY_DEPLOYMENT_ID=dpl_1"}
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("missing %s in %v", w, got)
		}
	}
	for _, kv := range got {
		if strings.HasPrefix(kv, "ONLY_PROD=") || strings.HasPrefix(kv, "OTHER_BRANCH=") {
			t.Errorf("%s leaked into a preview of branch feat", kv)
		}
	}
	if !slices.IsSorted(got) {
		t.Error("env is not sorted")
	}
}
