package examples_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferryhq/terraform-provider-ferry/internal/pgtest"
)

// TestModuleTerraformTest runs the python-app module's own tests: the mocked
// plan-level ones (tests/, Terraform 1.7+, no engine) and the apply-level
// ones (tests/engine/) against an engine started by the provider.
func TestModuleTerraformTest(t *testing.T) {
	requireTerraform(t, 6)
	root := workCopy(t, "modules/python-app")
	module := filepath.Join(root, "modules/python-app")
	terraform(t, module, nil, "init", "-input=false")

	t.Run("mocked", func(t *testing.T) {
		requireTerraform(t, 7) // mock_provider
		out := terraform(t, module, nil, "test")
		if !strings.Contains(out, "Success!") || strings.Contains(out, " 0 passed") {
			t.Fatalf("terraform test:\n%s", out)
		}
		t.Logf("%s", lastLine(out))
	})

	t.Run("engine", func(t *testing.T) {
		e := embeddedEngine(t)
		repo := gitRepo(t, filepath.Dir(e.dataDir))
		git(t, repo, "checkout", "-q", "-b", "feature/login")
		editApp(t, repo, `VERSION = "1"`, `VERSION = "2"`, "login")
		git(t, repo, "checkout", "-q", "main")
		out := terraform(t, module, e.env, "test", "-test-directory=tests/engine", `-var=repository="`+repo+`"`)
		if !strings.Contains(out, "Success!") {
			t.Fatalf("terraform test:\n%s", out)
		}
		t.Logf("%s", lastLine(out))
	})
}

