package engine_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/client"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine"
	"github.com/ferryhq/terraform-provider-ferry/internal/freeport"
	"github.com/ferryhq/terraform-provider-ferry/internal/logbuffer"
)

const python = "/usr/bin/python3"

func needFlask(t testing.TB) {
	t.Helper()
	if err := exec.Command(python, "-c", "import flask").Run(); err != nil {
		t.Skipf("%s cannot import flask (apt-get install python3-flask): %v", python, err)
	}
}

// startEngine runs an engine in this process on a fresh data dir and
// returns a client of it and the address apps are served on.
func startEngine(t testing.TB, options ...func(*engine.Config)) (*client.Client, string) {
	t.Helper()
	c, httpAddress, _ := startEngineWithDataDir(t, options...)
	return c, httpAddress
}

// startEngineWithDataDir is startEngine for tests that look into the data dir.
func startEngineWithDataDir(t testing.TB, options ...func(*engine.Config)) (c *client.Client, httpAddress, dataDir string) {
	t.Helper()
	dataDir = shortDataDir(t)
	httpAddress = freeport.Loopback(t)
	c, stop := runEngine(t, dataDir, httpAddress, options...)
	t.Cleanup(stop)
	return c, httpAddress, dataDir
}

// shortDataDir returns a new data dir for an engine, removed after the test
// (once the engine has stopped). Not t.TempDir(): apps running as uids of
// their own must pass through the data dir's parents, and t.TempDir()'s
// parent is 0700; and its longer path eats into the 107 bytes a unix socket
// path may have.
func shortDataDir(t testing.TB) string {
	t.Helper()
	dataDir, err := os.MkdirTemp("", "ferry-engine") //nolint:usetesting // see above: t.TempDir() is not enterable by the apps' uids
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := os.RemoveAll(dataDir); err != nil {
			t.Error(err)
		}
	})
	return dataDir
}

// runEngine runs an engine on dataDir until stop is called; options adjust its Config.
func runEngine(t testing.TB, dataDir, httpAddress string, options ...func(*engine.Config)) (c *client.Client, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	cfg := engine.Config{DataDir: dataDir, HTTPAddress: httpAddress, Python: python, Logger: failureLog(t)}
	for _, option := range options {
		option(&cfg)
	}
	go func() {
		done <- engine.Run(ctx, cfg)
	}()
	stop = func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("engine: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Error("engine did not stop")
		}
	}
	c, err := client.New(client.Config{Endpoint: "unix://" + filepath.Join(dataDir, api.SocketName)})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		if _, err := c.Health(ctx); err == nil {
			break
		}
		if i > 100 {
			stop()
			t.Fatal("engine not healthy")
		}
		time.Sleep(50 * time.Millisecond)
	}
	return c, stop
}

// failureLog is an engine's logger that keeps the log in memory and prints its
// warnings and errors, and its last lines, if the test fails: what the engine
// saw is the first thing a failure under load needs.
func failureLog(t testing.TB) *slog.Logger {
	log := &logbuffer.Buffer{}
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		lines := strings.Split(strings.TrimSpace(log.String()), "\n")
		var problems []string
		for _, line := range lines {
			if strings.Contains(line, "level=WARN") || strings.Contains(line, "level=ERROR") {
				problems = append(problems, line)
			}
		}
		t.Logf("engine warnings and errors (last 40 of %d):\n%s", len(problems), strings.Join(problems[max(0, len(problems)-40):], "\n"))
		t.Logf("engine log (last 30 of %d lines):\n%s", len(lines), strings.Join(lines[max(0, len(lines)-30):], "\n"))
	})
	return slog.New(slog.NewTextHandler(log, nil))
}

// get fetches an app URL by dialing the engine's address with the URL's
// Host, since *.localhost does not resolve in Go.
func get(t testing.TB, httpAddress, rawURL string) (int, string) {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", "http://"+httpAddress+u.RequestURI(), nil)
	req.Host = u.Host
	return send(t, http.DefaultClient, req)
}

