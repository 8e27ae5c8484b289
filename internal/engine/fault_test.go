package engine_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/cli"
	"github.com/ferryhq/terraform-provider-ferry/internal/client"
	"github.com/ferryhq/terraform-provider-ferry/internal/freeport"
)

// TestMain lets the test binary be an engine process ("serve"), which a
// test can kill, and run the CLI's backup and restore.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && (os.Args[1] == "serve" || os.Args[1] == "backup" || os.Args[1] == "restore") {
		os.Exit(cli.Run(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// engineProcess runs `serve` on dataDir in a child process, with serveArgs
// after the usual ones, and waits until it answers; its output goes to logPath.
func engineProcess(t *testing.T, dataDir, httpAddress, logPath string, serveArgs ...string) (*exec.Cmd, *client.Client) {
	t.Helper()
	logFile, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = logFile.Close() }() // the engine writes through its own descriptor
	cmd := exec.Command(os.Args[0], append([]string{"serve", "--data-dir", dataDir, "--http-address", httpAddress, "--python", python}, serveArgs...)...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	c, err := client.New(client.Config{Endpoint: "unix://" + filepath.Join(dataDir, api.SocketName), RetryMax: 1})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		if _, err := c.Health(context.Background()); err == nil {
			return cmd, c
		}
		if i > 200 {
			log, _ := os.ReadFile(logPath)
			t.Fatalf("engine process not healthy; its log:\n%s", log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// buildProgress counts the steps builds report to it over HTTP: the
// sandbox lets a build reach the network, not write outside its directory.
type buildProgress struct {
	mu    sync.Mutex
	steps map[string]int
}

func (b *buildProgress) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	b.steps[strings.TrimPrefix(r.URL.Path, "/")]++
	b.mu.Unlock()
}

func (b *buildProgress) count(step string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.steps[step]
}

// An engine killed with SIGKILL in the middle of a build resumes that build
// when it starts again: the deployment ends READY, built to the end once.
func TestKilledEngineResumesTheBuildOnce(t *testing.T) {
	dataDir := shortDataDir(t)
	addr := freeport.Loopback(t)
	work := t.TempDir()
	logPath := filepath.Join(work, "engine.log")
	progress := &buildProgress{steps: map[string]int{}}
	progressServer := httptest.NewServer(progress)
	defer progressServer.Close()
	ctx := context.Background()

	cmd, c := engineProcess(t, dataDir, addr, logPath)
	skip := "true"
	buildCommand := "python3 report.py started && sleep 3 && python3 report.py finished"
	p, err := c.CreateProject(ctx, api.ProjectRequest{Name: "crash", InstallCommand: &skip, BuildCommand: &buildCommand})
	if err != nil {
		t.Fatal(err)
	}
	src := t.TempDir()
	app := "def app(environ, start_response):\n    start_response('200 OK', [])\n    return [b'survived']\n"
	if err := os.WriteFile(filepath.Join(src, "app.py"), []byte(app), 0o644); err != nil {
		t.Fatal(err)
	}
	report := "import sys, urllib.request\n" +
		"urllib.request.build_opener(urllib.request.ProxyHandler({})).open(" + strconv.Quote(progressServer.URL+"/") + " + sys.argv[1]).read()\n"
	if err := os.WriteFile(filepath.Join(src, "report.py"), []byte(report), 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := c.Deploy(ctx, p.ID, src, true)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		if progress.count("started") > 0 {
			break
		}
		if i > 600 {
			log, _ := os.ReadFile(logPath)
			t.Fatalf("the build command never started; engine log:\n%s", log)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()

	cmd, c = engineProcess(t, dataDir, addr, logPath)
	waitCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	got, err := c.WaitDeployment(waitCtx, d.ID, 100*time.Millisecond)
	if err != nil || got.State != api.StateReady {
		log, _ := os.ReadFile(logPath)
		t.Fatalf("after the restart: %v %+v\nengine log:\n%s", err, got, log)
	}
	// Long enough for what the killed engine had started to have finished.
	time.Sleep(4 * time.Second)
	if started, finished := progress.count("started"), progress.count("finished"); started != 2 || finished != 1 {
		t.Errorf("build command started %d times and finished %d times; want 2 (killed, resumed) and 1", started, finished)
	}
	if status, body := get(t, addr, got.URL); status != 200 || body != "survived" {
		t.Errorf("the resumed deployment serves %d %q", status, body)
	}
	if err := c.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("engine process after shutdown: %v", err)
	}
}

// loadCounter counts the answers a steady stream of requests got, split by
// whether the engine was known to be up from before the request to after it.
type loadCounter struct {
	mu                   sync.Mutex
	ok, failed, failedUp int
	up                   bool
	lastFailure          string
}

func (l *loadCounter) setUp(up bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.up = up
}

// hammer sends requests for host to addr until ctx ends.
func (l *loadCounter) hammer(ctx context.Context, addr, host string) {
	client := &http.Client{Timeout: 10 * time.Second}
	for ctx.Err() == nil {
		l.mu.Lock()
		upBefore := l.up
		l.mu.Unlock()
		req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+addr+"/", nil)
		req.Host = host
		resp, err := client.Do(req)
		failure := ""
		switch {
		case err != nil:
			failure = err.Error()
		case resp.StatusCode != http.StatusOK:
			failure = resp.Status
		}
		if resp != nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
		}
		if ctx.Err() != nil {
			return
		}
		l.mu.Lock()
		up := upBefore && l.up
		switch {
		case failure == "":
			l.ok++
		case up:
			l.failedUp++
			l.lastFailure = failure
		default:
			l.failed++
		}
		l.mu.Unlock()
		if failure != "" && !up {
			time.Sleep(20 * time.Millisecond) // the engine is down: do not spin
		}
	}
}

// An engine killed with SIGKILL while it serves a steady load and has builds
// queued and running: its app processes die with it, and once it is started
// again every request is answered, every build ends READY having run to the
// end exactly once, and nothing was lost or made twice.
func TestKilledEngineUnderLoad(t *testing.T) {
	dataDir := shortDataDir(t)
	addr := freeport.Loopback(t)
	logPath := filepath.Join(t.TempDir(), "engine.log")
	progress := &buildProgress{steps: map[string]int{}}
	progressServer := httptest.NewServer(progress)
	defer progressServer.Close()
	ctx := context.Background()

	cmd, c := engineProcess(t, dataDir, addr, logPath)
	skip := "true"
	buildCommand := "python3 report.py started && sleep 1 && python3 report.py finished"
	p, err := c.CreateProject(ctx, api.ProjectRequest{Name: "busy", InstallCommand: &skip, BuildCommand: &buildCommand})
	if err != nil {
		t.Fatal(err)
	}
	source := func(marker string) string {
		src := t.TempDir()
		app := "def app(environ, start_response):\n    start_response('200 OK', [])\n    return [open('marker').read().encode()]\n"
		report := "import sys, urllib.request\n" +
			"urllib.request.build_opener(urllib.request.ProxyHandler({})).open(" + strconv.Quote(progressServer.URL+"/") + " + sys.argv[1] + '-' + open('marker').read()).read()\n"
		for name, content := range map[string]string{"app.py": app, "report.py": report, "marker": marker} {
			if err := os.WriteFile(filepath.Join(src, name), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return src
	}
	production, err := c.Deploy(ctx, p.ID, source("v1"), true)
	if err != nil {
		t.Fatal(err)
	}
	if production, err = c.WaitDeployment(ctx, production.ID, 50*time.Millisecond); err != nil || production.State != api.StateReady {
		t.Fatalf("first deployment: %+v %v", production, err)
	}
	project, err := c.GetProject(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}

	load := &loadCounter{up: true}
	loadCtx, stopLoad := context.WithCancel(ctx)
	var hammers sync.WaitGroup
	for range 8 {
		hammers.Add(1)
		go func() {
			defer hammers.Done()
			load.hammer(loadCtx, addr, hostOf(t, project.ProductionURL))
		}()
	}
	defer func() {
		stopLoad()
		hammers.Wait()
	}()

	markers := []string{"p1", "p2", "p3", "p4"}
	created := map[string]string{} // deployment id -> marker
	for _, m := range markers {
		d, err := c.Deploy(ctx, p.ID, source(m), false)
		if err != nil {
			t.Fatal(err)
		}
		created[d.ID] = m
	}
	for i := 0; progress.count("started-p1") == 0; i++ {
		if i > 6000 { // two minutes: a build waits for the one before it, which a busy machine slows
			log, _ := os.ReadFile(logPath)
			t.Fatalf("no build started; engine log:\n%s", log)
		}
		time.Sleep(20 * time.Millisecond)
	}
	load.setUp(false)
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if left := processesUnder(t, dataDir, 5*time.Second); len(left) > 0 {
		t.Errorf("processes of the killed engine still run: %v", left)
	}

	cmd, c = engineProcess(t, dataDir, addr, logPath)
	load.setUp(true)
	waitCtx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	for id, marker := range created {
		d, err := c.WaitDeployment(waitCtx, id, 100*time.Millisecond)
		if err != nil || d.State != api.StateReady {
			log, _ := os.ReadFile(logPath)
			t.Fatalf("deployment %s (%s) after the restart: %+v %v\nengine log:\n%s", id, marker, d, err, log)
		}
		if status, body := get(t, addr, d.URL); status != 200 || body != marker {
			t.Errorf("deployment %s serves %d %q, want %q", id, status, body, marker)
		}
	}
	list, err := c.ListDeployments(ctx, p.ID)
	if err != nil || len(list) != len(markers)+1 {
		t.Errorf("the project has %d deployments (%v), want %d", len(list), err, len(markers)+1)
	}
	// Long enough for a build the killed engine had started to have finished, had it survived.
	time.Sleep(2 * time.Second)
	for _, m := range markers {
		if finished := progress.count("finished-" + m); finished != 1 {
			t.Errorf("the build of %s ran to the end %d times, want once", m, finished)
		}
	}
	stopLoad()
	hammers.Wait()
	load.mu.Lock()
	t.Logf("requests: %d answered, %d failed while the engine was down, %d failed once it was up", load.ok, load.failed, load.failedUp)
	if load.failedUp > 0 {
		t.Errorf("%d requests failed while an engine was up (last: %s)", load.failedUp, load.lastFailure)
	}
	if status, body := get(t, addr, project.ProductionURL); status != 200 || body != "v1" {
		t.Errorf("production serves %d %q after the restart, want v1 (previews do not move it)", status, body)
	}
	load.mu.Unlock()
	if err := c.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("engine process after shutdown: %v", err)
	}
}

func hostOf(t *testing.T, rawURL string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

// processesUnder waits up to timeout for every process whose working
// directory or command line is inside dir to be gone, and returns those left.
func processesUnder(t *testing.T, dir string, timeout time.Duration) []string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var left []string
		entries, err := os.ReadDir("/proc")
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if _, err := strconv.Atoi(e.Name()); err != nil {
				continue
			}
			cwd, _ := os.Readlink(filepath.Join("/proc", e.Name(), "cwd"))
			cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
			if strings.HasPrefix(cwd, dir) || strings.Contains(string(cmdline), dir) {
				left = append(left, e.Name()+" "+strings.ReplaceAll(string(cmdline), "\x00", " "))
			}
		}
		if len(left) == 0 || time.Now().After(deadline) {
			return left
		}
		time.Sleep(50 * time.Millisecond)
	}
}
