package workers

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/runspec"
	"github.com/ferryhq/terraform-provider-ferry/internal/logbuffer"
	"golang.org/x/sys/unix"
)

const systemPython = "/usr/bin/python3"

// plainWSGIApp is a WSGI app without any framework; GET on an unknown path describes the request.
const plainWSGIApp = `
import json, os, sys, time

if os.environ.get("IMPORT_LOG"):
    with open(os.environ["IMPORT_LOG"], "a") as log:
        log.write("%d\n" % os.getpid())

def app(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/headers":
        start_response("201 Created", [("Content-Type", "text/plain"), ("Set-Cookie", "a=1"),
                                       ("Set-Cookie", "b=2"), ("X-Custom", "yes")])
        return [b"created"]
    if path == "/body":
        data = environ["wsgi.input"].read()
        start_response("200 OK", [("Content-Type", "application/octet-stream"),
                                  ("Content-Length", str(len(data)))])
        return [data]
    if path == "/lines":
        lines = list(environ["wsgi.input"])
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps([line.decode() for line in lines]).encode()]
    if path == "/error":
        raise RuntimeError("boom in the app")
    if path == "/crash":
        os._exit(3)
    if path == "/sleep":
        time.sleep(float(environ["QUERY_STRING"]))
        start_response("200 OK", [])
        return [b"slept"]
    if path == "/stream":
        # The second chunk waits for the client to acknowledge the first: it proves the first was not buffered.
        ack = environ["QUERY_STRING"]
        def chunks():
            yield b"first;"
            deadline = time.time() + 10
            while not os.path.exists(ack) and time.time() < deadline:
                time.sleep(0.01)
            yield b"second"
        start_response("200 OK", [("Content-Type", "text/plain")])
        return chunks()
    if path == "/fail-midway":
        def chunks():
            yield b"partial"
            raise RuntimeError("failed midway")
        start_response("200 OK", [("Content-Type", "text/plain")])
        return chunks()
    info = {key: environ.get(key) for key in (
        "REQUEST_METHOD", "PATH_INFO", "QUERY_STRING", "SCRIPT_NAME", "SERVER_NAME", "SERVER_PORT",
        "SERVER_PROTOCOL", "REMOTE_ADDR", "CONTENT_TYPE", "CONTENT_LENGTH", "wsgi.url_scheme")}
    info["headers"] = {k: v for k, v in environ.items() if k.startswith("HTTP_")}
    info["path_utf8"] = path.encode("latin-1").decode("utf-8")
    info["pid"] = os.getpid()
    info["ppid"] = os.getppid()
    info["secret"] = os.environ.get("SECRET_VALUE")
    info["input_read"] = environ["wsgi.input"].read().decode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps(info).encode()]
`

type harness struct {
	manager *Manager
	app     App
	server  *httptest.Server
	logDir  string
}

func requirePython(t testing.TB, modules ...string) {
	t.Helper()
	if _, err := os.Stat(systemPython); err != nil {
		t.Skipf("%s is not installed", systemPython)
	}
	for _, module := range modules {
		if err := exec.Command(systemPython, "-c", "import "+module).Run(); err != nil {
			t.Skipf("%s cannot import %s (apt-get install python3-%s): %v", systemPython, module, module, err)
		}
	}
}

// writeApp writes files into a new directory and returns it.
func writeApp(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// newHarness serves app (with defaults filled in) through a new Manager behind an httptest server.
func newHarness(t testing.TB, cfg Config, app App) *harness {
	t.Helper()
	// Not t.TempDir(): socket paths must fit in 107 bytes, and the engine-death helper runs with a
	// TMPDIR that is a t.TempDir() already.
	runDir, err := os.MkdirTemp("", "ferry-rt-") //nolint:usetesting // t.TempDir() is too long for socket paths here
	if err != nil {
		t.Fatal(err)
	}
	cfg.RunDir = runDir
	cfg.LogDir = t.TempDir()
	if app.ID == "" {
		app.ID = "dpl_test"
	}
	if app.Python == "" {
		app.Python = systemPython
	}
	if app.Entrypoint == "" {
		app.Entrypoint = "app:app"
	}
	if app.Kind == "" {
		app.Kind = runspec.KindWSGI
	}
	app.Env = append(app.Env, "PATH=/usr/bin:/bin")
	m := New(cfg)
	h := &harness{manager: m, app: app, logDir: cfg.LogDir}
	h.server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.ServeHTTP(w, r, h.app)
	}))
	t.Cleanup(func() {
		h.server.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := m.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := os.RemoveAll(runDir); err != nil {
			t.Error(err)
		}
	})
	return h
}

func (h *harness) do(t testing.TB, method, path string, body io.Reader, header http.Header) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, h.server.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := h.server.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, path, err)
	}
	return resp, data
}

func (h *harness) get(t testing.TB, path string) (*http.Response, []byte) {
	t.Helper()
	return h.do(t, http.MethodGet, path, nil, nil)
}

func (h *harness) log(t testing.TB) string {
	t.Helper()
	data, err := os.ReadFile(logPath(h.logDir, h.app.ID))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

type wsgiInfo struct {
	Method        string            `json:"REQUEST_METHOD"`
	PathInfo      string            `json:"PATH_INFO"`
	Query         string            `json:"QUERY_STRING"`
	ScriptName    *string           `json:"SCRIPT_NAME"`
	ServerName    string            `json:"SERVER_NAME"`
	ServerPort    string            `json:"SERVER_PORT"`
	Protocol      string            `json:"SERVER_PROTOCOL"`
	RemoteAddr    string            `json:"REMOTE_ADDR"`
	ContentType   *string           `json:"CONTENT_TYPE"`
	ContentLength *string           `json:"CONTENT_LENGTH"`
	URLScheme     string            `json:"wsgi.url_scheme"`
	Headers       map[string]string `json:"headers"`
	PathUTF8      string            `json:"path_utf8"`
	PID           int               `json:"pid"`
	PPID          int               `json:"ppid"`
	Secret        *string           `json:"secret"`
	InputRead     string            `json:"input_read"`
}

func (h *harness) info(t testing.TB, path string) wsgiInfo {
	t.Helper()
	resp, body := h.get(t, path)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d: %s", path, resp.StatusCode, body)
	}
	var info wsgiInfo
	if err := json.Unmarshal(body, &info); err != nil {
		t.Fatalf("GET %s: %v: %s", path, err, body)
	}
	return info
}

