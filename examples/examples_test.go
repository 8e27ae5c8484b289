// Package examples_test runs the python-app module's `terraform test` files,
// applies the examples against a real engine and curls the apps, and runs
// the CI pipeline's scripts (examples/ci) against an engine served with a
// token. Each test starts an engine of its own on a throwaway data dir.
//
// They need TF_ACC=1, the Terraform CLI, and TF_CLI_CONFIG_FILE naming a CLI
// config that installs ferryhq/ferry from a local build: `make test-module`
// sets all three.
package examples_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/client"
	"github.com/ferryhq/terraform-provider-ferry/internal/launcher"
)

// testPython is the interpreter that has Debian's Flask.
const testPython = "/usr/bin/python3"

// repoRoot is the repository's top, from this package's directory.
var repoRoot, _ = filepath.Abs("..")

// requireTerraform skips the test unless the acceptance environment is set
// up and the Terraform CLI is at least major.minor.
func requireTerraform(t *testing.T, minor int) {
	t.Helper()
	if os.Getenv("TF_ACC") == "" {
		t.Skip("acceptance test: set TF_ACC=1 (make test-module does)")
	}
	cfg := os.Getenv("TF_CLI_CONFIG_FILE")
	if _, err := os.Stat(cfg); cfg == "" || err != nil {
		t.Skip("TF_CLI_CONFIG_FILE must name a CLI config that installs ferryhq/ferry from a local build (make install writes one)")
	}
	out, err := exec.Command("terraform", "version", "-json").Output()
	if err != nil {
		t.Skipf("no Terraform CLI: %v", err)
	}
	var v struct {
		Version string `json:"terraform_version"`
	}
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("terraform version -json: %v", err)
	}
	parts := strings.SplitN(v.Version, ".", 3)
	if len(parts) < 2 {
		t.Fatalf("unexpected Terraform version %q", v.Version)
	}
	major, _ := strconv.Atoi(parts[0])
	got, _ := strconv.Atoi(parts[1])
	if major == 1 && got < minor {
		t.Skipf("Terraform %s is older than 1.%d, which this test needs", v.Version, minor)
	}
}

// engine is an engine on a throwaway data dir, serving apps over plain HTTP
// on a free port.
type engine struct {
	dataDir  string
	httpPort string
	env      []string // FERRY_* settings for the provider's embedded mode
}

// newDataDir makes a data dir the apps' own uids can pass through (a test
// temp dir is 0700) with a short path (unix sockets are limited to 107 bytes).
func newDataDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "ferry-ex") //nolint:usetesting // see above
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// embeddedEngine returns the settings with which the provider starts an
// embedded engine on a fresh data dir; the engine is stopped at the end.
func embeddedEngine(t *testing.T) *engine {
	t.Helper()
	dir := newDataDir(t)
	e := &engine{dataDir: filepath.Join(dir, "data"), httpPort: freePort(t)}
	e.env = []string{
		"FERRY_DATA_DIR=" + e.dataDir,
		"FERRY_HTTP_ADDRESS=127.0.0.1:" + e.httpPort,
		"FERRY_HTTPS_ADDRESS=off",
		"FERRY_PYTHON=" + testPython,
	}
	t.Cleanup(func() {
		stopEngine(t, e.dataDir)
		if !t.Failed() {
			_ = os.RemoveAll(dir)
		} else {
			t.Logf("data dir kept: %s (see engine.log)", e.dataDir)
		}
	})
	return e
}