// TestModuleExamples applies the module's examples and the quickstart on an
// embedded engine and checks what the apps serve, through a change of env, a
// rollback and previews of git branches.
func TestModuleExamples(t *testing.T) {
	requireTerraform(t, 5)
	root := workCopy(t, "modules/python-app", "examples/quickstart", "examples/apps")
	e := embeddedEngine(t)

	t.Run("flask-minimal", func(t *testing.T) {
		dir := filepath.Join(root, "modules/python-app/examples/flask-minimal")
		terraform(t, dir, e.env, "init", "-input=false")
		terraform(t, dir, e.env, "apply", "-auto-approve")
		prod := output(t, dir, e.env, "production_url")
		first := output(t, dir, e.env, "deployment_id")
		expectBody(t, prod, "Hello from production")

		// An env change is live after one apply.
		terraform(t, dir, e.env, "apply", "-auto-approve", "-var=greeting=Howdy")
		second := output(t, dir, e.env, "deployment_id")
		if second == first {
			t.Fatalf("an env change kept deployment %s", first)
		}
		expectBody(t, prod, "Howdy from production")
		expectBody(t, output(t, dir, e.env, "deployment_url"), "Howdy from production")

		// Rollback: production serves the first deployment again, whose env
		// was frozen with it; the newest keeps its own URL.
		terraform(t, dir, e.env, "apply", "-auto-approve", "-var=greeting=Howdy", "-var=production_deployment_id="+first)
		if got := output(t, dir, e.env, "deployment_id"); got != second {
			t.Fatalf("the rollback replaced the newest deployment %s by %s", second, got)
		}
		expectBody(t, prod, "Hello from production")
		expectBody(t, output(t, dir, e.env, "deployment_url"), "Howdy from production")

		// Roll forward by removing the pin.
		terraform(t, dir, e.env, "apply", "-auto-approve", "-var=greeting=Howdy")
		expectBody(t, prod, "Howdy from production")
		terraform(t, dir, e.env, "destroy", "-auto-approve", "-var=greeting=Howdy")
	})

	t.Run("git-previews", func(t *testing.T) {
		dir := filepath.Join(root, "modules/python-app/examples/git-previews")
		repo := gitRepo(t, root)
		git(t, repo, "checkout", "-q", "-b", "feature/login")
		editApp(t, repo, `VERSION = "1"`, `VERSION = "2"`, "login")
		git(t, repo, "checkout", "-q", "main")

		vars := []string{"-var=repository=" + repo, `-var=preview_branches=["feature/login"]`}
		terraform(t, dir, e.env, "init", "-input=false")
		terraform(t, dir, e.env, append([]string{"apply", "-auto-approve"}, vars...)...)
		expectBody(t, output(t, dir, e.env, "production_url"), "Hello from production, v1")
		previews := terraform(t, dir, e.env, "output", "-json", "preview_urls")
		preview := jsonMapValue(t, previews, "feature/login")
		expectBody(t, preview, "Hello from preview, v2")

		// A push to the branch plans a new preview deployment, and nothing for production.
		git(t, repo, "checkout", "-q", "feature/login")
		editApp(t, repo, `VERSION = "2"`, `VERSION = "3"`, "login, again")
		git(t, repo, "checkout", "-q", "main")
		plan := terraform(t, dir, e.env, append([]string{"plan"}, vars...)...)
		if !strings.Contains(plan, `module.app.ferry_deployment.preview["feature/login"] must be replaced`) ||
			strings.Contains(plan, "module.app.ferry_deployment.production must be replaced") {
			t.Fatalf("a push to the preview branch planned:\n%s", plan)
		}
		terraform(t, dir, e.env, append([]string{"apply", "-auto-approve"}, vars...)...)
		expectBody(t, preview, "Hello from preview, v3")
		terraform(t, dir, e.env, append([]string{"destroy", "-auto-approve"}, vars...)...)
	})

	t.Run("fastapi-supabase", func(t *testing.T) {
		// A local PostgreSQL behind PgBouncer in transaction mode stands in for Supabase's
		// pooler; the connection string comes as Supabase's dashboard gives it.
		db := pgtest.Start(t)
		dir := filepath.Join(root, "modules/python-app/examples/fastapi-supabase")
		conn := "-var=supabase_connection_string=" + db.TransactionURL()
		terraform(t, dir, e.env, "init", "-input=false")
		plan := terraform(t, dir, e.env, "plan", conn)
		for _, want := range []string{"module.api.ferry_supabase_integration.this[0] will be created", `module.api.ferry_domain.this["api.example.com"] will be created`} {
			if !strings.Contains(plan, want) {
				t.Fatalf("plan has no %q:\n%s", want, plan)
			}
		}
		if strings.Contains(plan, db.Password) {
			t.Fatalf("plan shows the database password:\n%s", plan)
		}
		terraform(t, dir, e.env, "apply", "-auto-approve", conn)
		prod := output(t, dir, e.env, "production_url")
		expectBody(t, prod, `"environment":"production"`)
		// The app's lifespan made its table; an item written through it is read back.
		created := post(t, prod+"/items", `{"name":"ship it"}`)
		if !strings.Contains(created, `"name":"ship it"`) {
			t.Fatalf("POST /items: %s", created)
		}
		expectBody(t, prod+"/items", `"name":"ship it"`)
		if records := terraform(t, dir, e.env, "output", "-json", "dns_records"); !strings.Contains(records, "api.example.com") {
			t.Errorf("dns_records: %s", records)
		}
		terraform(t, dir, e.env, "destroy", "-auto-approve", conn)
	})

	t.Run("quickstart", func(t *testing.T) {
		dir := filepath.Join(root, "examples/quickstart")
		terraform(t, dir, e.env, "init", "-input=false")
		terraform(t, dir, e.env, "apply", "-auto-approve")
		expectBody(t, output(t, dir, e.env, "production_url"), "Hello from flask-hello v1 (production)")
		terraform(t, dir, e.env, "destroy", "-auto-approve")
	})
}

// post sends body as JSON to an app URL (see get) and returns the answer, which must be a 2xx.
func post(t *testing.T, rawURL, body string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, "http://127.0.0.1:"+u.Port()+u.Path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Host = u.Host
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	answer, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		t.Fatalf("POST %s: %d %s", rawURL, resp.StatusCode, answer)
	}
	return string(answer)
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// jsonMapValue reads one value of a JSON object of strings.
func jsonMapValue(t *testing.T, doc, key string) string {
	t.Helper()
	var m map[string]string
	if err := json.Unmarshal([]byte(doc), &m); err != nil {
		t.Fatalf("%v: %s", err, doc)
	}
	v, ok := m[key]
	if !ok {
		t.Fatalf("no %q in %s", key, doc)
	}
	return v
}