// groupMembers lists the live (not zombie) processes of a process group.
func groupMembers(t testing.TB, pgid int) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, entry := range entries {
		pid, err := strconv.Atoi(entry.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", entry.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp ...: comm may hold spaces, so parse after its closing parenthesis.
		fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(fields) > 2 && fields[0] != "Z" && fields[2] == strconv.Itoa(pgid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

func processAlive(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	return len(fields) > 0 && fields[0] != "Z"
}

// eventually polls cond until it holds or 15s pass.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestWSGIRequestReachesAppIntact(t *testing.T) {
	requirePython(t)
	h := newHarness(t, Config{}, App{Dir: writeApp(t, map[string]string{"app.py": plainWSGIApp})})

	header := http.Header{"X-Multi": {"a", "b"}, "Content-Type": {"text/x-test"}}
	resp, body := h.do(t, http.MethodGet, "/echo/a%20b%2Fc/caf%C3%A9?x=1&y=%20z&x=2", nil, header)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	var info wsgiInfo
	if err := json.Unmarshal(body, &info); err != nil {
		t.Fatal(err)
	}
	port := strings.TrimPrefix(h.server.URL, "http://127.0.0.1:")
	checks := []struct{ name, got, want string }{
		{"REQUEST_METHOD", info.Method, "GET"},
		{"PATH_INFO (utf-8)", info.PathUTF8, "/echo/a b/c/café"},
		{"QUERY_STRING", info.Query, "x=1&y=%20z&x=2"},
		{"SERVER_NAME", info.ServerName, "127.0.0.1"},
		{"SERVER_PORT", info.ServerPort, port},
		{"SERVER_PROTOCOL", info.Protocol, "HTTP/1.1"},
		{"REMOTE_ADDR", info.RemoteAddr, "127.0.0.1"},
		{"wsgi.url_scheme", info.URLScheme, "http"},
		{"HTTP_HOST", info.Headers["HTTP_HOST"], "127.0.0.1:" + port},
		{"HTTP_X_MULTI", info.Headers["HTTP_X_MULTI"], "a, b"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if info.ScriptName == nil || *info.ScriptName != "" {
		t.Errorf("SCRIPT_NAME = %v, want empty string", info.ScriptName)
	}
	if info.ContentType == nil || *info.ContentType != "text/x-test" {
		t.Errorf("CONTENT_TYPE = %v, want text/x-test", info.ContentType)
	}
	if _, ok := info.Headers["HTTP_CONTENT_TYPE"]; ok {
		t.Errorf("Content-Type also appears as HTTP_CONTENT_TYPE")
	}
	if info.ContentLength != nil {
		t.Errorf("CONTENT_LENGTH = %q for a request without a body", *info.ContentLength)
	}
}

func TestWSGIResponseHeadersAndStatus(t *testing.T) {
	requirePython(t)
	h := newHarness(t, Config{}, App{Dir: writeApp(t, map[string]string{"app.py": plainWSGIApp})})

	resp, body := h.get(t, "/headers")
	if resp.StatusCode != http.StatusCreated || string(body) != "created" {
		t.Fatalf("got %d %q, want 201 \"created\"", resp.StatusCode, body)
	}
	if got := resp.Header.Values("Set-Cookie"); !slices.Equal(got, []string{"a=1", "b=2"}) {
		t.Errorf("Set-Cookie = %q, want both cookies", got)
	}
	if got := resp.Header.Get("X-Custom"); got != "yes" {
		t.Errorf("X-Custom = %q", got)
	}
	if got := resp.Header.Get("Content-Type"); got != "text/plain" {
		t.Errorf("Content-Type = %q", got)
	}
}

func TestWSGIRequestBodies(t *testing.T) {
	requirePython(t)
	h := newHarness(t, Config{}, App{Dir: writeApp(t, map[string]string{"app.py": plainWSGIApp})})

	large := make([]byte, 5<<20+123)
	rand.Read(large)
	for _, size := range []int{1, 1000, smallBodyLimit, smallBodyLimit + 1, len(large)} {
		resp, body := h.do(t, http.MethodPost, "/body", bytes.NewReader(large[:size]), nil)
		if resp.StatusCode != http.StatusOK || !bytes.Equal(body, large[:size]) {
			t.Errorf("POST of %d bytes: status %d, %d bytes back, equal=%v", size, resp.StatusCode, len(body), bytes.Equal(body, large[:size]))
		}
	}

	// Unknown length (chunked): the app reads until the end.
	pr, pw := io.Pipe()
	go func() {
		for i := 0; i < len(large); i += 100_000 {
			if _, err := pw.Write(large[i:min(i+100_000, len(large))]); err != nil {
				return // the request gave up reading; its answer tells why
			}
		}
		_ = pw.Close() // a PipeWriter's Close is always nil
	}()
	resp, body := h.do(t, http.MethodPost, "/body", pr, nil)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, large) {
		t.Errorf("chunked POST: status %d, %d bytes back", resp.StatusCode, len(body))
	}

	// Line by line, as a multipart parser reads.
	resp, body = h.do(t, http.MethodPost, "/lines", strings.NewReader("one\ntwo\nthree"), nil)
	if resp.StatusCode != http.StatusOK || string(body) != `["one\n", "two\n", "three"]` {
		t.Errorf("readline: %d %s", resp.StatusCode, body)
	}

	// A body the app never reads must not leak into the next request on the same connection.
	for range 3 {
		resp, body := h.do(t, http.MethodPost, "/headers", bytes.NewReader(large[:200_000]), nil)
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("POST ignored body: %d %s", resp.StatusCode, body)
		}
		info := h.info(t, "/after")
		if info.InputRead != "" || info.PathInfo != "/after" {
			t.Fatalf("next request saw %q, path %q", info.InputRead, info.PathInfo)
		}
	}
}

func TestEnvReachesApp(t *testing.T) {
	requirePython(t)
	h := newHarness(t, Config{}, App{
		Dir: writeApp(t, map[string]string{"app.py": plainWSGIApp}),
		Env: []string{"SECRET_VALUE=s3cr3t-value"},
	})
	info := h.info(t, "/")
	if info.Secret == nil || *info.Secret != "s3cr3t-value" {
		t.Fatalf("SECRET_VALUE in the app = %v", info.Secret)
	}
}

func TestEngineLogNeverShowsEnvValues(t *testing.T) {
	requirePython(t)
	logs := &logbuffer.Buffer{}
	h := newHarness(t, Config{Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}, App{
		Dir: writeApp(t, map[string]string{"app.py": plainWSGIApp}),
		Env: []string{"SECRET_VALUE=s3cr3t-value"},
	})
	h.info(t, "/")
	h.manager.Stop(h.app.ID)
	if strings.Contains(logs.String(), "s3cr3t") {
		t.Fatalf("engine log shows an env value:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "deployment started") {
		t.Fatalf("engine log misses the start:\n%s", logs.String())
	}
}

func TestImportErrorAnswers502AndRetries(t *testing.T) {
	requirePython(t)
	dir := writeApp(t, map[string]string{"app.py": "import module_that_does_not_exist_xyz\n"})
	h := newHarness(t, Config{}, App{Dir: dir})

	h.expectStartFailure(t, "module_that_does_not_exist_xyz")
	if running := h.manager.Running(); len(running) != 0 {
		t.Errorf("Running() = %v after a failed start", running)
	}

	// The next request tries again, and the fixed app starts.
	if err := os.WriteFile(filepath.Join(dir, "app.py"), []byte(plainWSGIApp), 0o644); err != nil {
		t.Fatal(err)
	}
	h.info(t, "/")
}

func TestMissingAttributeAnswers502(t *testing.T) {
	requirePython(t)
	h := newHarness(t, Config{}, App{Dir: writeApp(t, map[string]string{"app.py": "x = 1\n"}), Entrypoint: "app:application"})
	h.expectStartFailure(t, "has no attribute 'application'")
}

func TestAppExceptionAnswers500WithTracebackInLog(t *testing.T) {
	requirePython(t)
	h := newHarness(t, Config{}, App{Dir: writeApp(t, map[string]string{"app.py": plainWSGIApp})})

	resp, body := h.get(t, "/error")
	if resp.StatusCode != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500", resp.StatusCode)
	}
	if strings.Contains(string(body), "boom") || strings.Contains(string(body), "Traceback") {
		t.Errorf("500 body reveals the exception: %s", body)
	}
	if log := h.log(t); !strings.Contains(log, "Traceback") || !strings.Contains(log, "RuntimeError: boom in the app") {
		t.Errorf("log lacks the traceback:\n%s", log)
	}
	h.info(t, "/") // the worker still serves
}

func TestFailureAfterResponseStartedCutsTheConnection(t *testing.T) {
	requirePython(t)
	h := newHarness(t, Config{}, App{Dir: writeApp(t, map[string]string{"app.py": plainWSGIApp})})

	// Depending on whether the head was flushed before the failure, the client sees it cut either in the
	// head or in the body; it must never see a complete response.
	resp, err := h.server.Client().Get(h.server.URL + "/fail-midway")
	if err == nil {
		defer func() { _ = resp.Body.Close() }()
		body, err := io.ReadAll(resp.Body)
		if err == nil {
			t.Fatalf("read a complete body %q from a response the app failed to finish", body)
		}
	}
	h.info(t, "/")
}

func TestStreamedResponseIsNotBuffered(t *testing.T) {
	requirePython(t)
	h := newHarness(t, Config{}, App{Dir: writeApp(t, map[string]string{"app.py": plainWSGIApp})})

	ack := filepath.Join(t.TempDir(), "ack")
	resp, err := h.server.Client().Get(h.server.URL + "/stream?" + ack)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	first := make([]byte, len("first;"))
	if _, err := io.ReadFull(resp.Body, first); err != nil || string(first) != "first;" {
		t.Fatalf("first chunk: %q, %v", first, err)
	}
	// The app is now waiting for this file before it yields the rest.
	if err := os.WriteFile(ack, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	rest, err := io.ReadAll(resp.Body)
	if err != nil || string(rest) != "second" {
		t.Fatalf("rest: %q, %v", rest, err)
	}
}

func TestConcurrentColdStartStartsOneProcessGroup(t *testing.T) {
	requirePython(t)
	importLog := filepath.Join(t.TempDir(), "imports")
	h := newHarness(t, Config{}, App{
		Dir: writeApp(t, map[string]string{"app.py": plainWSGIApp}),
		Env: []string{"IMPORT_LOG=" + importLog},
	})

	const clients = 16
	parents := make([]int, clients)
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() { parents[i] = h.info(t, "/").PPID })
	}
	wg.Wait()
	for _, parent := range parents {
		if parent != parents[0] {
			t.Fatalf("requests were served by different parents: %v", parents)
		}
	}
	// Each worker imports the app: one start imports it once per worker.
	eventually(t, "both workers import the app", func() bool {
		imports, err := os.ReadFile(importLog)
		return err == nil && strings.Count(string(imports), "\n") >= defaultWorkers
	})
	imports, err := os.ReadFile(importLog)
	if err != nil {
		t.Fatal(err)
	}
	if pids := strings.Fields(string(imports)); len(pids) != defaultWorkers || pids[0] == pids[1] {
		t.Fatalf("the app was imported by %q, want once by each of %d workers", pids, defaultWorkers)
	}
	if running := h.manager.Running(); !slices.Equal(running, []string{h.app.ID}) {
		t.Fatalf("Running() = %v", running)
	}
}

func TestStopKillsTheProcessGroup(t *testing.T) {
	requirePython(t)
	h := newHarness(t, Config{Workers: 3, Threads: 1}, App{Dir: writeApp(t, map[string]string{"app.py": plainWSGIApp})})

	parent := h.info(t, "/").PPID
	busyWith(t, h, 3, 500*time.Millisecond) // every worker is started
	members := groupMembers(t, parent)
	if len(members) != 4 {
		t.Fatalf("process group %d has %v, want the parent and 3 workers", parent, members)
	}
	h.manager.Stop(h.app.ID)
	for _, pid := range members {
		if processAlive(pid) {
			t.Errorf("process %d still runs after Stop", pid)
		}
	}
	if running := h.manager.Running(); len(running) != 0 {
		t.Errorf("Running() = %v after Stop", running)
	}
	h.manager.Stop(h.app.ID) // no-op

	if again := h.info(t, "/").PPID; again == parent {
		t.Errorf("served by the stopped parent %d", parent)
	}
}

func TestRemovedDeploymentIsNotStartedAgain(t *testing.T) {
	requirePython(t)
	h := newHarness(t, Config{}, App{Dir: writeApp(t, map[string]string{"app.py": plainWSGIApp})})
	h.info(t, "/")
	h.manager.Remove(h.app.ID)
	if resp, body := h.get(t, "/"); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("request to a removed deployment: %d %s", resp.StatusCode, body)
	}
	if running := h.manager.Running(); len(running) != 0 {
		t.Errorf("Running() = %v after Remove", running)
	}
}

