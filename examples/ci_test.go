package examples_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/cgi"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/client"
)

// remoteEngine runs `ferry serve` with its API on TCP behind a token, as a
// team's engine runs, and returns the provider's endpoint, the token and
// the port apps are served on.
func remoteEngine(t *testing.T) (endpoint, token, httpPort string) {
	t.Helper()
	bin := ferryBinary(t)
	dir := newDataDir(t)
	token = "ci-test-token-0123456789abcdef"
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	apiPort, httpPort := freePort(t), freePort(t)
	logFile, err := os.Create(filepath.Join(dir, "serve.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve",
		"--data-dir", filepath.Join(dir, "data"),
		"--http-address", "127.0.0.1:"+httpPort, "--https-address", "off",
		"--api-address", "127.0.0.1:"+apiPort, "--token-file", tokenFile,
		"--python", testPython)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			t.Logf("ferry serve: %v", err)
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			t.Logf("ferry serve killed: %v", <-exited)
		}
		_ = logFile.Close()
		if t.Failed() {
			t.Logf("engine data dir kept: %s (serve.log)", dir)
			return
		}
		_ = os.RemoveAll(dir)
	})

	endpoint = "http://127.0.0.1:" + apiPort
	c, err := client.New(client.Config{Endpoint: endpoint, Token: token, RetryMax: 1})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for {
		if _, err := c.Health(ctx); err == nil {
			return endpoint, token, httpPort
		}
		select {
		case err := <-exited:
			log, _ := os.ReadFile(logFile.Name())
			t.Fatalf("ferry serve exited: %v\n%s", err, log)
		case <-ctx.Done():
			t.Fatal("ferry serve did not become healthy")
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// TestCIPipeline runs the pipeline's steps (examples/ci/scripts) as CI
// would, against a remote engine: a pull request's branch gets a preview,
// a push to main is applied to production, a revert commit rolls back, and
// a rollback by deployment id pins production with no build.
func TestCIPipeline(t *testing.T) {
	requireTerraform(t, 5)
	endpoint, token, _ := remoteEngine(t)
	root := workCopy(t, "modules/python-app", "examples/ci")
	ci := filepath.Join(root, "examples/ci")
	repo := gitRepo(t, root)
	// The engine fetches from a git server, as from GitHub: a remote caller
	// may not name repositories on the engine's machine.
	repoURL := serveGit(t, root) + "/repo"

	// CI keeps state in a backend of its own (pg); here, local files.
	states := filepath.Join(root, "states")
	for _, dir := range []string{"infra", "preview"} {
		override := fmt.Sprintf("terraform {\n  backend \"local\" {\n    path          = %q\n    workspace_dir = %q\n  }\n}\n",
			filepath.Join(states, dir+".tfstate"), filepath.Join(states, dir+".d"))
		if err := os.WriteFile(filepath.Join(ci, dir, "backend_override.tf"), []byte(override), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	env := append(os.Environ(),
		"FERRY_ENDPOINT="+endpoint, "FERRY_TOKEN="+token,
		"TF_VAR_project=ci-app", "TF_VAR_repository="+repoURL, `TF_VAR_env={ GREETING = "Hello" }`,
		"GITHUB_OUTPUT=", "RUNNER_TEMP="+root)
	step := func(extraEnv []string, script string, args ...string) map[string]string {
		t.Helper()
		cmd := exec.Command(filepath.Join(ci, "scripts", script), args...)
		cmd.Env = append(append([]string{}, env...), extraEnv...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", script, strings.Join(args, " "), err, out)
		}
		outputs := map[string]string{}
		for _, line := range strings.Split(string(out), "\n") {
			if k, v, ok := strings.Cut(line, "="); ok && !strings.ContainsAny(k, " \t") && k != "" {
				outputs[k] = v
			}
		}
		return outputs
	}

	// The first push to main.
	first := step(nil, "apply.sh")
	prod := first["production_url"]
	expectBody(t, prod, "Hello from production, v1")

	// A pull request: its branch is deployed as a preview; production is untouched.
	git(t, repo, "checkout", "-q", "-b", "feature/login")
	editApp(t, repo, `VERSION = "1"`, `VERSION = "2"`, "login")
	git(t, repo, "checkout", "-q", "main")
	comment := filepath.Join(root, "comment.md")
	preview := step(nil, "preview.sh", "feature/login", comment)["preview_url"]
	if preview == "" || !strings.Contains(preview, "ci-app-git-feature-login") {
		t.Fatalf("preview.sh gave no branch URL: %q", preview)
	}
	expectBody(t, preview, "Hello from preview, v2")
	expectBody(t, prod, "Hello from production, v1")
	if b, err := os.ReadFile(comment); err != nil || !strings.Contains(string(b), preview) || !strings.Contains(string(b), "Production plan: no changes.") {
		t.Fatalf("the pull request's comment: %q, %v", b, err)
	}

	// The pull request is merged: main is applied and production serves it.
	git(t, repo, "merge", "-q", "--ff-only", "feature/login")
	merged := step(nil, "apply.sh")
	if merged["deployment_id"] == first["deployment_id"] {
		t.Fatal("the merge was not deployed")
	}
	expectBody(t, prod, "Hello from production, v2")

	// A revert commit on main rolls production back.
	git(t, repo, "revert", "--no-edit", "HEAD")
	reverted := step(nil, "apply.sh")
	if reverted["deployment_id"] == merged["deployment_id"] {
		t.Fatal("the revert was not deployed")
	}
	expectBody(t, prod, "Hello from production, v1")

	// The rollback workflow: production pinned to the merge's deployment, no
	// new deployment; the next apply without it follows main again.
	pinned := step([]string{"PRODUCTION_DEPLOYMENT_ID=" + merged["deployment_id"]}, "apply.sh")
	if pinned["production_deployment_id"] != merged["deployment_id"] || pinned["deployment_id"] != reverted["deployment_id"] {
		t.Fatalf("rollback by id: %v", pinned)
	}
	expectBody(t, prod, "Hello from production, v2")
	step(nil, "apply.sh")
	expectBody(t, prod, "Hello from production, v1")

	// The pull request is closed: its preview state is gone.
	step(nil, "preview-destroy.sh", "feature/login")
	if entries, _ := os.ReadDir(filepath.Join(states, "preview.d")); len(entries) != 0 {
		t.Fatalf("preview workspaces left after preview-destroy.sh: %v", entries)
	}
}

// serveGit serves the repositories under dir over git's smart HTTP protocol
// (git http-backend) and returns the server's URL.
func serveGit(t *testing.T, dir string) string {
	t.Helper()
	execPath, err := exec.Command("git", "--exec-path").Output()
	if err != nil {
		t.Fatal(err)
	}
	handler := &cgi.Handler{
		Path: filepath.Join(strings.TrimSpace(string(execPath)), "git-http-backend"),
		Env:  []string{"GIT_PROJECT_ROOT=" + dir, "GIT_HTTP_EXPORT_ALL=1"},
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + l.Addr().String()
}
