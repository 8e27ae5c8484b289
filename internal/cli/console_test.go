//go:build !windows

package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/client"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine"
	"github.com/ferryhq/terraform-provider-ferry/internal/freeport"
)

// testEngine is an engine running in the test's process, on a data dir of its own, with its
// API on the unix socket and on TCP behind token.
type testEngine struct {
	dataDir     string
	httpAddress string
	apiAddress  string
	token       string
	c           *client.Client
}

func startTestEngine(t testing.TB) *testEngine {
	t.Helper()
	if err := exec.Command("/usr/bin/python3", "-c", "import venv").Run(); err != nil {
		t.Skipf("/usr/bin/python3 with venv is needed to build: %v", err)
	}
	dataDir, err := os.MkdirTemp("", "ferry-cli") //nolint:usetesting // apps' uids must pass through it; short for the socket path
	if err != nil {
		t.Fatal(err)
	}
	te := &testEngine{dataDir: dataDir, apiAddress: freeport.Loopback(t), token: "the-right-token"}
	ctx, cancel := context.WithCancel(context.Background())
	e, err := engine.Start(ctx, engine.Config{DataDir: dataDir, HTTPAddress: "127.0.0.1:0", Python: "/usr/bin/python3",
		APIAddress: te.apiAddress, Token: te.token, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = e.Shutdown(context.Background())
		_ = os.RemoveAll(dataDir)
	})
	if te.c, err = client.New(client.Config{Endpoint: "unix://" + filepath.Join(dataDir, api.SocketName)}); err != nil {
		t.Fatal(err)
	}
	health, err := te.c.Health(ctx)
	if err != nil {
		t.Fatal(err)
	}
	te.httpAddress = health.HTTPAddress
	// No saved login of the machine running the tests may leak in.
	t.Setenv("FERRY_CONFIG", filepath.Join(t.TempDir(), "config.json"))
	t.Setenv("FERRY_ENDPOINT", "")
	t.Setenv("FERRY_TOKEN", "")
	return te
}

// ferry runs the command line with args (after --data-dir of the engine when local) and
// returns its exit code, stdout and stderr.
func (te *testEngine) ferry(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	return te.ferryWithInput(t, "", append([]string{"--data-dir", te.dataDir}, args...)...)
}