func TestShutdownStopsEverything(t *testing.T) {
	requirePython(t)
	h := newHarness(t, Config{}, App{Dir: writeApp(t, map[string]string{"app.py": plainWSGIApp})})
	parent := h.info(t, "/").PPID
	members := groupMembers(t, parent)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.manager.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	for _, pid := range members {
		if processAlive(pid) {
			t.Errorf("process %d still runs after Shutdown", pid)
		}
	}
	resp, _ := h.get(t, "/")
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("after Shutdown: status %d, want 503", resp.StatusCode)
	}
}

func TestWorkerCrashRecovers(t *testing.T) {
	requirePython(t)
	h := newHarness(t, Config{}, App{Dir: writeApp(t, map[string]string{"app.py": plainWSGIApp})})
	h.info(t, "/")

	resp, body := h.get(t, "/crash")
	if resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("crash: status %d, want 502: %s", resp.StatusCode, body)
	}
	for range 10 {
		h.info(t, "/")
	}
	if log := h.log(t); !strings.Contains(log, "exited with code 3") {
		t.Errorf("log does not mention the crash:\n%s", log)
	}
}

func TestParentDeathRestartsOnNextRequest(t *testing.T) {
	requirePython(t)
	h := newHarness(t, Config{}, App{Dir: writeApp(t, map[string]string{"app.py": plainWSGIApp})})
	parent := h.info(t, "/").PPID
	members := groupMembers(t, parent)

	if err := unix.Kill(parent, unix.SIGKILL); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the killed deployment's workers exit", func() bool {
		return !slices.ContainsFunc(members, processAlive)
	})
	eventually(t, "the runtime notices", func() bool { return len(h.manager.Running()) == 0 })
	if again := h.info(t, "/").PPID; again == parent {
		t.Fatalf("served by the killed parent")
	}
}

