package provider

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/acctest"

	"github.com/ferryhq/terraform-provider-ferry/internal/client"
	"github.com/ferryhq/terraform-provider-ferry/internal/freeport"
	"github.com/ferryhq/terraform-provider-ferry/internal/launcher"
	"github.com/ferryhq/terraform-provider-ferry/internal/version"
)

// testPython is the interpreter that has Debian's Flask and FastAPI.
const testPython = "/usr/bin/python3"

// testEngine is a real engine with its own data dir, started from the test
// binary (see TestMain) and stopped when the test ends.
type testEngine struct {
	dataDir      string
	httpAddress  string
	httpPort     string
	httpsAddress string
	httpsPort    string
	client       *client.Client
}

// startEngine starts the engine a test's provider will find, serving apps
// on free ports. It skips the test unless TF_ACC is set.
func startEngine(t *testing.T) *testEngine {
	t.Helper()
	skipUnlessAcceptance(t)
	ports := freePorts(t, 2)
	return startEngineOn(t, ports[0], ports[1])
}

func skipUnlessAcceptance(t *testing.T) {
	t.Helper()
	if os.Getenv("TF_ACC") == "" {
		t.Skip("acceptance test: set TF_ACC=1 to run it")
	}
}

// launchEngine starts an engine from the test binary (see TestMain), serving apps on free
// ports, stopped when the test or benchmark ends.
func launchEngine(t testing.TB) *testEngine {
	t.Helper()
	ports := freePorts(t, 2)
	return launchEngineOn(t, ports[0], ports[1])
}

// startEngineOn starts the engine with apps on the given HTTP and HTTPS ports.
func startEngineOn(t *testing.T, port, httpsPort string) *testEngine {
	t.Helper()
	skipUnlessAcceptance(t)
	return launchEngineOn(t, port, httpsPort)
}

func launchEngineOn(t testing.TB, port, httpsPort string) *testEngine {
	t.Helper()
	// Not t.TempDir(): its long paths would push the engine's socket past
	// the 107-byte limit of unix socket paths, apps running as uids of their
	// own could not pass through its 0700 parent, and it would be removed
	// when a failed test keeps it for its engine.log.
	dataDir, err := os.MkdirTemp("", "ferry") //nolint:usetesting // see above: kept on failure, enterable by the apps' uids
	if err != nil {
		t.Fatal(err)
	}
	e := &testEngine{dataDir: dataDir, httpAddress: "127.0.0.1:" + port, httpPort: port, httpsAddress: "127.0.0.1:" + httpsPort, httpsPort: httpsPort}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	eng, err := launcher.Ensure(ctx, launcher.Options{
		DataDir:      dataDir,
		HTTPAddress:  e.httpAddress,
		HTTPSAddress: e.httpsAddress,
		Python:       testPython,
		Version:      version.String(),
	})
	if err != nil {
		if err := os.RemoveAll(dataDir); err != nil {
			t.Error(err)
		}
		t.Fatalf("starting the engine: %v", err)
	}
	if e.client, err = client.New(client.Config{Endpoint: "unix://" + eng.SocketPath, UserAgent: "ferry-acceptance-test"}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.stop(t, eng.SocketPath) })
	return e
}

// stop shuts the engine down, waits for it to be gone, and removes its data
// dir unless the test failed (it is kept for a look at engine.log).
func (e *testEngine) stop(t testing.TB, socket string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := e.client.Shutdown(ctx); err != nil {
		t.Errorf("shutting the engine down: %v", err)
	}
	for ctx.Err() == nil {
		if _, err := os.Stat(socket); err != nil {
			break
		}
		probe, _ := client.New(client.Config{Endpoint: "unix://" + socket, RetryMax: 1})
		if _, err := probe.Health(ctx); err != nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if t.Failed() {
		t.Logf("engine data dir kept: %s (see engine.log)", e.dataDir)
		return
	}
	if err := os.RemoveAll(e.dataDir); err != nil {
		t.Error(err)
	}
}

// config prefixes a configuration with a provider block for this engine.
func (e *testEngine) config(resources string) string {
	return fmt.Sprintf(`
provider "ferry" {
  data_dir      = %q
  http_address  = %q
  https_address = %q
  python        = %q
}
%s
`, e.dataDir, e.httpAddress, e.httpsAddress, testPython, resources)
}

// randomName is a project name no other test uses.
func randomName() string {
	return "acc-" + acctest.RandStringFromCharSet(8, acctest.CharSetAlpha)
}

// get fetches an app URL such as http://hello.localhost:8080/path. Go does
// not resolve *.localhost, so it dials the URL's port on 127.0.0.1 and sends
// the host name in the Host header. A cold worker may need a moment: errors
// and 5xx answers are retried for a while.
func get(rawURL string) (int, string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return 0, "", err
	}
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	httpClient := &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return dialer.DialContext(ctx, network, net.JoinHostPort("127.0.0.1", u.Port()))
			},
		},
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		status, body, err := getOnce(httpClient, rawURL)
		if (err == nil && status < 500) || time.Now().After(deadline) {
			return status, body, err
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func getOnce(c *http.Client, rawURL string) (int, string, error) {
	resp, err := c.Get(rawURL)
	if err != nil {
		return 0, "", err
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// expectBody checks that a GET of rawURL answers 200 with a body containing
// every one of want.
func expectBody(rawURL string, want ...string) error {
	status, body, err := get(rawURL)
	if err != nil {
		return fmt.Errorf("GET %s: %w", rawURL, err)
	}
	if status != http.StatusOK {
		return fmt.Errorf("GET %s: status %d, body %q", rawURL, status, body)
	}
	for _, w := range want {
		if !strings.Contains(body, w) {
			return fmt.Errorf("GET %s: body %q does not contain %q", rawURL, body, w)
		}
	}
	return nil
}

// writeApp writes files (relative path -> content) into dir.
func writeApp(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for rel, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// flaskApp is a Flask app that shows its version and two env vars.
func flaskApp(appVersion string) map[string]string {
	return map[string]string{
		"requirements.txt": "flask\n",
		"app.py": `import os

from flask import Flask

app = Flask(__name__)
VERSION = "` + appVersion + `"


@app.route("/")
def index():
    return "version=%s greeting=%s vercel_env=%s\n" % (
        VERSION,
        os.environ.get("GREETING", "<unset>"),
        os.environ.get("VERCEL_ENV", "<unset>"),
    )
`,
	}
}

// freePorts are n distinct ports free now on 127.0.0.1.
func freePorts(t testing.TB, n int) []string {
	t.Helper()
	addresses, err := freeport.Find("127.0.0.1", n)
	if err != nil {
		t.Fatal(err)
	}
	ports := make([]string, n)
	for i, address := range addresses {
		_, ports[i], _ = net.SplitHostPort(address)
	}
	return ports
}
