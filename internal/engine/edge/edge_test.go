package edge

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/runspec"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store/sqlite"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/workers"
)

// oneWorkerRuntime stands in for the runtime of an app with a single worker:
// a request holds it while it is served, as a real worker slot is held.
type oneWorkerRuntime struct {
	worker       chan struct{}
	responseSize int // of GET /large
}

func (rt *oneWorkerRuntime) ServeHTTP(w http.ResponseWriter, r *http.Request, app workers.App) {
	rt.worker <- struct{}{}
	defer func() { <-rt.worker }()
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if r.URL.Path == "/large" {
		chunk := bytes.Repeat([]byte("x"), 64<<10)
		for sent := 0; sent < rt.responseSize; sent += len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				return // the client was cut off: the worker is free again
			}
		}
		return
	}
	_, _ = fmt.Fprintf(w, "%s %d %d", app.ID, len(body), r.ContentLength) // a client gone is the test's to see
}

type testEdge struct {
	router *Router
	store  store.Store
	url    string

	building sync.Mutex // one deployment at a time between enqueue and claim, so each claims its own
}

func newTestEdge(t testing.TB, cfg Config) *testEdge {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "ferry.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Error(err)
		}
	})
	cfg.Store = st
	if cfg.Runtime == nil {
		cfg.Runtime = &oneWorkerRuntime{worker: make(chan struct{}, 1)}
	}
	if cfg.App == nil {
		cfg.App = func(d *store.Deployment) (workers.App, error) {
			return workers.App{ID: d.ID}, nil
		}
	}
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	router := New(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	go router.Run(ctx)
	srv := httptest.NewUnstartedServer(nil)
	srv.Config = router.Server()
	srv.Start()
	t.Cleanup(func() {
		srv.Close()
		cancel()
		<-router.done
	})
	return &testEdge{router: router, store: st, url: srv.URL}
}

func (e *testEdge) project(t testing.TB, id, name string) {
	t.Helper()
	if err := e.store.CreateProject(context.Background(), &store.Project{ID: id, Name: name, Framework: "auto", RootDirectory: "."}, name+".localhost"); err != nil {
		t.Fatal(err)
	}
}

// deployment creates a deployment of the project named by the id's prefix
// before "_", READY unless state says otherwise.
func (e *testEdge) deployment(t testing.TB, projectID, projectName, id, target, state string) {
	t.Helper()
	ctx := context.Background()
	d := &store.Deployment{ID: id, ProjectID: projectID, Target: target, State: "QUEUED", Hostname: projectName + "-" + id + ".localhost", Files: []byte("[]"), SealedEnv: []byte("x")}
	e.building.Lock()
	defer e.building.Unlock()
	if err := e.store.EnqueueDeployment(ctx, d, 1000); err != nil {
		t.Fatal(err)
	}
	// Claimed as a build worker would, so that no later claim takes this one instead of its own.
	claimed, err := e.store.ClaimDeployment(ctx, "test", time.Now().Add(time.Hour), nil)
	if err != nil || claimed == nil || claimed.ID != id {
		t.Fatalf("claim %s: %v, %v", id, claimed, err)
	}
	d.ClaimedBy = claimed.ClaimedBy
	d.Run = &runspec.Spec{AppDir: ".", Python: "python", Entrypoint: "app:app", Kind: runspec.KindWSGI}
	if state == "READY" {
		if err := e.store.MarkReady(ctx, d, store.Moves{Production: target == "production"}); err != nil {
			t.Fatal(err)
		}
	}
}