func TestIdleTimeoutScalesToZero(t *testing.T) {
	requirePython(t)
	h := newHarness(t, Config{IdleTimeout: 300 * time.Millisecond}, App{Dir: writeApp(t, map[string]string{"app.py": plainWSGIApp})})

	parent := h.info(t, "/").PPID
	members := groupMembers(t, parent)
	eventually(t, "the idle deployment stops", func() bool { return len(h.manager.Running()) == 0 })
	eventually(t, "its processes exit", func() bool { return !slices.ContainsFunc(members, processAlive) })

	if again := h.info(t, "/").PPID; again == parent {
		t.Fatalf("served by the stopped parent")
	}
}

func TestRequestOutlastingMaxDurationGets504(t *testing.T) {
	requirePython(t)
	h := newHarness(t, Config{MaxDuration: 300 * time.Millisecond}, App{Dir: writeApp(t, map[string]string{"app.py": plainWSGIApp})})
	parent := h.info(t, "/").PPID
	members := groupMembers(t, parent)
	resp, body := h.get(t, "/sleep?5")
	if resp.StatusCode != http.StatusGatewayTimeout {
		t.Fatalf("status %d, want 504: %s", resp.StatusCode, body)
	}
	// The instance whose thread is still asleep is replaced, and says so in the deployment's log.
	if again := h.info(t, "/").PPID; again == parent {
		t.Fatal("served by the instance that let a request run past its maximum duration")
	}
	eventually(t, "the replaced instance's processes exit", func() bool { return !slices.ContainsFunc(members, processAlive) })
	if id := resp.Header.Get(RequestIDHeader); !strings.Contains(h.log(t), "request "+id+" ran past the maximum duration of 300ms") {
		t.Errorf("the deployment's log does not name request %s:\n%s", id, h.log(t))
	}
}

