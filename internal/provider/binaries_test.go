package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/client"
	"github.com/ferryhq/terraform-provider-ferry/internal/freeport"
)

// These tests run the binaries as users get them, built by `make build`, with
// the terraform CLI: the provider from a filesystem mirror, the engine as
// the provider starts it or as `ferry serve` runs it.

// buildBinaries runs `make build` into a new directory, with VERSION set
// unless version is "" (then the Makefile stamps a dev version), and returns
// the directory, which holds ferry and terraform-provider-ferry.
func buildBinaries(t *testing.T, version string) string {
	t.Helper()
	dir := t.TempDir()
	args := []string{"-C", filepath.Join("..", ".."), "build", "BIN=" + dir}
	if version != "" {
		args = append(args, "VERSION="+version)
	}
	if out, err := exec.Command("make", args...).CombinedOutput(); err != nil {
		t.Fatalf("make build: %v\n%s", err, out)
	}
	return dir
}

// terraformDir is a Terraform working directory whose CLI config installs
// ferryhq/ferry from a filesystem mirror of the given builds (registry
// version -> directory of buildBinaries).
type terraformDir struct {
	dir string
	env []string
}

func newTerraformDir(t *testing.T, builds map[string]string) *terraformDir {
	t.Helper()
	root := t.TempDir()
	mirror := filepath.Join(root, "mirror")
	for version, bin := range builds {
		platform := filepath.Join(mirror, "registry.terraform.io", "ferryhq", "ferry", version, runtime.GOOS+"_"+runtime.GOARCH)
		if err := os.MkdirAll(platform, 0o755); err != nil {
			t.Fatal(err)
		}
		provider, err := os.ReadFile(filepath.Join(bin, "terraform-provider-ferry"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(platform, "terraform-provider-ferry_v"+version), provider, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cliConfig := filepath.Join(root, "terraformrc")
	writeApp(t, root, map[string]string{"terraformrc": fmt.Sprintf(`provider_installation {
  filesystem_mirror {
    path    = %q
    include = ["registry.terraform.io/ferryhq/ferry"]
  }
  direct {
    exclude = ["registry.terraform.io/ferryhq/ferry"]
  }
}
`, mirror)})
	work := filepath.Join(root, "work")
	if err := os.MkdirAll(work, 0o755); err != nil {
		t.Fatal(err)
	}
	return &terraformDir{dir: work, env: append(os.Environ(), "TF_CLI_CONFIG_FILE="+cliConfig, "TF_IN_AUTOMATION=1")}
}

// config writes main.tf.
func (d *terraformDir) config(t *testing.T, text string) {
	t.Helper()
	writeApp(t, d.dir, map[string]string{"main.tf": text})
}

// run runs terraform with args in the directory and returns its output.
func (d *terraformDir) run(args ...string) (string, error) {
	cmd := exec.Command("terraform", append(args, "-no-color")...)
	cmd.Dir, cmd.Env = d.dir, d.env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (d *terraformDir) must(t *testing.T, args ...string) string {
	t.Helper()
	out, err := d.run(args...)
	if err != nil {
		t.Fatalf("terraform %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// output returns a string output of the applied state.
func (d *terraformDir) output(t *testing.T, name string) string {
	t.Helper()
	var value string
	if err := json.Unmarshal([]byte(d.must(t, "output", "-json", name)), &value); err != nil {
		t.Fatal(err)
	}
	return value
}

// dataDir returns a new data dir for an engine, removed at the end unless
// the test failed (its engine.log tells why).
func newDataDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "ferry") //nolint:usetesting // see startEngine: short, enterable by the apps' uids, kept on failure
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("data dir kept: %s (see engine.log)", dir)
			return
		}
		_ = os.RemoveAll(dir) // an engine's leftovers; nothing to check
	})
	return dir
}

// stopEngineOf stops the engine of dataDir, whichever it is by then.
func stopEngineOf(t *testing.T, ferry, dataDir string) {
	t.Helper()
	if out, err := exec.Command(ferry, "stop", "--data-dir", dataDir).CombinedOutput(); err != nil {
		t.Errorf("ferry stop: %v\n%s", err, out)
	}
}

// engineHealth asks the engine of dataDir how it is.
func engineHealth(t *testing.T, dataDir string) *api.Health {
	t.Helper()
	c, err := client.New(client.Config{Endpoint: "unix://" + filepath.Join(dataDir, "engine.sock")})
	if err != nil {
		t.Fatal(err)
	}
	h, err := c.Health(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return h
}

const stdlibApp = `import os


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [("v1 " + os.environ["GREETING"]).encode()]
`

// appConfig is a project with an env var and a production deployment of
// stdlibApp, on the embedded engine of dataDir.
func appConfig(name, providerVersion, dataDir, httpAddress, appDir string) string {
	return fmt.Sprintf(`
terraform {
  required_providers {
    ferry = {
      source  = "ferryhq/ferry"
      version = %q
    }
  }
}

provider "ferry" {
  data_dir     = %q
  http_address = %q
  python       = %q
}

resource "ferry_project" "app" {
  name = %q
}

resource "ferry_env_var" "greeting" {
  project_id = ferry_project.app.id
  key        = "GREETING"
  value      = "hello"
  target     = ["production"]
}

resource "ferry_deployment" "app" {
  project_id = ferry_project.app.id
  source     = { path = %q }
  production = true
  depends_on = [ferry_env_var.greeting]
}

output "production_url" {
  value = ferry_project.app.production_url
}

output "deployment_url" {
  value = ferry_deployment.app.url
}
`, providerVersion, dataDir, httpAddress, testPython, name, appDir)
}

// TestAccBinariesOfOneBuildWorkTogether follows the README: `ferry serve`
// in the foreground, then `terraform apply` with the provider of the same
// build, which uses that engine. Then it points the same provider at
// engines too old for it, which it says how to upgrade.
func TestAccBinariesOfOneBuildWorkTogether(t *testing.T) {
	if os.Getenv("TF_ACC") == "" {
		t.Skip("acceptance test: set TF_ACC=1 to run it")
	}
	bin := buildBinaries(t, "")
	dataDir, httpAddress := newDataDir(t), freeport.Loopback(t)
	serve := exec.Command(filepath.Join(bin, "ferry"), "serve", "--data-dir", dataDir, "--http-address", httpAddress, "--python", testPython)
	logFile, err := os.Create(filepath.Join(t.TempDir(), "serve.log"))
	if err != nil {
		t.Fatal(err)
	}
	serve.Stdout, serve.Stderr = logFile, logFile
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = serve.Process.Signal(os.Interrupt)
		_ = serve.Wait()
	}()
	for i := 0; ; i++ {
		if _, err := os.Stat(filepath.Join(dataDir, "engine.sock")); err == nil {
			break
		}
		if i > 200 {
			t.Fatal("ferry serve did not start")
		}
		time.Sleep(50 * time.Millisecond)
	}

	tf := newTerraformDir(t, map[string]string{"0.1.0": bin})
	appDir := t.TempDir()
	writeApp(t, appDir, map[string]string{"app.py": stdlibApp})
	tf.config(t, appConfig(randomName(), "0.1.0", dataDir, httpAddress, appDir))
	tf.must(t, "init", "-input=false")
	tf.must(t, "apply", "-input=false", "-auto-approve")
	if h := engineHealth(t, dataDir); h.PID != serve.Process.Pid {
		t.Errorf("the provider replaced the engine of its own build: pid %d (version %s), `ferry serve` is pid %d", h.PID, h.Version, serve.Process.Pid)
	}
	if err := expectBody(tf.output(t, "production_url"), "v1 hello"); err != nil {
		t.Error(err)
	}

	// A remote engine of API version 1, before levels were numbers.
	old := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = fmt.Fprint(w, `{"status": "ok", "version": "0.1.0-dev", "api_version": "v1", "pid": 4242}`)
	}))
	defer old.Close()
	tf.config(t, requiredProviders()+`provider "ferry" { endpoint = "`+old.URL+`" }
resource "ferry_project" "p" { name = "old" }
`)
	out, err := tf.run("plan", "-input=false", "-refresh=false", "-state=other.tfstate")
	for _, phrase := range []string{"speaks API version 1", fmt.Sprintf("needs API version %d or later", api.MinEngineVersion), "ferry upgrade"} {
		if err == nil || !errorText(phrase).MatchString(out) {
			t.Errorf("plan against an engine of API version 1 does not say %q: %v\n%s", phrase, err, out)
		}
	}
	// The same engine on a data dir: it predates upgrades in place.
	oldDataDir := newDataDir(t)
	socket, err := net.Listen("unix", filepath.Join(oldDataDir, "engine.sock"))
	if err != nil {
		t.Fatal(err)
	}
	oldLocal := &http.Server{Handler: old.Config.Handler, ReadHeaderTimeout: time.Second}
	go func() { _ = oldLocal.Serve(socket) }()
	defer func() { _ = oldLocal.Close() }()
	tf.config(t, requiredProviders()+`provider "ferry" { data_dir = "`+oldDataDir+`" }
resource "ferry_project" "p" { name = "old" }
`)
	out, err = tf.run("plan", "-input=false", "-refresh=false", "-state=other.tfstate")
	if err == nil || !errorText("cannot be upgraded in place").MatchString(out) || !errorText("ferry stop --data-dir "+oldDataDir).MatchString(out) {
		t.Errorf("plan against a data dir's engine of API version 1: %v\n%s", err, out)
	}
}

