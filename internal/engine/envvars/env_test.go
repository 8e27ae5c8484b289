package envvars

import (
	"slices"
	"strings"
	"testing"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
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

func TestSystemGitAndBranchVariables(t *testing.T) {
	git := &api.GitCommit{URL: "https://github.com/acme/shop.git", Provider: "github", RepoOwner: "acme", RepoSlug: "shop",
		Ref: "feat", Branch: "feat", SHA: "0123456789abcdef0123456789abcdef01234567", Message: "Add cart",
		AuthorName: "Ada", AuthorEmail: "ada@example.com", AuthorLogin: "ada"}
	d := Deployment{ID: "dpl_1", ProjectName: "shop", Target: "preview", GitBranch: "feat", Git: git,
		Hostname: "shop-abc.localhost:3080", ProductionHost: "shop.localhost:3080", BranchHost: "shop-git-feat.localhost:3080"}
	sys := System(d)
	for key, want := range map[string]string{
		"VERCEL_TARGET_ENV":              "preview",
		"VERCEL_URL":                     "shop-abc.localhost:3080",
		"VERCEL_BRANCH_URL":              "shop-git-feat.localhost:3080",
		"VERCEL_GIT_PROVIDER":            "github",
		"VERCEL_GIT_REPO_OWNER":          "acme",
		"VERCEL_GIT_REPO_SLUG":           "shop",
		"VERCEL_GIT_COMMIT_REF":          "feat",
		"VERCEL_GIT_COMMIT_SHA":          git.SHA,
		"VERCEL_GIT_COMMIT_MESSAGE":      "Add cart",
		"VERCEL_GIT_COMMIT_AUTHOR_NAME":  "Ada",
		"VERCEL_GIT_COMMIT_AUTHOR_LOGIN": "ada",
		"FERRY_GIT_COMMIT_SHA":           git.SHA,
		"FERRY_GIT_REPO_URL":             git.URL,
		"FERRY_GIT_COMMIT_AUTHOR_EMAIL":  "ada@example.com",
		"FERRY_BRANCH_URL":               "shop-git-feat.localhost:3080",
	} {
		if sys[key] != want {
			t.Errorf("%s = %q, want %q", key, sys[key], want)
		}
	}
	// Without git, no git variables: an app's os.getenv default then applies.
	for key := range System(Deployment{ID: "dpl_2", Target: "production"}) {
		if strings.Contains(key, "_GIT_") || strings.HasSuffix(key, "BRANCH_URL") {
			t.Errorf("%s set for a deployment not from git", key)
		}
	}
}

func TestDigestFollowsTheSelectedValues(t *testing.T) {
	prod := Deployment{Target: "production"}
	vars := []Var{
		{Key: "A", Value: "1", ValueDigest: "hmac-sha256:1", Targets: []string{"production"}},
		{Key: "B", Value: "x", ValueDigest: "hmac-sha256:x", Targets: []string{"preview"}},
	}
	base := Digest(Select(prod, vars, nil))
	if again := Digest(Select(prod, vars, nil)); again != base || !strings.HasPrefix(base, "sha256:") {
		t.Fatalf("digest is not stable: %s, %s", base, again)
	}
	// A preview-only change leaves production's digest alone.
	vars[1].ValueDigest = "hmac-sha256:y"
	if Digest(Select(prod, vars, nil)) != base {
		t.Error("a preview var changed production's digest")
	}
	vars[0].ValueDigest = "hmac-sha256:2"
	if Digest(Select(prod, vars, nil)) == base {
		t.Error("a production value change left its digest alone")
	}
	// A branch var applies to previews of its branch only.
	branchVars := append(vars, Var{Key: "B", ValueDigest: "hmac-sha256:feat", Targets: []string{"preview"}, GitBranch: "feat"})
	feat := Deployment{Target: "preview", GitBranch: "feat"}
	if Select(feat, branchVars, nil)["B"].ValueDigest != "hmac-sha256:feat" {
		t.Error("the branch's own value did not win on its preview")
	}
	if Select(Deployment{Target: "preview", GitBranch: "main"}, branchVars, nil)["B"].ValueDigest != "hmac-sha256:y" {
		t.Error("another branch's value applied")
	}
	if _, ok := Select(Deployment{Target: "production", GitBranch: "feat"}, branchVars, nil)["B"]; ok {
		t.Error("a preview branch var applied to production")
	}
	// An integration's values count through its digest.
	db := Integration{Targets: []string{"production"}, Vars: map[string]string{"DATABASE_URL": "postgresql://a"}, Digest: "hmac-sha256:a"}
	withDB := Digest(Select(prod, vars, []Integration{db}))
	db.Digest = "hmac-sha256:b"
	if withDB == Digest(Select(prod, vars, nil)) || withDB == Digest(Select(prod, vars, []Integration{db})) {
		t.Error("an integration's connection, or its change, left production's digest alone")
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
