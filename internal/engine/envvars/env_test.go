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
	got := Resolve(d, vars, nil)
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

func TestResolveIntegrations(t *testing.T) {
	production := Integration{
		Targets: []string{"production", "preview"},
		Vars:    map[string]string{"DATABASE_URL": "postgresql://prod", "SUPABASE_SERVICE_ROLE_KEY": "prod-key"},
		System:  map[string]string{"FERRY_DB_DRIVER_SETTINGS": "asyncpg:statement_cache_size=0"},
	}
	feature := Integration{
		Targets:   []string{"preview"},
		GitBranch: "feature",
		Vars:      map[string]string{"DATABASE_URL": "postgresql://feature"},
	}
	vars := []Var{
		{Key: "DATABASE_URL", Value: "postgresql://hotfix-var", Targets: []string{"preview"}, GitBranch: "hotfix"},
		{Key: "OTHER", Value: "x", Targets: []string{"preview"}},
	}
	for _, tc := range []struct {
		name      string
		d         Deployment
		want, not []string
	}{
		{"production", Deployment{Target: "production"},
			[]string{"DATABASE_URL=postgresql://prod", "SUPABASE_SERVICE_ROLE_KEY=prod-key", "FERRY_DB_DRIVER_SETTINGS=asyncpg:statement_cache_size=0"}, nil},
		{"preview of another branch", Deployment{Target: "preview", GitBranch: "main"},
			[]string{"DATABASE_URL=postgresql://prod", "OTHER=x"}, nil},
		{"preview of the branch with a database of its own", Deployment{Target: "preview", GitBranch: "feature"},
			[]string{"DATABASE_URL=postgresql://feature", "OTHER=x"},
			// Nothing of production's integration, not even keys the branch's lacks.
			[]string{"SUPABASE_SERVICE_ROLE_KEY=", "FERRY_DB_DRIVER_SETTINGS="}},
		{"a branch's own var wins over an integration for any branch", Deployment{Target: "preview", GitBranch: "hotfix"},
			[]string{"DATABASE_URL=postgresql://hotfix-var", "SUPABASE_SERVICE_ROLE_KEY=prod-key"}, nil},
		{"development gets nothing of them", Deployment{Target: "development"}, nil, []string{"DATABASE_URL=", "FERRY_DB_DRIVER_SETTINGS="}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Resolve(tc.d, vars, []Integration{production, feature})
			for _, w := range tc.want {
				if !slices.Contains(got, w) {
					t.Errorf("missing %s in %v", w, got)
				}
			}
			for _, n := range tc.not {
				for _, kv := range got {
					if strings.HasPrefix(kv, n) {
						t.Errorf("%s should not be there: %v", kv, got)
					}
				}
			}
		})
	}
}
