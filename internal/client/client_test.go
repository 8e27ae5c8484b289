package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
)

// newTestClient returns a client of srv with short retry waits.
func newTestClient(t *testing.T, endpoint string, cfg Config) *Client {
	t.Helper()
	cfg.Endpoint = endpoint
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, rc := range []*struct{ min, max *time.Duration }{
		{&c.idempotent.RetryWaitMin, &c.idempotent.RetryWaitMax},
		{&c.nonIdempotent.RetryWaitMin, &c.nonIdempotent.RetryWaitMax},
	} {
		*rc.min, *rc.max = time.Millisecond, 20*time.Millisecond
	}
	return c
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func TestNewRejectsBadEndpoints(t *testing.T) {
	for _, endpoint := range []string{
		"",
		"ftp://host",
		"unix://relative.sock",
		"http://",
		"unix:///" + strings.Repeat("d", 120) + "/engine.sock",
	} {
		if _, err := New(Config{Endpoint: endpoint}); err == nil {
			t.Errorf("New(%q): no error", endpoint)
		}
	}
	if _, err := New(Config{Endpoint: "https://engine.example.com:8443"}); err != nil {
		t.Errorf("https endpoint: %v", err)
	}
}

func TestHeadersAndQueries(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Method+" "+r.URL.RequestURI()+" "+r.Header.Get("User-Agent")+" "+r.Header.Get("Authorization"))
		switch {
		case strings.HasSuffix(r.URL.Path, "/env"):
			writeJSON(w, 200, api.EnvVarList{EnvVars: []api.EnvVar{{Key: "A", Value: "secret"}}})
		case r.URL.Path == api.PathDeployments:
			writeJSON(w, 200, api.DeploymentList{})
		default:
			writeJSON(w, 200, api.Project{ID: "p1", Name: "my app"})
		}
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, Config{Token: "tok", UserAgent: "terraform-provider-ferry/test"})
	ctx := context.Background()

	if _, err := c.GetProject(ctx, "my app"); err != nil {
		t.Fatal(err)
	}
	envs, err := c.ListEnvVars(ctx, "p1", true)
	if err != nil || len(envs) != 1 || envs[0].Value != "secret" {
		t.Fatalf("ListEnvVars = %v, %v", envs, err)
	}
	if _, err := c.ListEnvVars(ctx, "p1", false); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListDeployments(ctx, "p1"); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"GET /v1/projects/my%20app terraform-provider-ferry/test Bearer tok",
		"GET /v1/projects/p1/env?decrypt=true terraform-provider-ferry/test Bearer tok",
		"GET /v1/projects/p1/env terraform-provider-ferry/test Bearer tok",
		"GET /v1/deployments?project=p1 terraform-provider-ferry/test Bearer tok",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("requests:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestIdempotentRequestsRetryOn5xxAnd429(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch calls.Add(1) {
		case 1:
			writeJSON(w, http.StatusServiceUnavailable, api.Error{Code: api.CodeInternal, Message: "starting"})
		case 2:
			w.Header().Set("Retry-After", "0")
			writeJSON(w, http.StatusTooManyRequests, api.Error{Code: api.CodeInternal, Message: "slow down"})
		default:
			writeJSON(w, 200, api.Project{ID: "p1"})
		}
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, Config{})
	p, err := c.UpdateProject(context.Background(), "p1", api.ProjectRequest{Name: "x"})
	if err != nil || p.ID != "p1" {
		t.Fatalf("UpdateProject = %v, %v", p, err)
	}
	if n := calls.Load(); n != 3 {
		t.Errorf("%d calls, want 3", n)
	}
}

func TestRetriesRunOutIntoTypedError(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		writeJSON(w, http.StatusInternalServerError, api.Error{Code: api.CodeInternal, Message: "disk full"})
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, Config{RetryMax: 2})
	_, err := c.GetProject(context.Background(), "p1")
	var e *Error
	if !errors.As(err, &e) || e.StatusCode != 500 || e.Code != api.CodeInternal || err.Error() != "disk full" {
		t.Fatalf("err = %#v", err)
	}
	if n := calls.Load(); n != 3 {
		t.Errorf("%d calls, want 3 (1 + RetryMax 2)", n)
	}
}

func TestPostIsNotRetriedOnceSent(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		writeJSON(w, http.StatusBadGateway, api.Error{Code: api.CodeInternal, Message: "boom"})
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, Config{})
	if _, err := c.CreateProject(context.Background(), api.ProjectRequest{Name: "x"}); err == nil {
		t.Fatal("no error")
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("POST sent %d times, want 1", n)
	}
}

func TestTypedErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v1/projects/gone":
			writeJSON(w, 404, api.Error{Code: api.CodeNotFound, Message: "no project gone"})
		case "/v1/projects":
			writeJSON(w, 409, api.Error{Code: api.CodeConflict, Message: "a project named taken exists", Field: "name"})
		default:
			http.NotFound(w, r) // not the engine's format
		}
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, Config{})
	ctx := context.Background()

	_, err := c.GetProject(ctx, "gone")
	if !IsNotFound(err) || IsConflict(err) {
		t.Errorf("GetProject(gone): %v: IsNotFound false", err)
	}
	_, err = c.CreateProject(ctx, api.ProjectRequest{Name: "taken"})
	if e, ok := AsError(err); !IsConflict(err) || !ok || e.Field != "name" || e.StatusCode != 409 {
		t.Errorf("CreateProject(taken): %#v", err)
	}
	err = c.DeleteDeployment(ctx, "x")
	if IsNotFound(err) {
		t.Errorf("a plain 404 must not read as not found: %v", err)
	}
	if err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("plain 404: %v", err)
	}
}

func TestCompatibleSaysWhichSideToUpgrade(t *testing.T) {
	var answer string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, answer)
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, Config{})
	for _, tc := range []struct {
		name, health string
		want         []string // in the error; none: compatible
	}{
		{"same level", fmt.Sprintf(`{"version":"0.2.0","api_version":%d,"api_oldest_version":%d}`, api.Version, api.OldestVersion), nil},
		{"newer engine that still serves this level", fmt.Sprintf(`{"version":"9.0.0","api_version":%d,"api_oldest_version":%d}`, api.Version+3, api.Version), nil},
		{"engine of level 1", `{"version":"0.1.0-dev","api_version":"v1","pid":7}`,
			[]string{"speaks API version 1", fmt.Sprintf("needs API version %d or later", api.MinEngineVersion), "ferry upgrade"}},
		{"engine past this level", fmt.Sprintf(`{"version":"9.0.0","api_version":%d,"api_oldest_version":%d}`, api.Version+3, api.Version+1),
			[]string{fmt.Sprintf("API versions %d to %d", api.Version+1, api.Version+3), fmt.Sprintf("speaks API version %d", api.Version), "terraform init -upgrade"}},
	} {
		answer = tc.health
		h, err := c.Health(context.Background())
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		err = Compatible(h)
		if tc.want == nil {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		for _, phrase := range tc.want {
			if err == nil || !strings.Contains(err.Error(), phrase) {
				t.Errorf("%s: Compatible = %v; want it to say %q", tc.name, err, phrase)
			}
		}
	}
}