// stopEngine shuts down the engine of a data dir, if one runs.
func stopEngine(t *testing.T, dataDir string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	found, err := launcher.Find(ctx, dataDir)
	if err != nil {
		return // none was started
	}
	c, err := client.New(client.Config{Endpoint: "unix://" + found.SocketPath})
	if err != nil {
		t.Error(err)
		return
	}
	if err := c.Shutdown(ctx); err != nil {
		t.Errorf("stopping the engine: %v", err)
	}
	for ctx.Err() == nil {
		if _, err := os.Stat(found.SocketPath); err != nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// terraform runs the CLI in dir and returns its stdout; a failure fails the test.
func terraform(t *testing.T, dir string, env []string, args ...string) string {
	t.Helper()
	out, err := terraformErr(dir, env, args...)
	if err != nil {
		t.Fatalf("terraform %s in %s: %v\n%s", strings.Join(args, " "), dir, err, out)
	}
	return out
}

func terraformErr(dir string, env []string, args ...string) (string, error) {
	if len(args) > 0 {
		args = append([]string{args[0], "-no-color"}, args[1:]...)
	}
	cmd := exec.Command("terraform", args...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "TF_IN_AUTOMATION=1", "TF_INPUT=0"), env...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	err := cmd.Run()
	return out.String(), err
}

// output reads one string output of the state in dir.
func output(t *testing.T, dir string, env []string, name string) string {
	t.Helper()
	return strings.TrimSpace(terraform(t, dir, env, "output", "-raw", name))
}

// copyTree copies src into dst (a fresh copy, so runs leave no .terraform or
// state in the source tree), leaving out Terraform's own files.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() && (d.Name() == ".terraform" || d.Name() == "__pycache__") {
			return filepath.SkipDir
		}
		if strings.HasPrefix(d.Name(), "terraform.tfstate") || d.Name() == ".terraform.lock.hcl" {
			return nil
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, info.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
}

// workCopy copies the given top-level directories of the repository into a
// temp dir and returns it.
func workCopy(t *testing.T, dirs ...string) string {
	t.Helper()
	root := newDataDir(t)
	t.Cleanup(func() { _ = os.RemoveAll(root) })
	for _, d := range dirs {
		copyTree(t, filepath.Join(repoRoot, d), filepath.Join(root, d))
	}
	return root
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port
}

// get fetches an app URL such as http://hello.localhost:8080/. Go does not
// resolve *.localhost: it dials 127.0.0.1 and sends the host name. A cold
// instance may need a moment, so errors and 5xx answers are retried.
func get(t *testing.T, rawURL string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	c := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, net.JoinHostPort("127.0.0.1", u.Port()))
		},
	}}
	var last string
	for i := 0; i < 120; i++ {
		resp, err := c.Get(rawURL)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return string(body)
			}
			last = fmt.Sprintf("status %d: %s", resp.StatusCode, body)
			if resp.StatusCode < 500 {
				break
			}
		} else {
			last = err.Error()
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("GET %s: %s", rawURL, last)
	return ""
}

func expectBody(t *testing.T, rawURL, want string) {
	t.Helper()
	if body := get(t, rawURL); !strings.Contains(body, want) {
		t.Fatalf("GET %s: body %q does not contain %q", rawURL, body, want)
	}
}

// gitRepo makes a repository with a Flask app on main, and returns its path.
func gitRepo(t *testing.T, dir string) string {
	t.Helper()
	repo := filepath.Join(dir, "repo")
	copyTree(t, filepath.Join(repoRoot, "modules/python-app/examples/flask-minimal/app"), repo)
	git(t, repo, "init", "-q", "-b", "main")
	git(t, repo, "add", ".")
	git(t, repo, "commit", "-q", "-m", "first")
	return repo
}

func git(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "user.name=CI Test", "-c", "user.email=ci@example.com", "-c", "commit.gpgsign=false"}, args...)...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// editApp replaces old by new in the repository's app.py and commits it.
func editApp(t *testing.T, repo, from, to, message string) {
	t.Helper()
	p := filepath.Join(repo, "app.py")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(from)) {
		t.Fatalf("app.py has no %q", from)
	}
	if err := os.WriteFile(p, bytes.ReplaceAll(b, []byte(from), []byte(to)), 0o644); err != nil {
		t.Fatal(err)
	}
	git(t, repo, "commit", "-q", "-am", message)
}
