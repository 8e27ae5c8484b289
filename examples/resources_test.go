package examples_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ferryhq/terraform-provider-ferry/internal/pgtest"
)

// The examples of examples/resources, examples/data-sources and examples/functions are what the
// docs show for each resource, data source and function. TestDocExamples applies every one of
// them as it is written against an embedded engine, each in a directory of its own with what a
// documentation snippet leaves out: the provider's requirement, the resources it refers to, its
// app directories and its variables (harness.tf and the environment). What would reach outside
// this machine is pointed at local stand-ins by override files, which Terraform merges into the
// snippet: GitHub repositories become a local git server, Supabase a local PostgreSQL behind
// PgBouncer. The DNS provider's resources of the domain example are left out: their provider
// cannot be installed offline.
func TestDocExamples(t *testing.T) {
	requireTerraform(t, 11) // value_wo and connection_string_wo are write-only arguments
	repos := newDataDir(t)
	t.Cleanup(func() { _ = os.RemoveAll(repos) })
	repo := filepath.Join(repos, "api")
	copyTree(t, filepath.Join(repoRoot, "examples/apps/flask-hello"), repo)
	git(t, repo, "init", "-q", "-b", "main")
	git(t, repo, "add", ".")
	git(t, repo, "commit", "-q", "-m", "first")
	git(t, repo, "checkout", "-q", "-b", "feature/login")
	editApp(t, repo, `VERSION = "1"`, `VERSION = "2"`, "login page")
	git(t, repo, "checkout", "-q", "main")
	gitURL := serveGit(t, repos) + "/api"
	featureSHA := gitOutput(t, repo, "rev-parse", "feature/login")

	const project = `resource "ferry_project" "api" {
  name = "my-flask-app"
}
`
	const gitProject = `resource "ferry_project" "api" {
  name = "api"
  git_repository = {
    url               = "` + "GIT_URL" + `"
    production_branch = "main"
  }
}
`
	for _, tc := range []struct {
		name    string
		harness string            // what the snippet refers to
		extra   map[string]string // override files, by name
		apps    []string          // directories the snippet deploys, each a copy of flask-hello
		env     []string
		needsDB bool
		check   func(t *testing.T, dir string, env []string)
	}{
		{
			name: "resources/ferry_project",
			env:  []string{"TF_VAR_preview_password=preview-password-out-of-state", "TF_VAR_ci_bypass_secret=ci-bypass-secret-that-stays-out-of-state"},
			check: func(t *testing.T, dir string, env []string) {
				if url := output(t, dir, env, "production_url"); !strings.HasPrefix(url, "http://my-flask-app.localhost:") {
					t.Errorf("production_url %q", url)
				}
				state, err := os.ReadFile(filepath.Join(dir, "terraform.tfstate"))
				if err != nil || strings.Contains(string(state), "out-of-state") {
					t.Errorf("a write-only preview secret is in the state (%v)", err)
				}
			},
		},
		{
			name:    "resources/ferry_env_var",
			harness: project,
			env:     []string{"TF_VAR_api_key=api-key-that-stays-out-of-state"},
			check: func(t *testing.T, dir string, env []string) {
				state, err := os.ReadFile(filepath.Join(dir, "terraform.tfstate"))
				if err != nil || strings.Contains(string(state), "api-key-that-stays-out-of-state") {
					t.Errorf("the write-only value is in the state (%v)", err)
				}
			},
		},
		{
			name: "resources/ferry_deployment",
			harness: project + `resource "ferry_env_var" "greeting" {
  project_id = ferry_project.api.id
  key        = "GREETING"
  value      = "Hello"
  target     = ["production", "preview"]
}

resource "ferry_env_var" "api_key" {
  project_id = ferry_project.api.id
  key        = "API_KEY"
  value      = "k"
  target     = ["production"]
}
`,
			extra: map[string]string{"git_override.tf": `resource "ferry_deployment" "feature" {
  source = { git = { url = "GIT_URL", ref = "feature/login" } }
}
`},
			apps: []string{"app"},
			check: func(t *testing.T, dir string, env []string) {
				expectBody(t, output(t, dir, env, "deployment_url"), "Hello from flask-hello v1 (production)")
				if sha := output(t, dir, env, "deployed_commit"); sha != featureSHA {
					t.Errorf("deployed_commit %q, want feature/login's %s", sha, featureSHA)
				}
			},
		},
		{
			name: "resources/ferry_alias",
			apps: []string{"releases/41", "releases/42"},
			check: func(t *testing.T, dir string, env []string) {
				expectBody(t, output(t, dir, env, "production_url_for_test"), "from flask-hello v41")
			},
			extra: map[string]string{"test_outputs.tf": `output "production_url_for_test" {
  value = ferry_project.api.production_url
}
`},
		},
		{
			name: "resources/ferry_domain",
			check: func(t *testing.T, dir string, env []string) {
				// HTTPS is off on the test's engine: the URL is the plain HTTP one until then.
				if url := output(t, dir, env, "shop_url"); !regexp.MustCompile(`^https?://example\.com(:\d+)?$`).MatchString(url) {
					t.Errorf("shop_url %q", url)
				}
			},
		},
		{
			name:    "resources/ferry_supabase_integration",
			harness: project,
			apps:    []string{"app"},
			needsDB: true,
			env:     []string{"TF_VAR_supabase_service_role_key=service-role-key-for-the-test"},
			check: func(t *testing.T, dir string, env []string) {
				if changes := strings.TrimSpace(terraform(t, dir, env, "output", "-json", "database_url_changes")); changes == "[]" || changes == "null" {
					t.Errorf("database_url_changes: %s", changes)
				}
			},
		},
		{
			name: "data-sources/ferry_git_ref",
			extra: map[string]string{"git_override.tf": `resource "ferry_project" "api" {
  git_repository = { url = "GIT_URL", production_branch = "main" }
}
`},
			check: func(t *testing.T, dir string, env []string) {
				if deployed := output(t, dir, env, "deployed"); !strings.HasSuffix(deployed, ": first") {
					t.Errorf("deployed %q", deployed)
				}
			},
		},
		{
			name: "data-sources/ferry_deployment",
			// The data sources read what another configuration made: it is applied first.
			harness: gitProject + `resource "ferry_deployment" "production" {
  project_id = ferry_project.api.id
  source     = { git = { ref = "main" } }
  production = true
}

resource "ferry_deployment" "feature" {
  project_id = ferry_project.api.id
  source     = { git = { ref = "feature/login" } }
}
`,
			check: func(t *testing.T, dir string, env []string) {
				expectBody(t, output(t, dir, env, "feature_url"), "from flask-hello v2 (preview)")
			},
		},
		{
			name:    "data-sources/ferry_usage",
			harness: project,
			check: func(t *testing.T, dir string, env []string) {
				if used := output(t, dir, env, "api_gb_hours_this_month"); used != "0" {
					t.Errorf("api_gb_hours_this_month %q of a project that served nothing", used)
				}
			},
		},
		{
			name:    "functions/sanitize_database_url",
			harness: project + "variable \"analytics_connection_string\" {\n  type = string\n}\n",
			env:     []string{"TF_VAR_analytics_connection_string=postgres://postgres.abcdefghijklmnopqrst:pw@aws-0-eu-central-1.pooler.supabase.com:6543/postgres?supa=base-pooler.x"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := embeddedEngine(t)
			dir := t.TempDir()
			src := filepath.Join(repoRoot, "examples", tc.name)
			entries, err := os.ReadDir(src)
			if err != nil {
				t.Fatal(err)
			}
			for _, entry := range entries {
				if !strings.HasSuffix(entry.Name(), ".tf") {
					continue
				}
				b, err := os.ReadFile(filepath.Join(src, entry.Name()))
				if err != nil {
					t.Fatal(err)
				}
				writeFile(t, filepath.Join(dir, entry.Name()), withoutOfflineProviders(string(b)))
			}
			harness := "terraform {\n  required_providers {\n    ferry = {\n      source = \"ferryhq/ferry\"\n    }\n  }\n}\n\nprovider \"ferry\" {}\n\n" + tc.harness
			writeFile(t, filepath.Join(dir, "harness.tf"), strings.ReplaceAll(harness, "GIT_URL", gitURL))
			for name, content := range tc.extra {
				writeFile(t, filepath.Join(dir, name), strings.ReplaceAll(content, "GIT_URL", gitURL))
			}
			for _, app := range tc.apps {
				copyTree(t, filepath.Join(repoRoot, "examples/apps/flask-hello"), filepath.Join(dir, app))
				if release := filepath.Base(app); strings.HasPrefix(app, "releases/") {
					editFile(t, filepath.Join(dir, app, "app.py"), `VERSION = "1"`, `VERSION = "`+release+`"`)
				}
			}
			env := append(append([]string{}, e.env...), tc.env...)
			if tc.needsDB {
				db := pgtest.Start(t)
				env = append(env, "TF_VAR_supabase_connection_string="+db.TransactionURL())
			}
			terraform(t, dir, env, "init", "-input=false")
			if tc.name == "data-sources/ferry_deployment" {
				terraform(t, dir, env, "apply", "-auto-approve", "-input=false", "-target=ferry_deployment.production", "-target=ferry_deployment.feature")
			}
			terraform(t, dir, env, "apply", "-auto-approve", "-input=false")
			if tc.check != nil {
				tc.check(t, dir, env)
			}
			// Applied again, nothing changes.
			if out := terraform(t, dir, env, "plan", "-input=false", "-detailed-exitcode"); !strings.Contains(out, "No changes") {
				t.Errorf("a second plan is not empty:\n%s", out)
			}
		})
	}

	t.Run("provider", func(t *testing.T) {
		dir := t.TempDir()
		copyTree(t, filepath.Join(repoRoot, "examples/provider"), dir)
		terraform(t, dir, nil, "init", "-input=false")
		// Its remote and custom configurations name machines that are not here: checked, not applied.
		terraform(t, dir, nil, "validate")
	})
}

// offlineProviderBlock matches a top-level resource of a provider other than ferry.
var offlineProviderBlock = regexp.MustCompile(`(?ms)^resource "(?:cloudflare|aws|google)_[a-z_]+" "[^"]+" \{.*?^\}\n`)

// withoutOfflineProviders leaves out the resources of providers that cannot be installed here.
func withoutOfflineProviders(hcl string) string {
	return offlineProviderBlock.ReplaceAllString(hcl, "")
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func gitOutput(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("git %s: %v", strings.Join(args, " "), err)
	}
	return strings.TrimSpace(string(out))
}
