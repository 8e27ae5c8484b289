package engine_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
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
)

// TestMain lets the test binary be an engine process ("serve"), which a
// test can kill.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "serve" {
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
	addr := freeAddress(t)
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

func freeAddress(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }() // only to find a free port
	return l.Addr().String()
}