func (e *testEdge) sync(t testing.TB) {
	t.Helper()
	if err := e.router.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// request sends a request for / on host.
func (e *testEdge) request(t *testing.T, method, host string, body io.Reader) (int, string) {
	t.Helper()
	const path = "/"
	req, err := http.NewRequest(method, e.url+path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s%s: %v", method, host, path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	if resp.Header.Get(workers.RequestIDHeader) == "" {
		t.Errorf("%s %s%s: no %s in the response", method, host, path, workers.RequestIDHeader)
	}
	return resp.StatusCode, string(b)
}

func TestHosts(t *testing.T) {
	e := newTestEdge(t, Config{})
	e.project(t, "p1", "shop")
	e.deployment(t, "p1", "shop", "d1", "production", "READY")
	e.deployment(t, "p1", "shop", "d2", "production", "READY")
	e.deployment(t, "p1", "shop", "d3", "preview", "READY")
	e.project(t, "p2", "empty")
	e.deployment(t, "p2", "empty", "q1", "production", "QUEUED")
	e.sync(t)

	for _, tc := range []struct {
		name, host string
		status     int
		body       string
	}{
		{"production alias", "shop.localhost", 200, "d2 "},
		{"deployment host", "shop-d1.localhost", 200, "d1 "},
		{"preview deployment host", "shop-d3.localhost", 200, "d3 "},
		{"host with port", "shop.localhost:3080", 200, "d2 "},
		{"upper case", "SHOP-D1.LocalHost", 200, "d1 "},
		{"trailing dot", "shop.localhost.", 200, "d2 "},
		{"unknown host", "nope.localhost", 404, `no deployment or domain is named "nope.localhost"`},
		{"project without a ready deployment", "empty.localhost", 404, `project "empty" has no ready production deployment yet`},
		{"deployment not built yet", "empty-q1.localhost", 404, "is not ready"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := e.request(t, "GET", tc.host, nil)
			if status != tc.status || !strings.Contains(body, tc.body) {
				t.Errorf("%d %q, want %d with %q", status, body, tc.status, tc.body)
			}
		})
	}
}

// Every committed change is served once Sync returns, however many writers
// and reloads run at once, and the live version never goes down.
func TestSyncServesEveryCommittedChange(t *testing.T) {
	e := newTestEdge(t, Config{Runtime: &oneWorkerRuntime{worker: make(chan struct{}, 64)}})
	stopWatching := make(chan struct{})
	watched := make(chan error, 1)
	go func() {
		var last int64
		for {
			select {
			case <-stopWatching:
				watched <- nil
				return
			default:
			}
			v := e.router.table.Load().version
			if v < last {
				watched <- fmt.Errorf("live version went from %d down to %d", last, v)
				return
			}
			last = v
		}
	}()
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 5 {
				name := fmt.Sprintf("app%d-%d", w, i)
				id := fmt.Sprintf("d%d%d", w, i)
				e.project(t, name, name)
				e.deployment(t, name, name, id, "production", "READY")
				e.sync(t)
				for _, host := range []string{name + ".localhost", name + "-" + id + ".localhost"} {
					if status, body := e.request(t, "GET", host, nil); status != 200 || !strings.HasPrefix(body, id+" ") {
						t.Errorf("%s right after Sync: %d %q", host, status, body)
					}
				}
			}
		})
	}
	wg.Wait()
	close(stopWatching)
	if err := <-watched; err != nil {
		t.Error(err)
	}
}

// chunked hides a reader's length, so that the client sends it chunked.
type chunked struct{ io.Reader }

func TestRequestBodies(t *testing.T) {
	spill := t.TempDir()
	e := newTestEdge(t, Config{MaxBodySize: 4 << 20, SpillDir: spill})
	e.project(t, "p1", "shop")
	e.deployment(t, "p1", "shop", "d1", "production", "READY")
	e.sync(t)

	for _, tc := range []struct {
		name   string
		body   io.Reader
		status int
		want   string
	}{
		{"none", nil, 200, "d1 0 0"},
		{"small", strings.NewReader("hello"), 200, "d1 5 5"},
		{"chunked gets a length", chunked{strings.NewReader("hello chunks")}, 200, "d1 12 12"},
		{"above the memory buffer", bytes.NewReader(make([]byte, 2<<20)), 200, fmt.Sprintf("d1 %d %d", 2<<20, 2<<20)},
		{"at the limit", chunked{bytes.NewReader(make([]byte, 4<<20))}, 200, fmt.Sprintf("d1 %d %d", 4<<20, 4<<20)},
		{"declared over the limit", bytes.NewReader(make([]byte, 4<<20+1)), 413, "larger than this engine's limit of 4194304 bytes"},
		{"chunked over the limit", chunked{bytes.NewReader(make([]byte, 5<<20))}, 413, "limit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := e.request(t, "POST", "shop.localhost", tc.body)
			if status != tc.status || !strings.Contains(body, tc.want) {
				t.Errorf("%d %q, want %d with %q", status, body, tc.status, tc.want)
			}
		})
	}
	if left, _ := os.ReadDir(spill); len(left) != 0 {
		t.Errorf("buffered bodies left behind: %v", left)
	}
}