func (te *testEngine) ferryWithInput(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := runWithInput(args, strings.NewReader(stdin), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// mustFerry is ferry for a command that must succeed.
func (te *testEngine) mustFerry(t *testing.T, args ...string) string {
	t.Helper()
	code, stdout, stderr := te.ferry(t, args...)
	if code != 0 {
		t.Fatalf("ferry %s: exit %d\n%s%s", strings.Join(args, " "), code, stdout, stderr)
	}
	return stdout
}

// versionedApp is an app answering "v<version>" and printing a line per request, with a
// requirement pip installs offline from a wheel in the source.
func versionedApp(t testing.TB, version string) string {
	t.Helper()
	wheel, err := os.ReadFile(filepath.Join("..", "engine", "builder", "testdata", "wheels", "ferry_testpkg-1.0-py3-none-any.whl"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for name, content := range map[string]string{
		"index.py": "import sys\nfrom http.server import BaseHTTPRequestHandler\n\n\nclass handler(BaseHTTPRequestHandler):\n" +
			"    def do_GET(self):\n        print('request-seen-by-v" + version + " ' + self.path, flush=True)\n" +
			"        self.send_response(200)\n        self.end_headers()\n        self.wfile.write(b'v" + version + "')\n",
		"requirements.txt":                          "--no-index\n--find-links wheels\nferry-testpkg==1.0\n",
		"wheels/ferry_testpkg-1.0-py3-none-any.whl": string(wheel),
	} {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// deploy deploys dir to project for production and waits for the build to end.
func (te *testEngine) deploy(t testing.TB, projectID, dir string) *api.Deployment {
	t.Helper()
	ctx := context.Background()
	d, err := te.c.Deploy(ctx, projectID, dir, true)
	if err != nil {
		t.Fatal(err)
	}
	waitCtx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	if d, err = te.c.WaitDeployment(waitCtx, d.ID, 50*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	return d
}

// get answers a GET of rawURL from the engine's edge.
func (te *testEngine) get(t *testing.T, rawURL string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", "http://"+te.httpAddress+u.RequestURI(), nil)
	req.Host = u.Host // *.localhost does not resolve in Go
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(resp.Body)
	return string(body)
}

// wantFailure checks that a command fails with code and says want on stderr.
func (te *testEngine) wantFailure(t *testing.T, code int, want string, args ...string) {
	t.Helper()
	got, stdout, stderr := te.ferry(t, args...)
	if got != code || !strings.Contains(stderr, want) {
		t.Errorf("ferry %s: exit %d, %s%s; want exit %d and %q", strings.Join(args, " "), got, stdout, stderr, code, want)
	}
}

// TestConsoleCommands drives the console commands against a real engine: listings, inspect,
// env, rollback and promote (checked over HTTP), redeploy with and without the build cache,
// and the refusals with their exit codes.
func TestConsoleCommands(t *testing.T) {
	te := startTestEngine(t)
	ctx := context.Background()
	shop, err := te.c.CreateProject(ctx, api.ProjectRequest{Name: "shop"})
	if err != nil {
		t.Fatal(err)
	}
	other, err := te.c.CreateProject(ctx, api.ProjectRequest{Name: "other"})
	if err != nil {
		t.Fatal(err)
	}
	secret := "it's a \"secret\" with \\ backslashes, $HOME, # not a comment,\nand a second line = ünïcode "
	for _, v := range []api.EnvVarRequest{
		{Key: "API_KEY", Value: secret, Targets: []string{api.TargetProduction, api.TargetPreview, api.TargetDevelopment}},
		{Key: "MODE", Value: "general", Targets: []string{api.TargetPreview}},
		{Key: "MODE", Value: "feature branch", Targets: []string{api.TargetPreview}, GitBranch: "feature"},
		{Key: "PROD_ONLY", Value: "", Targets: []string{api.TargetProduction}},
	} {
		if _, err := te.c.CreateEnvVar(ctx, shop.ID, v); err != nil {
			t.Fatal(err)
		}
	}
	// The integration's variables are pulled too, made safe for the driver.
	supabaseURL := "postgres://postgres.abcdefghijklmnopqrst:pa55word@aws-0-eu-central-1.pooler.supabase.com:6543/postgres?sslmode=require&supa=base-pooler.x"
	if _, err := te.c.CreateSupabaseIntegration(ctx, shop.ID, api.SupabaseIntegrationRequest{ConnectionString: supabaseURL, Driver: "asyncpg", Targets: []string{api.TargetDevelopment}}); err != nil {
		t.Fatal(err)
	}
	v1 := te.deploy(t, shop.ID, versionedApp(t, "1"))
	v2 := te.deploy(t, shop.ID, versionedApp(t, "2"))
	elsewhere := te.deploy(t, other.ID, versionedApp(t, "9"))
	broken := versionedApp(t, "3")
	if err := os.WriteFile(filepath.Join(broken, "vercel.json"), []byte(`{"buildCommand": "exit 3"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	failed := te.deploy(t, shop.ID, broken)
	for _, d := range []*api.Deployment{v1, v2, elsewhere} {
		if d.State != api.StateReady {
			t.Fatalf("deployment %s: %s %s", d.ID, d.State, d.ErrorMessage)
		}
	}
	if failed.State != api.StateError {
		t.Fatalf("the broken build ended %s", failed.State)
	}
	production := shop.ProductionURL

	t.Run("listings", func(t *testing.T) {
		out := te.mustFerry(t, "projects")
		if !strings.Contains(out, "shop") || !strings.Contains(out, "other") || !strings.Contains(out, "PRODUCTION URL") {
			t.Errorf("ferry projects:\n%s", out)
		}
		var projects []api.Project
		if err := json.Unmarshal([]byte(te.mustFerry(t, "projects", "--json")), &projects); err != nil || len(projects) != 2 {
			t.Errorf("ferry projects --json: %d projects, %v", len(projects), err)
		}
		out = te.mustFerry(t, "deployments", "shop")
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 4 || !strings.Contains(lines[0], "COMMIT") || !strings.HasPrefix(lines[1], failed.ID) ||
			!strings.Contains(out, v2.ID) || !strings.Contains(out, "production (current)") || strings.Contains(out, elsewhere.ID) {
			t.Errorf("ferry deployments shop (newest first, v2 current):\n%s", out)
		}
		var listed []api.Deployment
		if err := json.Unmarshal([]byte(te.mustFerry(t, "deployments", "--json")), &listed); err != nil || len(listed) != 4 {
			t.Errorf("ferry deployments --json (every project): %d, %v", len(listed), err)
		}
		out = te.mustFerry(t, "inspect", v2.ID)
		if !strings.Contains(out, v2.URL) || !strings.Contains(out, "READY") || !strings.Contains(out, "serves production") {
			t.Errorf("ferry inspect:\n%s", out)
		}
		var inspected api.Deployment
		if err := json.Unmarshal([]byte(te.mustFerry(t, "inspect", "--json", failed.ID)), &inspected); err != nil || inspected.State != api.StateError {
			t.Errorf("ferry inspect --json: %+v, %v", inspected, err)
		}
		// An engine of its own is its store's one node, up.
		if out := te.mustFerry(t, "nodes"); !strings.Contains(out, "(answered)") || !strings.Contains(out, " up ") || strings.Count(strings.TrimSpace(out), "\n") != 1 {
			t.Errorf("ferry nodes:\n%s", out)
		}
		var status struct {
			PID   int        `json:"pid"`
			Nodes []api.Node `json:"nodes"`
		}
		if err := json.Unmarshal([]byte(te.mustFerry(t, "status")), &status); err != nil || status.PID == 0 || len(status.Nodes) != 1 || status.Nodes[0].Lost {
			t.Errorf("ferry status: %+v, %v; want the engine and its one node", status, err)
		}
		out = te.mustFerry(t, "env", "ls", "shop")
		if !strings.Contains(out, "API_KEY") || !strings.Contains(out, "development,preview,production") || strings.Contains(out, "secret") {
			t.Errorf("ferry env ls (keys and targets, never values):\n%s", out)
		}
		if out := te.mustFerry(t, "env", "ls", "--json"); strings.Contains(out, "secret") || !strings.Contains(out, `"key": "MODE"`) {
			t.Errorf("ferry env ls --json:\n%s", out)
		}
		if out := te.mustFerry(t, "domains", "shop"); !strings.HasPrefix(out, "DOMAIN") {
			t.Errorf("ferry domains:\n%s", out)
		}
		if out := te.mustFerry(t, "logs", "--build", v1.ID); !strings.Contains(out, "running pip install") {
			t.Errorf("ferry logs --build:\n%s", out)
		}
	})

	t.Run("runtime logs", func(t *testing.T) {
		followCtx, stopFollowing := context.WithCancel(ctx)
		defer stopFollowing()
		marker := "/marker-" + strconv.FormatInt(time.Now().UnixNano(), 36)
		want := "request-seen-by-v2 " + marker
		followed, output := io.Pipe()
		exited := make(chan int, 1)
		go func() {
			exited <- execute(followCtx, []string{"--data-dir", te.dataDir, "logs", "-f", "--tail", "5", v2.ID}, strings.NewReader(""), output, io.Discard)
			_ = output.Close()
		}()
		seen := make(chan struct{})
		go func() {
			lines := bufio.NewScanner(followed)
			for lines.Scan() {
				if strings.Contains(lines.Text(), want) {
					close(seen)
					break
				}
			}
			_, _ = io.Copy(io.Discard, followed) // until the command ends
		}()
		for i := 0; ; i++ {
			if got := te.get(t, v2.URL+marker); got != "v2" {
				t.Fatalf("the app answers %q", got)
			}
			select {
			case <-seen:
			case <-time.After(100 * time.Millisecond):
				if i == 100 {
					t.Fatalf("ferry logs -f never printed %q", want)
				}
				continue
			}
			break
		}
		stopFollowing()
		if code := <-exited; code != 0 {
			t.Errorf("ferry logs -f ended with exit %d once interrupted", code)
		}
		if out := te.mustFerry(t, "logs", "shop"); !strings.Contains(out, v2.ID+" "+want) {
			t.Errorf("ferry logs shop (each line prefixed by its deployment):\n%s", out)
		}
		if code, out, stderr := te.ferry(t, "logs", failed.ID); code != 0 || !strings.Contains(out, `build command from vercel.json: "exit 3"`) || !strings.Contains(stderr, "its build log follows") {
			t.Errorf("ferry logs of a failed deployment: exit %d, shows no build log:\n%s%s", code, out, stderr)
		}
		te.wantFailure(t, ExitNotFound, "does not exist", "logs", "no-such-project")
	})

	t.Run("env pull", func(t *testing.T) {
		dir := t.TempDir()
		file := filepath.Join(dir, ".env")
		te.mustFerry(t, "env", "pull", file, "--environment", "production", "--project", "shop")
		info, err := os.Stat(file)
		if err != nil || info.Mode().Perm() != 0o600 {
			t.Fatalf("the file: %v, %v; want mode 0600", info, err)
		}
		if got := readDotenv(t, file); !reflect.DeepEqual(got, map[string]string{"API_KEY": secret, "PROD_ONLY": ""}) {
			t.Errorf("python-dotenv reads %q", got)
		}
		te.mustFerry(t, "env", "pull", file, "--environment", "preview", "--project", "shop", "--git-branch", "feature")
		if got := readDotenv(t, file); !reflect.DeepEqual(got, map[string]string{"API_KEY": secret, "MODE": "feature branch"}) {
			t.Errorf("preview of branch feature: python-dotenv reads %q", got)
		}
		foreign := filepath.Join(dir, "mine.env")
		if err := os.WriteFile(foreign, []byte("MINE=1\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		te.wantFailure(t, ExitFailure, "not written by ferry env pull", "env", "pull", foreign, "--project", "shop")
		if data, _ := os.ReadFile(foreign); string(data) != "MINE=1\n" {
			t.Errorf("the foreign file was changed: %q", data)
		}
		te.mustFerry(t, "env", "pull", foreign, "--project", "shop", "--yes", "--environment", "development")
		got := readDotenv(t, foreign)
		if database := got["DATABASE_URL"]; !strings.Contains(database, "pa55word") || strings.Contains(database, "supa=") || got["API_KEY"] != secret {
			t.Errorf("development: python-dotenv reads %q; want API_KEY and the integration's DATABASE_URL for asyncpg", got)
		}
		te.wantFailure(t, ExitUsage, "name one with --project", "env", "pull", filepath.Join(dir, "x.env"))
		te.wantFailure(t, ExitUsage, "give development, preview or production", "env", "pull", "--environment", "staging", "--project", "shop")
	})

	t.Run("rollback and promote", func(t *testing.T) {
		if got := te.get(t, production); got != "v2" {
			t.Fatalf("production answers %q before the rollback", got)
		}
		out := te.mustFerry(t, "rollback", "--project", "shop")
		if got := te.get(t, production); got != "v1" || !strings.Contains(out, v1.ID) {
			t.Errorf("after ferry rollback production answers %q; ferry said:\n%s", got, out)
		}
		te.wantFailure(t, ExitFailure, "belongs to another project", "rollback", elsewhere.ID, "--project", "shop")
		te.wantFailure(t, ExitFailure, "is ERROR, not READY", "rollback", failed.ID)
		te.wantFailure(t, ExitNotFound, "does not exist", "rollback", "dpl_nosuchdeploymentaaaaaa")
		if got := te.get(t, production); got != "v1" {
			t.Errorf("a refused rollback moved production: it answers %q", got)
		}
		out = te.mustFerry(t, "promote", v2.ID)
		if got := te.get(t, production); got != "v2" || !strings.Contains(out, "move it again") {
			t.Errorf("after ferry promote of the newest production deployment, production answers %q; ferry said:\n%s", got, out)
		}
		if alias, err := te.c.GetAlias(ctx, shop.ID, ""); err != nil || alias.Pinned {
			t.Errorf("production is still pinned after promoting the newest: %+v, %v", alias, err)
		}
		// A preview cannot serve production as it is: promote redeploys it for production.
		preview, err := te.c.Redeploy(ctx, v1.ID, false, true)
		if err != nil {
			t.Fatal(err)
		}
		te.wantFailure(t, ExitFailure, "is a preview", "rollback", preview.ID)
		out = te.mustFerry(t, "promote", preview.ID)
		if got := te.get(t, production); got != "v1" || !strings.Contains(out, "READY") {
			t.Errorf("after ferry promote of a preview of v1, production answers %q; ferry said:\n%s", got, out)
		}
	})

	t.Run("redeploy", func(t *testing.T) {
		out := te.mustFerry(t, "redeploy", v2.ID)
		if !strings.Contains(out, "READY") || strings.Contains(out, "running pip install") {
			t.Errorf("ferry redeploy with the build cache (no build):\n%s", out)
		}
		out = te.mustFerry(t, "redeploy", "--no-cache", v2.ID)
		if !strings.Contains(out, "ferry: BUILDING") || !strings.Contains(out, "the build cache is off for this deployment") ||
			!strings.Contains(out, "running pip install") || !strings.Contains(out, " READY in ") {
			t.Errorf("ferry redeploy --no-cache shows no fresh install:\n%s", out)
		}
		list, err := te.c.ListDeployments(ctx, shop.ID)
		if err != nil {
			t.Fatal(err)
		}
		if p, _ := te.c.GetProject(ctx, shop.ID); p.ProductionDeploymentID == v2.ID || len(list) != 7 {
			t.Errorf("production serves %s after two production redeploys of %s; %d deployments", p.ProductionDeploymentID, v2.ID, len(list))
		}
		te.wantFailure(t, ExitFailure, "ended ERROR", "redeploy", failed.ID)
		te.wantFailure(t, ExitNotFound, "does not exist", "redeploy", "dpl_nosuchdeploymentaaaaaa")
		te.wantFailure(t, ExitUsage, "contradict", "redeploy", "--prod", "--preview", v2.ID)
	})

	t.Run("login and tokens", func(t *testing.T) {
		endpoint := "http://" + te.apiAddress
		t.Setenv("FERRY_TOKEN", "a-wrong-token")
		code, _, stderr := te.ferryWithInput(t, "", "projects", "--endpoint", endpoint)
		if code != ExitUnauthorized || !strings.Contains(stderr, "refused the token") || strings.Contains(stderr, "a-wrong-token") {
			t.Errorf("a wrong FERRY_TOKEN: exit %d, %s", code, stderr)
		}
		t.Setenv("FERRY_TOKEN", "")
		config := os.Getenv("FERRY_CONFIG")
		code, _, stderr = te.ferryWithInput(t, "a-wrong-token\n", "login", "--token-stdin", endpoint)
		if _, err := os.Stat(config); code != ExitUnauthorized || !os.IsNotExist(err) {
			t.Errorf("login with a wrong token: exit %d, %s; config file: %v", code, stderr, err)
		}
		code, stdout, stderr := te.ferryWithInput(t, te.token+"\n", "login", "--token-stdin", endpoint)
		if code != 0 {
			t.Fatalf("login: exit %d, %s%s", code, stdout, stderr)
		}
		if info, err := os.Stat(config); err != nil || info.Mode().Perm() != 0o600 {
			t.Fatalf("the config file: %v, %v; want mode 0600", info, err)
		}
		// No --endpoint and no --data-dir: the saved login.
		code, stdout, stderr = te.ferryWithInput(t, "", "projects", "--json")
		if code != 0 || !strings.Contains(stdout, `"name": "shop"`) {
			t.Errorf("ferry projects through the login: exit %d, %s%s", code, stdout, stderr)
		}
		// A saved login whose token went stale: console commands say so; an explicit --data-dir
		// still reaches the local engine.
		if _, err := saveLogin(login{Endpoint: endpoint, Token: "revoked"}); err != nil {
			t.Fatal(err)
		}
		if code, _, stderr := te.ferryWithInput(t, "", "projects"); code != ExitUnauthorized || !strings.Contains(stderr, "ferry login") {
			t.Errorf("a stale saved token: exit %d, %s", code, stderr)
		}
		te.mustFerry(t, "projects")
		te.ferryWithInput(t, "", "logout")
		if _, err := os.Stat(config); !os.IsNotExist(err) {
			t.Errorf("logout left the config file: %v", err)
		}
		code, _, stderr = te.ferryWithInput(t, "", "login", endpoint, "extra")
		if code != ExitUsage {
			t.Errorf("login with two arguments: exit %d, %s", code, stderr)
		}
	})
}

// readDotenv is what python-dotenv's dotenv_values reads from path.
func readDotenv(t *testing.T, path string) map[string]string {
	t.Helper()
	out, err := exec.Command("/usr/bin/python3", "-c", "import dotenv, json, sys; print(json.dumps(dotenv.dotenv_values(sys.argv[1])))", path).CombinedOutput()
	if err != nil {
		t.Skipf("python-dotenv cannot read the file (apt-get install python3-dotenv): %v %s", err, out)
	}
	var values map[string]string
	if err := json.Unmarshal(out, &values); err != nil {
		t.Fatalf("%s: %v", out, err)
	}
	return values
}