// Past MaxQueue requests waiting for a busy instance, more are refused at once with 503 and
// Retry-After, and the waiting ones are served.
func TestFullQueueGets503WithRetryAfter(t *testing.T) {
	requirePython(t)
	h := newHarness(t, Config{Workers: 1, Threads: 1, MaxQueue: 1}, App{Dir: writeApp(t, map[string]string{"app.py": plainWSGIApp})})
	h.get(t, "/") // started
	statuses := make(chan int, 2)
	for range 2 { // one served, one waiting
		go func() {
			resp, _ := h.get(t, "/sleep?1")
			statuses <- resp.StatusCode
		}()
	}
	eventually(t, "a request waits", func() bool {
		h.manager.mu.RLock()
		defer h.manager.mu.RUnlock()
		d := h.manager.deployments[h.app.key()]
		return d != nil && d.pool.queued() == 1
	})
	resp, body := h.get(t, "/")
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "1" || !strings.Contains(string(body), "1 requests are waiting") {
		t.Errorf("past the queue: %d, Retry-After %q: %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	for range 2 {
		if status := <-statuses; status != http.StatusOK {
			t.Errorf("a queued request got %d", status)
		}
	}
}

func TestFlaskApp(t *testing.T) {
	requirePython(t, "flask")
	const flaskApp = `
from flask import Flask, jsonify, make_response, request

app = Flask(__name__)

@app.route("/")
def hello():
    return "Hello, World!"

@app.route("/form", methods=["POST"])
def form():
    return jsonify(name=request.form["name"], x=request.args.get("x"), url=request.url)

@app.route("/upload", methods=["POST"])
def upload():
    return jsonify(size=len(request.files["file"].read()))

@app.route("/cookies")
def cookies():
    response = make_response("ok", 202)
    response.set_cookie("a", "1")
    response.set_cookie("b", "2")
    return response

@app.route("/error")
def error():
    raise RuntimeError("flask boom")
`
	h := newHarness(t, Config{}, App{Dir: writeApp(t, map[string]string{"app.py": flaskApp})})

	if resp, body := h.get(t, "/"); resp.StatusCode != 200 || string(body) != "Hello, World!" {
		t.Errorf("GET /: %d %q", resp.StatusCode, body)
	}
	resp, body := h.do(t, http.MethodPost, "/form?x=%C3%A9", strings.NewReader("name=ferry+app"),
		http.Header{"Content-Type": {"application/x-www-form-urlencoded"}})
	var form struct{ Name, X, URL string }
	if err := json.Unmarshal(body, &form); err != nil || resp.StatusCode != 200 {
		t.Fatalf("POST /form: %d %s", resp.StatusCode, body)
	}
	if form.Name != "ferry app" || form.X != "é" || form.URL != h.server.URL+"/form?x=é" {
		t.Errorf("POST /form: %+v", form)
	}

	var multipart bytes.Buffer
	payload := bytes.Repeat([]byte("0123456789"), 300_000)
	multipart.WriteString("--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f.bin\"\r\n\r\n")
	multipart.Write(payload)
	multipart.WriteString("\r\n--XyZ--\r\n")
	resp, body = h.do(t, http.MethodPost, "/upload", &multipart, http.Header{"Content-Type": {"multipart/form-data; boundary=XyZ"}})
	if resp.StatusCode != 200 || string(bytes.TrimSpace(body)) != fmt.Sprintf(`{"size":%d}`, len(payload)) {
		t.Errorf("POST /upload: %d %s", resp.StatusCode, body)
	}

	resp, _ = h.get(t, "/cookies")
	if cookies := resp.Header.Values("Set-Cookie"); resp.StatusCode != 202 || len(cookies) != 2 ||
		!strings.HasPrefix(cookies[0], "a=1") || !strings.HasPrefix(cookies[1], "b=2") {
		t.Errorf("GET /cookies: %d %q", resp.StatusCode, cookies)
	}
	if resp, _ := h.get(t, "/error"); resp.StatusCode != 500 {
		t.Errorf("GET /error: %d", resp.StatusCode)
	}
	if log := h.log(t); !strings.Contains(log, "RuntimeError: flask boom") {
		t.Errorf("log lacks the Flask traceback:\n%s", log)
	}
}

const plainASGIApp = `
import asyncio, contextvars, json, os

started = False
request_name = contextvars.ContextVar("request_name", default=None)

async def app(scope, receive, send):
    global started
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                started = True
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                with open(os.environ["SHUTDOWN_MARKER"], "w") as marker:
                    marker.write("done")
                await send({"type": "lifespan.shutdown.complete"})
                return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    if scope["path"] == "/error":
        raise RuntimeError("asgi boom")
    if scope["path"] == "/context":
        # Each request must start in a context of its own, whether or not it ever waits.
        name, _, wait = scope["query_string"].decode().partition("&")
        leaked = request_name.get()
        request_name.set(name)
        if wait:
            await asyncio.sleep(0.01)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": json.dumps([leaked, request_name.get()]).encode()})
        return
    if scope["path"] == "/stream":
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        for part in (b"one,", b"two,", b"three"):
            await send({"type": "http.response.body", "body": part, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
        return
    info = {
        "method": scope["method"], "path": scope["path"], "raw_path": scope["raw_path"].decode(),
        "query": scope["query_string"].decode(), "scheme": scope["scheme"],
        "http_version": scope["http_version"], "client": scope["client"], "server": scope["server"],
        "headers": [[k.decode(), v.decode()] for k, v in scope["headers"]],
        "body": body.decode(), "started": started, "secret": os.environ.get("SECRET_VALUE"),
    }
    await send({"type": "http.response.start", "status": 202, "headers": [
        (b"content-type", b"application/json"), (b"set-cookie", b"a=1"), (b"set-cookie", b"b=2")]})
    await send({"type": "http.response.body", "body": json.dumps(info).encode()})
`

func TestASGIApp(t *testing.T) {
	requirePython(t)
	marker := filepath.Join(t.TempDir(), "shutdown")
	h := newHarness(t, Config{}, App{
		Kind: runspec.KindASGI,
		Dir:  writeApp(t, map[string]string{"app.py": plainASGIApp}),
		Env:  []string{"SHUTDOWN_MARKER=" + marker, "SECRET_VALUE=v"},
	})

	resp, body := h.do(t, http.MethodPost, "/a%20b/caf%C3%A9?q=1&q=2", strings.NewReader("hello body"),
		http.Header{"X-Multi": {"a", "b"}})
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	if got := resp.Header.Values("Set-Cookie"); !slices.Equal(got, []string{"a=1", "b=2"}) {
		t.Errorf("Set-Cookie = %q", got)
	}
	var info struct {
		Method, Path, Query, Scheme, Body, Secret string
		RawPath                                   string `json:"raw_path"`
		HTTPVersion                               string `json:"http_version"`
		Client, Server                            []any
		Headers                                   [][2]string
		Started                                   bool
	}
	if err := json.Unmarshal(body, &info); err != nil {
		t.Fatal(err)
	}

	if info.Method != "POST" || info.Path != "/a b/café" || info.RawPath != "/a%20b/caf%C3%A9" ||
		info.Query != "q=1&q=2" || info.Scheme != "http" || info.HTTPVersion != "1.1" || info.Body != "hello body" {
		t.Errorf("scope: %+v", info)
	}
	if !info.Started {
		t.Errorf("lifespan startup did not run before the request")
	}
	if info.Secret != "v" {
		t.Errorf("env var: %q", info.Secret)
	}
	if len(info.Client) != 2 || info.Client[0] != "127.0.0.1" {
		t.Errorf("client = %v", info.Client)
	}
	var multi []string
	for _, header := range info.Headers {
		if header[0] == "x-multi" {
			multi = append(multi, header[1])
		}
	}
	if !slices.Equal(multi, []string{"a", "b"}) {
		t.Errorf("x-multi headers = %q in %q", multi, info.Headers)
	}

	if resp, body := h.get(t, "/stream"); string(body) != "one,two,three" {
		t.Errorf("stream: %d %q", resp.StatusCode, body)
	}
	for _, query := range []string{"a", "b&wait", "c", "d&wait", "e"} {
		name, _, _ := strings.Cut(query, "&")
		if resp, body := h.get(t, "/context?"+query); string(body) != `[null, "`+name+`"]` {
			t.Errorf("context %s: %d %s", query, resp.StatusCode, body)
		}
	}
	if resp, body := h.get(t, "/error"); resp.StatusCode != 500 || strings.Contains(string(body), "boom") {
		t.Errorf("error: %d %q", resp.StatusCode, body)
	}
	if log := h.log(t); !strings.Contains(log, "RuntimeError: asgi boom") {
		t.Errorf("log lacks the traceback:\n%s", log)
	}

	h.manager.Stop(h.app.ID)
	if data, err := os.ReadFile(marker); err != nil || string(data) != "done" {
		t.Errorf("lifespan shutdown did not run on Stop: %q, %v", data, err)
	}
}

func TestASGIAppWithoutLifespan(t *testing.T) {
	requirePython(t)
	const app = `
async def app(scope, receive, send):
    assert scope["type"] == "http", "no lifespan here"
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"fine"})
`
	h := newHarness(t, Config{}, App{Kind: runspec.KindASGI, Dir: writeApp(t, map[string]string{"app.py": app})})
	if resp, body := h.get(t, "/"); resp.StatusCode != 200 || string(body) != "fine" {
		t.Fatalf("%d %q", resp.StatusCode, body)
	}
}

func TestASGILifespanStartupFailureAnswers502(t *testing.T) {
	requirePython(t)
	const app = `
async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        await receive()
        await send({"type": "lifespan.startup.failed", "message": "database unreachable"})
`
	h := newHarness(t, Config{}, App{Kind: runspec.KindASGI, Dir: writeApp(t, map[string]string{"app.py": app})})
	h.expectStartFailure(t, "database unreachable")
}

func TestFastAPIApp(t *testing.T) {
	requirePython(t, "fastapi")
	const app = `
from fastapi import FastAPI, Request

app = FastAPI()
state = {}

@app.on_event("startup")
async def startup():
    state["ready"] = True

@app.get("/items/{item_id}")
async def read_item(item_id: str, q: str = None):
    return {"item_id": item_id, "q": q, "ready": state.get("ready", False)}

@app.post("/echo")
async def echo(request: Request):
    body = await request.body()
    return {"size": len(body), "type": request.headers.get("content-type")}
`
	h := newHarness(t, Config{}, App{Kind: runspec.KindASGI, Dir: writeApp(t, map[string]string{"main.py": app}), Entrypoint: "main:app"})

	resp, body := h.get(t, "/items/a%20b?q=x")
	if resp.StatusCode != 200 || string(body) != `{"item_id":"a b","q":"x","ready":true}` {
		t.Errorf("GET: %d %s", resp.StatusCode, body)
	}
	payload := bytes.Repeat([]byte("x"), 3<<20)
	resp, body = h.do(t, http.MethodPost, "/echo", bytes.NewReader(payload), http.Header{"Content-Type": {"application/octet-stream"}})
	if resp.StatusCode != 200 || string(body) != fmt.Sprintf(`{"size":%d,"type":"application/octet-stream"}`, len(payload)) {
		t.Errorf("POST: %d %s", resp.StatusCode, body)
	}
	if resp, _ := h.get(t, "/missing"); resp.StatusCode != 404 {
		t.Errorf("GET /missing: %d", resp.StatusCode)
	}
}

// plainHandlerApp is a BaseHTTPRequestHandler class, as Vercel's Python runtime serves them. It speaks
// HTTP/1.1, so http.server would go on reading requests after the first if nothing stopped it.
const plainHandlerApp = `
import json, os
from http.server import BaseHTTPRequestHandler

class handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def reply(self, status, body, content_type="application/json"):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Set-Cookie", "a=1")
        self.send_header("Set-Cookie", "b=2")
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path.startswith("/missing"):
            self.send_error(404, "Nothing at " + self.path)
        elif self.path == "/error":
            raise RuntimeError("handler boom")
        elif self.path == "/no-length":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"written ")
            self.wfile.write(b"in parts")
        elif self.path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in (b"one,", b"two"):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
        elif self.path == "/garbage":
            self.wfile.write(b"not http")
        else:
            self.reply(200, json.dumps({
                "command": self.command, "path": self.path, "version": self.request_version,
                "client": self.client_address[0], "host": self.headers["Host"],
                "multi": self.headers.get_all("X-Multi"), "length": self.headers["Content-Length"],
                "secret": os.environ.get("SECRET_VALUE"),
            }).encode())

    do_HEAD = do_GET

    def do_POST(self):
        if self.path == "/ignore-body":
            self.send_response(202)
            self.end_headers()
            self.wfile.write(b"ignored")
            return
        length = self.headers["Content-Length"]
        self.reply(200, self.rfile.read(int(length)), "application/octet-stream")
`

func TestHandlerClass(t *testing.T) {
	requirePython(t)
	h := newHarness(t, Config{}, App{
		Kind:       runspec.KindHandler,
		Entrypoint: "index:handler",
		Dir:        writeApp(t, map[string]string{"index.py": plainHandlerApp}),
		Env:        []string{"SECRET_VALUE=v"},
	})

	resp, body := h.do(t, http.MethodGet, "/echo/a%20b?x=1&y=%20z", nil, http.Header{"X-Multi": {"a", "b"}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET: %d %s", resp.StatusCode, body)
	}
	var info struct {
		Command, Path, Version, Client, Host, Secret string
		Multi                                        []string
		Length                                       *string
	}
	if err := json.Unmarshal(body, &info); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	want := []struct{ name, got, want string }{
		{"command", info.Command, "GET"},
		{"path", info.Path, "/echo/a%20b?x=1&y=%20z"},
		{"request version", info.Version, "HTTP/1.1"},
		{"client address", info.Client, "127.0.0.1"},
		{"Host", info.Host, strings.TrimPrefix(h.server.URL, "http://")},
		{"env var", info.Secret, "v"},
	}
	for _, c := range want {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if !slices.Equal(info.Multi, []string{"a", "b"}) || info.Length != nil {
		t.Errorf("X-Multi = %q, Content-Length = %v: want both values and no length for a GET", info.Multi, info.Length)
	}
	if got := resp.Header.Values("Set-Cookie"); !slices.Equal(got, []string{"a=1", "b=2"}) {
		t.Errorf("Set-Cookie = %q, want both cookies", got)
	}
	if resp.Header.Get("Content-Type") != "application/json" || resp.ContentLength != int64(len(body)) {
		t.Errorf("Content-Type %q, Content-Length %d for %d bytes", resp.Header.Get("Content-Type"), resp.ContentLength, len(body))
	}

	resp, head := h.do(t, http.MethodHead, "/", nil, nil)
	if resp.StatusCode != http.StatusOK || len(head) != 0 || resp.ContentLength <= 0 {
		t.Errorf("HEAD: %d, %d bytes, Content-Length %d", resp.StatusCode, len(head), resp.ContentLength)
	}

	resp, body = h.get(t, "/missing?q=1")
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(string(body), "Nothing at /missing?q=1") ||
		!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Errorf("send_error(404): %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	if resp, _ := h.do(t, http.MethodPut, "/", nil, nil); resp.StatusCode != http.StatusNotImplemented {
		t.Errorf("PUT without do_PUT: %d, want 501", resp.StatusCode)
	}
	if resp, body := h.get(t, "/no-length"); resp.StatusCode != 200 || string(body) != "written in parts" {
		t.Errorf("no Content-Length: %d %q", resp.StatusCode, body)
	}
	if resp, body := h.get(t, "/chunked"); resp.StatusCode != 200 || string(body) != "one,two" {
		t.Errorf("chunked: %d %q", resp.StatusCode, body)
	}

	resp, body = h.get(t, "/error")
	if resp.StatusCode != http.StatusInternalServerError || strings.Contains(string(body), "boom") {
		t.Errorf("exception: %d %q", resp.StatusCode, body)
	}
	if resp, _ := h.get(t, "/garbage"); resp.StatusCode != http.StatusInternalServerError {
		t.Errorf("output that is not HTTP: %d, want 500", resp.StatusCode)
	}
	log := h.log(t)
	for _, want := range []string{"Traceback", "RuntimeError: handler boom", "did not write a valid HTTP response"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	if resp, _ := h.get(t, "/"); resp.StatusCode != 200 {
		t.Errorf("after the failures: %d", resp.StatusCode)
	}
}

func TestHandlerClassRequestBodies(t *testing.T) {
	requirePython(t)
	h := newHarness(t, Config{}, App{
		Kind:       runspec.KindHandler,
		Entrypoint: "index:handler",
		Dir:        writeApp(t, map[string]string{"index.py": plainHandlerApp}),
	})

	large := make([]byte, 3<<20+7)
	rand.Read(large)
	for _, size := range []int{0, 1, smallBodyLimit + 1, len(large)} {
		resp, body := h.do(t, http.MethodPost, "/echo", bytes.NewReader(large[:size]), nil)
		if resp.StatusCode != http.StatusOK || !bytes.Equal(body, large[:size]) {
			t.Errorf("POST of %d bytes: status %d, %d bytes back", size, resp.StatusCode, len(body))
		}
	}
	// A chunked body reaches the handler with the Content-Length it needs to read it.
	pr, pw := io.Pipe()
	go func() {
		for _, chunk := range [][]byte{large[:100_000], large[100_000:250_000]} {
			if _, err := pw.Write(chunk); err != nil {
				return // the request gave up reading; its answer tells why
			}
		}
		_ = pw.Close() // a PipeWriter's Close is always nil
	}()
	if resp, body := h.do(t, http.MethodPost, "/echo", pr, nil); resp.StatusCode != http.StatusOK || !bytes.Equal(body, large[:250_000]) {
		t.Errorf("chunked POST: status %d, %d bytes back", resp.StatusCode, len(body))
	}
	// http.server answers 100 Continue itself under HTTP/1.1: the client gets only the final response.
	resp, body := h.do(t, http.MethodPost, "/echo", strings.NewReader("expected"), http.Header{"Expect": {"100-continue"}})
	if resp.StatusCode != http.StatusOK || string(body) != "expected" {
		t.Errorf("POST with Expect: 100-continue: %d %q", resp.StatusCode, body)
	}
	// An unread body must not be taken for a second request.
	resp, body = h.do(t, http.MethodPost, "/ignore-body", strings.NewReader("GET /twice HTTP/1.1\r\n\r\n"), nil)
	if resp.StatusCode != http.StatusAccepted || string(body) != "ignored" {
		t.Errorf("POST with an unread body: %d %q", resp.StatusCode, body)
	}
}

func TestHandlerClassWithItsOwnSocketSettings(t *testing.T) {
	requirePython(t)
	// Buffered output, a socket timeout, TCP_NODELAY and overridden setup/finish all reach the socket
	// http.server would have given the handler.
	const app = `
from http.server import BaseHTTPRequestHandler

class handler(BaseHTTPRequestHandler):
    wbufsize = -1
    timeout = 30
    disable_nagle_algorithm = True

    def setup(self):
        super().setup()
        self.greeting = b"set up"

    def finish(self):
        self.wfile.write(b" and finished")
        super().finish()

    def do_GET(self):
        self.send_response(200)
        self.end_headers()
        self.wfile.write(self.greeting)
`
	h := newHarness(t, Config{}, App{Kind: runspec.KindHandler, Entrypoint: "app:handler", Dir: writeApp(t, map[string]string{"app.py": app})})
	if resp, body := h.get(t, "/"); resp.StatusCode != 200 || string(body) != "set up and finished" {
		t.Errorf("%d %q", resp.StatusCode, body)
	}
}

func TestHandlerKindWithoutAHandlerClassAnswers502(t *testing.T) {
	requirePython(t)
	h := newHarness(t, Config{}, App{Kind: runspec.KindHandler, Entrypoint: "app:app", Dir: writeApp(t, map[string]string{"app.py": plainWSGIApp})})
	h.expectStartFailure(t, "'app:app' is not a subclass of http.server.BaseHTTPRequestHandler")
}

func TestWorkersServeConcurrently(t *testing.T) {
	requirePython(t)
	// Workers*Threads requests that each block until all of them have arrived: they can only all
	// finish if the runtime really runs that many at once.
	const app = `
import os, time
def app(environ, start_response):
    directory = environ["QUERY_STRING"]
    open(os.path.join(directory, str(os.getpid()) + "-" + str(time.monotonic_ns())), "w").close()
    deadline = time.time() + 10
    while len(os.listdir(directory)) < 4 and time.time() < deadline:
        time.sleep(0.01)
    start_response("200 OK", [])
    return [b"%d" % len(os.listdir(directory))]
`
	h := newHarness(t, Config{Workers: 2, Threads: 2}, App{Dir: writeApp(t, map[string]string{"app.py": app})})
	dir := t.TempDir()
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if resp, body := h.get(t, "/?"+dir); resp.StatusCode != 200 || string(body) != "4" {
				t.Errorf("%d %q", resp.StatusCode, body)
			}
		})
	}
	wg.Wait()
}

func TestBadAppConfigurationAnswers502(t *testing.T) {
	requirePython(t)
	h := newHarness(t, Config{}, App{Dir: t.TempDir(), Kind: "cgi"})
	h.expectStartFailure(t, `unknown app kind "cgi"`)
}

func TestStartFailureLogsTheAppOutput(t *testing.T) {
	requirePython(t)
	h := newHarness(t, Config{}, App{Dir: writeApp(t, map[string]string{"app.py": "print('hello from import')\nraise SystemExit(7)\n"})})
	h.expectStartFailure(t, "hello from import", "exit status 1")
}

// expectStartFailure requests / from an app that cannot start: the client gets a generic 502 with
// the request id, the deployment's log says why.
func (h *harness) expectStartFailure(t *testing.T, inLog ...string) {
	t.Helper()
	resp, body := h.get(t, "/")
	id := resp.Header.Get(RequestIDHeader)
	if resp.StatusCode != http.StatusBadGateway || id == "" || !strings.Contains(string(body), "(request "+id+")") {
		t.Fatalf("%d:\n%s", resp.StatusCode, body)
	}
	appLog, _ := os.ReadFile(logPath(h.logDir, h.app.ID))
	for _, want := range append(inLog, "request "+id+": the app failed to start") {
		if strings.Contains(string(body), want) {
			t.Errorf("502 body shows %q:\n%s", want, body)
		}
		if !strings.Contains(string(appLog), want) {
			t.Errorf("deployment log lacks %q:\n%s", want, appLog)
		}
	}
}

func TestHeadAndNoContentResponses(t *testing.T) {
	requirePython(t)
	const app = `
def app(environ, start_response):
    start_response((environ["QUERY_STRING"] or "200") + " Status", [("Content-Type", "text/plain"), ("Content-Length", "4")])
    return [b"body"]
`
	h := newHarness(t, Config{}, App{Dir: writeApp(t, map[string]string{"app.py": app})})
	resp, body := h.do(t, http.MethodHead, "/", nil, nil)
	if resp.StatusCode != 200 || len(body) != 0 || resp.ContentLength != 4 {
		t.Errorf("HEAD: %d, %d bytes, Content-Length %d", resp.StatusCode, len(body), resp.ContentLength)
	}
	for range 2 { // the connection stays usable after a body Go had to drop
		resp, body = h.get(t, "/?204")
		if resp.StatusCode != 204 || len(body) != 0 {
			t.Errorf("204: %d %q", resp.StatusCode, body)
		}
	}
	if resp, body := h.get(t, "/"); resp.StatusCode != 200 || string(body) != "body" {
		t.Errorf("GET: %d %q", resp.StatusCode, body)
	}
}

// TestEngineDeathTakesTheAppDown kills an engine (this test binary, run again as a helper) with SIGKILL
// and checks its Python processes do not outlive it.
func TestEngineDeathTakesTheAppDown(t *testing.T) {
	requirePython(t)
	if dir := os.Getenv("FERRY_RUNTIME_ENGINE_HELPER"); dir != "" {
		h := newHarness(t, Config{}, App{Dir: dir})
		fmt.Printf("parent %d\n", h.info(t, "/").PPID)
		time.Sleep(time.Minute) // until killed
		return
	}

	helper := exec.Command(os.Args[0], "-test.run=^TestEngineDeathTakesTheAppDown$")
	helper.Env = append(os.Environ(),
		"FERRY_RUNTIME_ENGINE_HELPER="+writeApp(t, map[string]string{"app.py": plainWSGIApp}),
		"TMPDIR="+t.TempDir()) // the killed helper cannot clean up after itself
	stdout, err := helper.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := helper.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = helper.Process.Kill() }() // killed below unless the test failed first
	var parent int
	scanner := bufio.NewScanner(stdout)
	for scanner.Scan() {
		if _, err := fmt.Sscanf(scanner.Text(), "parent %d", &parent); err == nil {
			break
		}
	}
	if parent == 0 {
		t.Fatalf("the helper engine did not serve the app")
	}
	members := groupMembers(t, parent)
	if len(members) != 2 {
		t.Fatalf("process group %d has %v, want the parent and its first worker", parent, members)
	}
	if err := helper.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = helper.Wait() // killed: its exit status says only that
	eventually(t, "the app's processes exit after the engine's death", func() bool {
		return !slices.ContainsFunc(members, processAlive)
	})
}