// Clients that send their bodies a byte at a time hold no worker: the app
// keeps answering others, and they get 408 once the body timeout passes.
func TestSlowBodiesDoNotHoldTheApp(t *testing.T) {
	const bodyTimeout = 1500 * time.Millisecond
	e := newTestEdge(t, Config{BodyTimeout: bodyTimeout})
	e.project(t, "p1", "shop")
	e.deployment(t, "p1", "shop", "d1", "production", "READY")
	e.sync(t)

	addr := strings.TrimPrefix(e.url, "http://")
	var slow []net.Conn
	for range 8 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = c.Close() }()
		if _, err := fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: shop.localhost\r\nTransfer-Encoding: chunked\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		slow = append(slow, c)
	}
	stop := make(chan struct{})
	var trickling sync.WaitGroup
	for _, c := range slow {
		trickling.Go(func() {
			for {
				select {
				case <-stop:
					return
				case <-time.After(200 * time.Millisecond):
				}
				if _, err := io.WriteString(c, "1\r\nx\r\n"); err != nil {
					return
				}
			}
		})
	}
	for i := range 5 {
		start := time.Now()
		status, body := e.request(t, "POST", "shop.localhost", strings.NewReader("quick"))
		// Well below the client's 10 s timeout, which a stalled app would reach.
		if status != 200 || body != "d1 5 5" || time.Since(start) > 5*time.Second {
			t.Errorf("request %d beside slow uploads: %d %q after %s", i, status, body, time.Since(start))
		}
	}
	for _, c := range slow {
		if err := c.SetReadDeadline(time.Now().Add(bodyTimeout + 5*time.Second)); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Errorf("slow upload: %v", err)
			continue
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusRequestTimeout {
			t.Errorf("slow upload answered %d, want 408", resp.StatusCode)
		}
	}
	close(stop)
	trickling.Wait()
}

// Clients that never read a large response are cut off after the write
// timeout, and the worker they held serves others again.
func TestSlowReadersDoNotHoldTheApp(t *testing.T) {
	rt := &oneWorkerRuntime{worker: make(chan struct{}, 1), responseSize: 256 << 20}
	e := newTestEdge(t, Config{Runtime: rt, WriteTimeout: 300 * time.Millisecond})
	e.project(t, "p1", "shop")
	e.deployment(t, "p1", "shop", "d1", "production", "READY")
	e.sync(t)

	addr := strings.TrimPrefix(e.url, "http://")
	for range 8 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = c.Close() }()
		tcp, ok := c.(*net.TCPConn)
		if !ok {
			t.Fatalf("dialed a %T", c)
		}
		if err := tcp.SetReadBuffer(4 << 10); err != nil {
			t.Fatal(err)
		}
		if _, err := fmt.Fprintf(c, "GET /large HTTP/1.1\r\nHost: shop.localhost\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(100 * time.Millisecond) // let them take the worker in turn
	start := time.Now()
	status, body := e.request(t, "GET", "shop.localhost", nil)
	if status != 200 || body != "d1 0 0" {
		t.Fatalf("beside clients that do not read: %d %q", status, body)
	}
	// Each of the 8 may hold the worker for the write timeout at most.
	if elapsed := time.Since(start); elapsed > 8*300*time.Millisecond+5*time.Second {
		t.Errorf("served after %s", elapsed)
	}
}

// prewarmingRuntime records which apps the edge asks to prepare.
type prewarmingRuntime struct {
	oneWorkerRuntime
	mu     sync.Mutex
	warmed []string
}

func (rt *prewarmingRuntime) Prewarm(app workers.App) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	rt.warmed = append(rt.warmed, app.ID)
}

func (rt *prewarmingRuntime) took() []string {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	out := rt.warmed
	rt.warmed = nil
	return out
}

// TestNewProductionDeploymentsArePrewarmed: the app production moves to is prepared ahead of
// its first request, once; previews and deployments' own hosts are not.
func TestNewProductionDeploymentsArePrewarmed(t *testing.T) {
	rt := &prewarmingRuntime{oneWorkerRuntime: oneWorkerRuntime{worker: make(chan struct{}, 1)}}
	e := newTestEdge(t, Config{Runtime: rt})
	e.project(t, "p1", "shop")
	e.deployment(t, "p1", "shop", "d1", "production", "READY")
	e.sync(t)
	if got := rt.took(); fmt.Sprint(got) != "[d1]" {
		t.Fatalf("prewarmed %v, want [d1]", got)
	}
	e.deployment(t, "p1", "shop", "d2", "preview", "READY")
	e.sync(t)
	if got := rt.took(); len(got) != 0 {
		t.Errorf("a preview's own host prewarmed %v", got)
	}
	e.deployment(t, "p1", "shop", "d3", "production", "READY")
	e.sync(t)
	if got := rt.took(); fmt.Sprint(got) != "[d3]" {
		t.Errorf("after production moved, prewarmed %v, want [d3]", got)
	}
}