// TestAccNewerProviderUpgradesTheEngineUnderLoad applies with provider 0.1.0,
// which starts its engine, then upgrades the provider to 0.2.0 and applies
// again while clients keep requesting the app: the new provider's engine
// takes over, no request fails, and the plan afterwards is empty.
func TestAccNewerProviderUpgradesTheEngineUnderLoad(t *testing.T) {
	if os.Getenv("TF_ACC") == "" {
		t.Skip("acceptance test: set TF_ACC=1 to run it")
	}
	older, newer := buildBinaries(t, "0.1.0"), buildBinaries(t, "0.2.0")
	dataDir, httpAddress := newDataDir(t), freeport.Loopback(t)
	defer stopEngineOf(t, filepath.Join(newer, "ferry"), dataDir)
	tf := newTerraformDir(t, map[string]string{"0.1.0": older, "0.2.0": newer})
	appDir := t.TempDir()
	writeApp(t, appDir, map[string]string{"app.py": stdlibApp})
	name := randomName()
	tf.config(t, appConfig(name, "0.1.0", dataDir, httpAddress, appDir))
	tf.must(t, "init", "-input=false")
	tf.must(t, "apply", "-input=false", "-auto-approve")
	before := engineHealth(t, dataDir)
	if before.Version != "0.1.0" {
		t.Fatalf("the first apply's engine runs %s, want 0.1.0", before.Version)
	}
	urls := []string{tf.output(t, "production_url"), tf.output(t, "deployment_url")}
	for _, u := range urls {
		if err := expectBody(u, "v1 hello"); err != nil {
			t.Fatal(err)
		}
	}

	sent, failed, stop := loadURLs(urls, "v1 hello", 4)
	time.Sleep(time.Second)
	tf.config(t, appConfig(name, "0.2.0", dataDir, httpAddress, appDir))
	tf.must(t, "init", "-input=false", "-upgrade")
	began := time.Now()
	tf.must(t, "apply", "-input=false", "-auto-approve")
	applied := time.Since(began)
	time.Sleep(3 * time.Second) // the old engine finishes its requests and exits meanwhile
	failures := stop()
	t.Logf("apply with the upgrade took %s; %d requests during it, %d failed", applied.Round(time.Millisecond), sent.Load(), failed.Load())
	if failed.Load() > 0 {
		t.Errorf("%d of %d requests failed during the upgrade; the first: %v", failed.Load(), sent.Load(), failures)
	}
	after := engineHealth(t, dataDir)
	if after.Version != "0.2.0" || after.PID == before.PID || after.HTTPAddress != httpAddress {
		t.Errorf("after the upgrade the engine is %+v; want version 0.2.0 in a new process, on %s", after, httpAddress)
	}
	// Detached from the provider that started it, it may stay a zombie until init reaps it.
	if state, _ := exec.Command("ps", "-o", "stat=", "-p", fmt.Sprint(before.PID)).Output(); len(state) > 0 && state[0] != 'Z' {
		t.Errorf("the old engine (pid %d) still runs: state %s", before.PID, state)
	}
	out, err := tf.run("plan", "-input=false", "-detailed-exitcode")
	if err != nil {
		t.Errorf("the plan after the upgrade is not empty: %v\n%s", err, out)
	}
}