// TestUnixSocketDialAndPostRetryBeforeSending starts the engine's socket
// only after the first attempts, which fail to dial: a POST may be retried
// then, since the engine cannot have seen it.
func TestUnixSocketDialAndPostRetryBeforeSending(t *testing.T) {
	socket := filepath.Join(t.TempDir(), "engine.sock")

	var hosts []string
	var mu sync.Mutex
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hosts = append(hosts, r.Host)
		mu.Unlock()
		writeJSON(w, 201, api.Project{ID: "p1", Name: "hello"})
	})}
	defer func() { _ = srv.Close() }()
	go func() {
		time.Sleep(30 * time.Millisecond)
		l, err := net.Listen("unix", socket)
		if err != nil {
			t.Error(err)
			return
		}
		_ = srv.Serve(l)
	}()

	c := newTestClient(t, "unix://"+socket, Config{RetryMax: 10})
	p, err := c.CreateProject(context.Background(), api.ProjectRequest{Name: "hello"})
	if err != nil || p.ID != "p1" {
		t.Fatalf("CreateProject over unix socket = %v, %v", p, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(hosts) != 1 || hosts[0] != "ferry" {
		t.Errorf("requests seen with hosts %v, want exactly one with host ferry", hosts)
	}
}

func TestUnreachableEngine(t *testing.T) {
	c := newTestClient(t, "unix:///nonexistent-ferry-dir/engine.sock", Config{RetryMax: 1})
	_, err := c.Health(context.Background())
	if err == nil || !strings.Contains(err.Error(), "unreachable") {
		t.Errorf("err = %v", err)
	}
}

// fakeEngine implements the file and deployment endpoints in memory.
type fakeEngine struct {
	mu          sync.Mutex
	blobs       map[string][]byte
	posts       int
	deployments map[string]*api.Deployment
	getsToReady int
}

func (f *fakeEngine) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case r.Method == http.MethodPut && strings.HasPrefix(r.URL.Path, "/v1/files/"):
		b, _ := io.ReadAll(r.Body)
		f.blobs[strings.TrimPrefix(r.URL.Path, "/v1/files/")] = b
		w.WriteHeader(http.StatusNoContent)
	case r.Method == http.MethodPost && r.URL.Path == api.PathDeployments:
		f.posts++
		var req api.DeploymentRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			writeJSON(w, 400, api.Error{Code: api.CodeBadRequest, Message: err.Error()})
			return
		}
		var missing []string
		for _, file := range req.Files {
			if _, ok := f.blobs[file.Digest]; !ok {
				missing = append(missing, file.Digest)
			}
		}
		if len(missing) > 0 {
			writeJSON(w, 400, api.Error{Code: api.CodeMissingFiles, Message: "upload these", Missing: missing})
			return
		}
		d := &api.Deployment{ID: "d1", ProjectID: req.ProjectID, State: api.StateQueued, SourceDigest: api.SourceDigest(req.Files)}
		f.deployments[d.ID] = d
		writeJSON(w, 201, d)
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/v1/deployments/"):
		d, ok := f.deployments[strings.TrimPrefix(r.URL.Path, "/v1/deployments/")]
		if !ok {
			writeJSON(w, 404, api.Error{Code: api.CodeNotFound, Message: "no such deployment"})
			return
		}
		if f.getsToReady--; f.getsToReady <= 0 {
			d.State = api.StateReady
		} else {
			d.State = api.StateBuilding
		}
		writeJSON(w, 200, d)
	default:
		http.NotFound(w, r)
	}
}

func TestDeployUploadsMissingFilesThenWaits(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "app.py", "from flask import Flask\napp = Flask(__name__)\n", 0o644)
	writeFile(t, dir, "requirements.txt", "flask\n", 0o644)
	writeFile(t, dir, "static/copy.txt", "from flask import Flask\napp = Flask(__name__)\n", 0o644) // same blob as app.py

	engine := &fakeEngine{blobs: map[string][]byte{}, deployments: map[string]*api.Deployment{}, getsToReady: 3}
	srv := httptest.NewServer(engine)
	defer srv.Close()
	c := newTestClient(t, srv.URL, Config{})
	ctx := context.Background()

	d, err := c.Deploy(ctx, "p1", dir, true)
	if err != nil {
		t.Fatal(err)
	}
	if engine.posts != 2 {
		t.Errorf("%d POSTs, want 2 (missing files, then created)", engine.posts)
	}
	if len(engine.blobs) != 2 {
		t.Errorf("%d blobs uploaded, want 2", len(engine.blobs))
	}
	for digest, b := range engine.blobs {
		if sha(b) != digest {
			t.Errorf("blob %s has content of digest %s", digest, sha(b))
		}
	}
	files, _ := CollectFiles(dir)
	if d.SourceDigest != api.SourceDigest(files) {
		t.Errorf("engine saw digest %s, want %s", d.SourceDigest, api.SourceDigest(files))
	}

	d, err = c.WaitDeployment(ctx, d.ID, time.Millisecond)
	if err != nil || d.State != api.StateReady {
		t.Fatalf("WaitDeployment = %v, %v", d, err)
	}

	// A second deploy of the same tree uploads nothing.
	engine.posts = 0
	if _, err := c.Deploy(ctx, "p1", dir, true); err != nil || engine.posts != 1 {
		t.Errorf("redeploy: %d POSTs, err %v; want 1, nil", engine.posts, err)
	}
}

func TestWaitDeploymentStopsAtContextEnd(t *testing.T) {
	engine := &fakeEngine{deployments: map[string]*api.Deployment{"d1": {ID: "d1"}}, getsToReady: 1 << 30}
	srv := httptest.NewServer(engine)
	defer srv.Close()
	c := newTestClient(t, srv.URL, Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	d, err := c.WaitDeployment(ctx, "d1", 5*time.Millisecond)
	if !errors.Is(err, context.DeadlineExceeded) || d == nil || d.State != api.StateBuilding {
		t.Errorf("WaitDeployment = %v, %v", d, err)
	}
}
