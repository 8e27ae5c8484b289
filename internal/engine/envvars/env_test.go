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
	base := Digest(Select(prod, vars))
	if again := Digest(Select(prod, vars)); again != base || !strings.HasPrefix(base, "sha256:") {
		t.Fatalf("digest is not stable: %s, %s", base, again)
	}
	// A preview-only change leaves production's digest alone.
	vars[1].ValueDigest = "hmac-sha256:y"
	if Digest(Select(prod, vars)) != base {
		t.Error("a preview var changed production's digest")
	}
	vars[0].ValueDigest = "hmac-sha256:2"
	if Digest(Select(prod, vars)) == base {
		t.Error("a production value change left its digest alone")
	}
	// A branch var applies to previews of its branch only.
	branchVars := append(vars, Var{Key: "B", ValueDigest: "hmac-sha256:feat", Targets: []string{"preview"}, GitBranch: "feat"})
	feat := Deployment{Target: "preview", GitBranch: "feat"}
	if Select(feat, branchVars)["B"].ValueDigest != "hmac-sha256:feat" {
		t.Error("the branch's own value did not win on its preview")
	}
	if Select(Deployment{Target: "preview", GitBranch: "main"}, branchVars)["B"].ValueDigest != "hmac-sha256:y" {
		t.Error("another branch's value applied")
	}
	if _, ok := Select(Deployment{Target: "production", GitBranch: "feat"}, branchVars)["B"]; ok {
		t.Error("a preview branch var applied to production")
	}
}