// loadURLs GETs urls from clients at once until stop is called, counting
// the answers that are not 200 with want in the body. stop returns the first
// failures.
func loadURLs(urls []string, want string, clients int) (sent, failed *atomic.Int64, stop func() []string) {
	sent, failed = &atomic.Int64{}, &atomic.Int64{}
	done := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failures []string
	httpClient := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	for i := range clients {
		wg.Go(func() {
			for n := i; ; n++ {
				select {
				case <-done:
					return
				default:
				}
				sent.Add(1)
				if err := getVia(httpClient, urls[n%len(urls)], want); err != nil {
					failed.Add(1)
					mu.Lock()
					if len(failures) < 5 {
						failures = append(failures, err.Error())
					}
					mu.Unlock()
				}
			}
		})
	}
	return sent, failed, func() []string {
		close(done)
		wg.Wait()
		return failures
	}
}

// getVia GETs an app URL once through c, dialing 127.0.0.1 with its host name.
func getVia(c *http.Client, rawURL, want string) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return err
	}
	req, err := http.NewRequest("GET", "http://127.0.0.1:"+u.Port()+u.RequestURI(), nil)
	if err != nil {
		return err
	}
	req.Host = u.Host
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", rawURL, err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
		return fmt.Errorf("GET %s: %d %q %v", rawURL, resp.StatusCode, body, err)
	}
	return nil
}