// send sends req with client and returns the answer's status and body.
func send(t testing.TB, client *http.Client, req *http.Request) (int, string) {
	t.Helper()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func writeApp(t testing.TB, version string) string {
	t.Helper()
	dir := t.TempDir()
	src := "import os\nfrom flask import Flask\napp = Flask(__name__)\n\n@app.get('/')\ndef index():\n    return f\"v" + version + " {os.environ['GREETING']} {os.environ['VERCEL_ENV']}\"\n"
	writeFile(t, filepath.Join(dir, "app.py"), src)
	writeFile(t, filepath.Join(dir, "requirements.txt"), "flask\n")
	return dir
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func deploy(t testing.TB, c *client.Client, projectID, dir string) *api.Deployment {
	t.Helper()
	ctx := context.Background()
	d, err := c.Deploy(ctx, projectID, dir, true)
	if err != nil {
		t.Fatal(err)
	}
	waitCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	d, err = c.WaitDeployment(waitCtx, d.ID, 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestDeployServeAndReplace(t *testing.T) {
	needFlask(t)
	c, addr := startEngine(t)
	ctx := context.Background()
	p, err := c.CreateProject(ctx, api.ProjectRequest{Name: "hello"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateEnvVar(ctx, p.ID, api.EnvVarRequest{Key: "GREETING", Value: "hi", Targets: []string{"production"}}); err != nil {
		t.Fatal(err)
	}
	if status, body := get(t, addr, p.ProductionURL); status != 404 || !strings.Contains(body, "no ready production deployment") {
		t.Errorf("before any deployment: %d %q", status, body)
	}

	v1 := deploy(t, c, p.ID, writeApp(t, "1"))
	if v1.State != api.StateReady {
		t.Fatalf("v1: %s %s", v1.State, v1.ErrorMessage)
	}
	if status, body := get(t, addr, v1.URL); status != 200 || body != "v1 hi production" {
		t.Fatalf("v1 URL: %d %q", status, body)
	}

	// A changed env reaches new deployments only.
	vars, _ := c.ListEnvVars(ctx, p.ID, false)
	if _, err := c.UpdateEnvVar(ctx, p.ID, vars[0].ID, api.EnvVarRequest{Key: "GREETING", Value: "hello", Targets: []string{"production"}}); err != nil {
		t.Fatal(err)
	}
	v2 := deploy(t, c, p.ID, writeApp(t, "2"))
	if status, body := get(t, addr, p.ProductionURL); status != 200 || body != "v2 hello production" {
		t.Errorf("production after v2: %d %q", status, body)
	}
	if status, body := get(t, addr, v1.URL); status != 200 || body != "v1 hi production" {
		t.Errorf("old deployment after v2: %d %q", status, body)
	}
	if v1.URL == v2.URL {
		t.Error("two deployments share a URL")
	}

	if err := c.DeleteProject(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	if status, _ := get(t, addr, v1.URL); status != 404 {
		t.Errorf("deleted project's deployment still served: %d", status)
	}
}

func TestFailedBuildReportsLogTail(t *testing.T) {
	c, _ := startEngine(t)
	ctx := context.Background()
	p, _ := c.CreateProject(ctx, api.ProjectRequest{Name: "broken"})
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "README.md"), "no app here\n")
	d := deploy(t, c, p.ID, dir)
	if d.State != api.StateError || !strings.Contains(d.ErrorMessage, "app.py") {
		t.Fatalf("want ERROR naming the files looked for, got %s %q", d.State, d.ErrorMessage)
	}
	log, err := c.DeploymentLog(ctx, d.ID)
	if err != nil || !strings.Contains(log, "ferry:") {
		t.Errorf("build log %q, %v", log, err)
	}
}

func TestTCPAPIRequiresToken(t *testing.T) {
	dataDir := shortDataDir(t)
	free := func() string { return freeport.Loopback(t) }
	apiAddress := free()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- engine.Run(ctx, engine.Config{DataDir: dataDir, HTTPAddress: free(), APIAddress: apiAddress, Token: "t0ken",
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("engine: %v", err)
		}
	}()

	good, _ := client.New(client.Config{Endpoint: "http://" + apiAddress, Token: "t0ken"})
	var health *api.Health
	for i := 0; i < 100 && health == nil; i++ {
		health, _ = good.Health(ctx)
		time.Sleep(50 * time.Millisecond)
	}
	if health == nil {
		t.Fatal("engine not reachable over TCP with the token")
	}
	bad, _ := client.New(client.Config{Endpoint: "http://" + apiAddress, Token: "wrong", RetryMax: 1})
	_, err := bad.ListProjects(ctx)
	var apiErr *client.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong token: %v, want 401", err)
	}
	if strings.Contains(err.Error(), "t0ken") {
		t.Error("the error shows the token")
	}
}

func TestTCPAPIWithoutTokenIsRefused(t *testing.T) {
	err := engine.Run(context.Background(), engine.Config{DataDir: t.TempDir(), APIAddress: "127.0.0.1:0"})
	if err == nil || !strings.Contains(err.Error(), "token") {
		t.Fatalf("want a refusal naming the token, got %v", err)
	}
}

func TestSecondEngineOnADataDirIsRefused(t *testing.T) {
	c, _ := startEngine(t)
	h, err := c.Health(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	err = engine.Run(context.Background(), engine.Config{DataDir: h.DataDir, HTTPAddress: "127.0.0.1:0"})
	if !errors.Is(err, engine.ErrLocked) {
		t.Fatalf("second engine on %s: %v, want ErrLocked", h.DataDir, err)
	}
}

func TestRestartKeepsServingAndResumesBuilds(t *testing.T) {
	needFlask(t)
	dataDir := shortDataDir(t)
	addr := freeport.Loopback(t)
	ctx := context.Background()

	c, stop := runEngine(t, dataDir, addr)
	p, err := c.CreateProject(ctx, api.ProjectRequest{Name: "keep"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateEnvVar(ctx, p.ID, api.EnvVarRequest{Key: "GREETING", Value: "hi", Targets: []string{"production"}}); err != nil {
		t.Fatal(err)
	}
	v1 := deploy(t, c, p.ID, writeApp(t, "1"))
	// Accepted but not yet built when the engine stops.
	v2, err := c.Deploy(ctx, p.ID, writeApp(t, "2"), true)
	if err != nil {
		t.Fatal(err)
	}
	stop()

	c, stop = runEngine(t, dataDir, addr)
	defer stop()
	if status, body := get(t, addr, v1.URL); status != 200 || body != "v1 hi production" {
		t.Errorf("v1 after restart: %d %q", status, body)
	}
	waitCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	d, err := c.WaitDeployment(waitCtx, v2.ID, 100*time.Millisecond)
	if err != nil || d.State != api.StateReady {
		t.Fatalf("the build accepted before the restart: %v %+v", err, d)
	}
	if status, body := get(t, addr, p.ProductionURL); status != 200 || body != "v2 hi production" {
		t.Errorf("production after the resumed build: %d %q", status, body)
	}
}

func TestDeployFastAPI(t *testing.T) {
	if err := exec.Command(python, "-c", "import fastapi").Run(); err != nil {
		t.Skipf("%s cannot import fastapi (apt-get install python3-fastapi): %v", python, err)
	}
	c, addr := startEngine(t)
	ctx := context.Background()
	p, err := c.CreateProject(ctx, api.ProjectRequest{Name: "fast", Framework: api.FrameworkFastAPI})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	src := "import os\nfrom fastapi import FastAPI\napp = FastAPI()\n\n@app.get('/items/{item}')\nasync def item(item: str, q: str = ''):\n    return {'item': item, 'q': q, 'env': os.environ['VERCEL_ENV']}\n"
	writeFile(t, filepath.Join(dir, "main.py"), src)
	// Debian's fastapi declares a starlette older than the one installed:
	// pip would refuse this offline, the satisfied-requirements check must not.
	writeFile(t, filepath.Join(dir, "requirements.txt"), "fastapi\nuvicorn\n")
	d, err := c.Deploy(ctx, p.ID, dir, false)
	if err != nil {
		t.Fatal(err)
	}
	waitCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if d, err = c.WaitDeployment(waitCtx, d.ID, 100*time.Millisecond); err != nil || d.State != api.StateReady {
		t.Fatalf("build: %v %+v", err, d)
	}
	if d.Entrypoint != "main:app" {
		t.Errorf("entrypoint %q", d.Entrypoint)
	}
	status, body := get(t, addr, d.URL+"/items/a%20b?q=x")
	if status != 200 || body != `{"item":"a b","q":"x","env":"preview"}` {
		t.Errorf("GET: %d %q", status, body)
	}
	if status, _ := get(t, addr, p.ProductionURL); status != 404 {
		t.Errorf("a preview deployment took the production URL: %d", status)
	}
}

func TestDeployHandler(t *testing.T) {
	c, addr := startEngine(t)
	ctx := context.Background()
	p, err := c.CreateProject(ctx, api.ProjectRequest{Name: "handler"})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	const src = `import json, os
from http.server import BaseHTTPRequestHandler


class handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if not self.path.startswith("/api/hello"):
            self.send_error(404, "no route for " + self.path)
            return
        body = json.dumps({"path": self.path, "greeting": self.headers.get("X-Greeting"), "env": os.environ["VERCEL_ENV"]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Handled-By", "handler")
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        data = self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(201)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data) + 9))
        self.end_headers()
        self.wfile.write(b"received " + data)
`
	writeFile(t, filepath.Join(dir, "api", "index.py"), src)
	d := deploy(t, c, p.ID, dir)
	if d.State != api.StateReady || d.Entrypoint != "api.index:handler" {
		t.Fatalf("build: %s %q, entrypoint %q", d.State, d.ErrorMessage, d.Entrypoint)
	}

	u, err := url.Parse(d.URL)
	if err != nil {
		t.Fatal(err)
	}
	send := func(method, path, body string, header http.Header) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(method, "http://"+addr+path, strings.NewReader(body))
		req.Host = u.Host
		for name, values := range header {
			req.Header[name] = values
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }()
		data, _ := io.ReadAll(resp.Body)
		return resp, string(data)
	}

	resp, body := send("GET", "/api/hello?name=ferry&x=%20y", "", http.Header{"X-Greeting": {"hi"}})
	if want := `{"path": "/api/hello?name=ferry&x=%20y", "greeting": "hi", "env": "production"}`; resp.StatusCode != 200 || body != want {
		t.Errorf("GET: %d %q, want %q", resp.StatusCode, body, want)
	}
	if got := resp.Header.Get("X-Handled-By"); got != "handler" {
		t.Errorf("X-Handled-By = %q", got)
	}
	if resp, body := send("POST", "/api/hello", "some data", nil); resp.StatusCode != 201 || body != "received some data" {
		t.Errorf("POST: %d %q", resp.StatusCode, body)
	}
	if resp, body := send("GET", "/nowhere", "", nil); resp.StatusCode != 404 || !strings.Contains(body, "no route for /nowhere") {
		t.Errorf("send_error(404): %d %q", resp.StatusCode, body)
	}
}

// TestStartFailureReleasesWhatItStarted fails a start after the data dir, the store, the edge and
// the API socket were taken (the TCP API's address is busy), then starts again on the same data dir.
func TestStartFailureReleasesWhatItStarted(t *testing.T) {
	dataDir := shortDataDir(t)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = busy.Close() }()
	cfg := engine.Config{DataDir: dataDir, HTTPAddress: "127.0.0.1:0", Python: python, APIAddress: busy.Addr().String(), Token: "t",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if _, err := engine.Start(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "listen for the API") {
		t.Fatalf("start with a busy API address: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dataDir, api.SocketName)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the failed start left its socket: %v", err)
	}

	cfg.APIAddress, cfg.Token = "", ""
	e, err := engine.Start(context.Background(), cfg)
	if err != nil {
		t.Fatalf("a second start on the same data dir: %v", err)
	}
	c, err := client.New(client.Config{Endpoint: "unix://" + filepath.Join(dataDir, api.SocketName)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Health(context.Background()); err != nil {
		t.Errorf("health after start: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := e.Shutdown(ctx); err != nil {
		t.Errorf("shutdown: %v", err)
	}
	select {
	case <-e.Done():
	default:
		t.Error("Done is not closed after Shutdown")
	}
	if _, err := os.Stat(filepath.Join(dataDir, api.SocketName)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("shutdown left the socket: %v", err)
	}
	// The lock is free again: a third engine can have the data dir.
	e, err = engine.Start(context.Background(), cfg)
	if err != nil {
		t.Fatalf("start after shutdown: %v", err)
	}
	if err := e.Shutdown(ctx); err != nil {
		t.Errorf("shutdown: %v", err)
	}
}
