package apiserver

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/logbuffer"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/artifacts"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/artifacts/localfs"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/deploy"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/secrets/keyfile"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store/sqlite"
)

// inputServer is a test server that exposes its data dir and log, for tests
// that prove a refused request left nothing behind.
type inputServer struct {
	srv    *httptest.Server
	store  store.Store
	blobs  artifacts.Store
	dir    string
	log    *logbuffer.Buffer
	limits deploy.Limits
}

func newInputServer(t *testing.T, limits deploy.Limits) *inputServer {
	t.Helper()
	s := &inputServer{dir: t.TempDir(), log: &logbuffer.Buffer{}, limits: limits}
	var err error
	s.store, err = sqlite.Open(context.Background(), filepath.Join(s.dir, "ferry.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.store.Close(); err != nil {
			t.Error(err)
		}
	})
	box, err := keyfile.LoadOrCreateKey(filepath.Join(s.dir, "secret.key"))
	if err != nil {
		t.Fatal(err)
	}
	s.blobs, err = localfs.Open(filepath.Join(s.dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(s.log, nil))
	svc := deploy.New(deploy.Config{Store: s.store, Blobs: s.blobs, Secrets: box, Hosts: deploy.Hostnames{Base: "localhost"},
		DeploymentsDir: filepath.Join(s.dir, "deployments"), SyncRoutes: noRoutes, StopRuntime: func(string) {}, Logger: logger, Limits: limits})
	s.srv = httptest.NewServer(New(Config{Store: s.store, Blobs: s.blobs, Secrets: box, Deploy: svc, SyncRoutes: noRoutes, Hosts: deploy.Hostnames{Base: "localhost"},
		URL: func(h string) string { return "http://" + h }, Health: func() api.Health { return api.Health{Status: "ok"} },
		Shutdown: func() {}, Logger: logger}))
	t.Cleanup(s.srv.Close)
	return s
}

// assertNothingLeft fails unless the project has no deployments and no
// env vars, and no deployment directory exists.
func (s *inputServer) assertNothingLeft(t *testing.T, projectID string) {
	t.Helper()
	ctx := context.Background()
	if ds, err := s.store.ListDeployments(ctx, projectID); err != nil || len(ds) != 0 {
		t.Errorf("deployments left: %d, %v", len(ds), err)
	}
	if vs, err := s.store.ListEnvVars(ctx, projectID); err != nil || len(vs) != 0 {
		t.Errorf("env vars left: %d, %v", len(vs), err)
	}
	if entries, _ := os.ReadDir(filepath.Join(s.dir, "deployments")); len(entries) != 0 {
		t.Errorf("deployment directories left: %d", len(entries))
	}
}

// blobCount is the number of blobs stored.
func (s *inputServer) blobCount(t *testing.T) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(filepath.Join(s.dir, "blobs"), func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// project creates the project "hello".
func (s *inputServer) project(t *testing.T) api.Project {
	t.Helper()
	var p api.Project
	if status, e := call(t, s.srv, "POST", "/v1/projects", api.ProjectRequest{Name: "hello"}, &p); status != 201 {
		t.Fatalf("create project: %d %+v", status, e)
	}
	return p
}

func (s *inputServer) upload(t *testing.T, content []byte) api.File {
	t.Helper()
	sum := sha256.Sum256(content)
	d := hex.EncodeToString(sum[:])
	if status, e := call(t, s.srv, "PUT", "/v1/files/"+d, content, nil); status != 204 {
		t.Fatalf("upload: %d %+v", status, e)
	}
	return api.File{Digest: d, Size: int64(len(content)), Mode: 0o644}
}

func withPath(f api.File, p string) api.File { f.Path = p; return f }

func TestBadFileListsAreRefusedWhole(t *testing.T) {
	s := newInputServer(t, deploy.Limits{})
	p := s.project(t)
	app := s.upload(t, []byte("app = None\n"))
	long := strings.Repeat("x", 256)
	for name, tc := range map[string]struct {
		files []api.File
		want  string
	}{
		"NUL in a name":           {[]api.File{withPath(app, "app\x00.py")}, "NUL byte"},
		"NUL in a directory":      {[]api.File{withPath(app, "pkg\x00/app.py")}, "NUL byte"},
		"name over 255 bytes":     {[]api.File{withPath(app, long+".py")}, "at most 255 bytes per file or directory name"},
		"directory over 255":      {[]api.File{withPath(app, "a/"+long+"/app.py")}, "at most 255 bytes per file or directory name"},
		"path over 4095 bytes":    {[]api.File{withPath(app, strings.Repeat("abcdefgh/", 460)+"app.py")}, "at most 4095"},
		"file and directory":      {[]api.File{withPath(app, "a"), withPath(app, "a/b.py")}, `"a" is listed as a file and is also the directory of "a/b.py"`},
		"clash not adjacent":      {[]api.File{withPath(app, "a"), withPath(app, "a-b.py"), withPath(app, "a/b/c.py")}, `"a" is listed as a file and is also the directory of "a/b/c.py"`},
		"listed twice":            {[]api.File{withPath(app, "app.py"), withPath(app, "app.py")}, "listed twice"},
		"negative size":           {[]api.File{{Path: "app.py", Digest: app.Digest, Size: -1}}, "negative size"},
		"escaping the source":     {[]api.File{withPath(app, "../app.py")}, "not a clean relative path"},
		"not clean":               {[]api.File{withPath(app, "./app.py")}, "not a clean relative path"},
		"digest not a sha256 hex": {[]api.File{{Path: "app.py", Digest: "ABC"}}, "not a lowercase hex sha256"},
	} {
		t.Run(name, func(t *testing.T) {
			status, e := call(t, s.srv, "POST", "/v1/deployments", api.DeploymentRequest{ProjectID: p.ID, Files: tc.files}, nil)
			if status != 400 || e.Code != api.CodeBadRequest || e.Field != "files" || !strings.Contains(e.Message, tc.want) {
				t.Errorf("status %d, error %+v; want 400 saying %q", status, e, tc.want)
			}
			s.assertNothingLeft(t, p.ID)
		})
	}
	if n := s.blobCount(t); n != 1 {
		t.Errorf("%d blobs stored, want the 1 uploaded", n)
	}
}

func TestDeploymentQuotas(t *testing.T) {
	const limit = 1 << 20
	s := newInputServer(t, deploy.Limits{MaxBytes: limit, MaxFiles: 5})
	p := s.project(t)
	big := s.upload(t, bytes.Repeat([]byte("x"), 200<<10)) // 200 KiB
	blobsBefore := s.blobCount(t)

	// One blob listed 10 times is 2000 KiB to write: over 1 MiB.
	var files []api.File
	for i := range 5 {
		files = append(files, withPath(big, fmt.Sprintf("copy%d.bin", i)))
	}
	status, _ := call(t, s.srv, "POST", "/v1/deployments", api.DeploymentRequest{ProjectID: p.ID, Files: files}, nil)
	if status != 201 {
		t.Fatalf("5 x 200 KiB under a 1 MiB limit: %d", status)
	}
	if err := s.store.DeleteDeployment(context.Background(), mustOnlyDeployment(t, s, p.ID)); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(s.dir, "deployments")); err != nil {
		t.Fatal(err)
	}

	files = append(files, withPath(big, "copy5.bin"))
	status, e := call(t, s.srv, "POST", "/v1/deployments", api.DeploymentRequest{ProjectID: p.ID, Files: files}, nil)
	if status != 400 || !strings.Contains(e.Message, "more than the limit of 5") || !strings.Contains(e.Message, "--max-deployment-files") {
		t.Errorf("6 files over a limit of 5: %d %+v", status, e)
	}
	s.assertNothingLeft(t, p.ID)

	// Counted by the stored sizes: a client that declares 0 bytes is still refused.
	s2 := newInputServer(t, deploy.Limits{MaxBytes: limit})
	p2 := s2.project(t)
	big2 := s2.upload(t, bytes.Repeat([]byte("x"), 200<<10))
	files = nil
	for i := range 10 {
		f := withPath(big2, fmt.Sprintf("copy%d.bin", i))
		f.Size = 0
		files = append(files, f)
	}
	status, e = call(t, s2.srv, "POST", "/v1/deployments", api.DeploymentRequest{ProjectID: p2.ID, Files: files}, nil)
	if status != 413 || e.Code != api.CodeTooLarge || !strings.Contains(e.Message, "limit of 1048576 bytes (1 MiB)") || !strings.Contains(e.Message, "--max-deployment-size") {
		t.Errorf("one blob listed 10 times: %d %+v", status, e)
	}
	s2.assertNothingLeft(t, p2.ID)

	// By the declared sizes, before anything is uploaded.
	missing := api.File{Path: "huge.bin", Digest: strings.Repeat("ab", 32), Size: 1 << 62}
	status, e = call(t, s.srv, "POST", "/v1/deployments", api.DeploymentRequest{ProjectID: p.ID, Files: []api.File{missing, withPath(big, "a.bin")}}, nil)
	if status != 413 || e.Code != api.CodeTooLarge {
		t.Errorf("declared size over the limit: %d %+v", status, e)
	}
	s.assertNothingLeft(t, p.ID)
	if n := s.blobCount(t); n != blobsBefore {
		t.Errorf("%d blobs after refused requests, want %d", n, blobsBefore)
	}
}

func mustOnlyDeployment(t *testing.T, s *inputServer, projectID string) string {
	t.Helper()
	ds, err := s.store.ListDeployments(context.Background(), projectID)
	if err != nil || len(ds) != 1 {
		t.Fatalf("deployments: %d, %v", len(ds), err)
	}
	return ds[0].ID
}

func TestJSONBodies(t *testing.T) {
	s := newInputServer(t, deploy.Limits{})
	for name, body := range map[string]string{
		"second object":    `{"name":"a"} {"name":"b"}`,
		"garbage after":    `{"name":"a"} x`,
		"array after":      `{"name":"a"}[]`,
		"second no spaces": `{"name":"a"}{"name":"b"}`,
	} {
		status, e := call(t, s.srv, "POST", "/v1/projects", []byte(body), nil)
		if status != 400 || !strings.Contains(e.Message, "data after its JSON object") {
			t.Errorf("%s: %d %+v", name, status, e)
		}
	}
	if status, _ := call(t, s.srv, "POST", "/v1/projects", []byte("{\"name\":\"spaces\"}\n\t \n"), nil); status != 201 {
		t.Errorf("trailing white space refused: %d", status)
	}
	huge := []byte(`{"name":"big","root_directory":"` + strings.Repeat("a", maxJSONBody) + `"}`)
	status, e := call(t, s.srv, "POST", "/v1/projects", huge, nil)
	if status != 413 || e.Code != api.CodeTooLarge || !strings.Contains(e.Message, fmt.Sprint(maxJSONBody)) {
		t.Errorf("oversize body: %d %+v", status, e)
	}
	// Over the limit only in what trails the object.
	trailing := append([]byte(`{"name":"trail"}`), bytes.Repeat([]byte(" "), maxJSONBody)...)
	trailing = append(trailing, 'x')
	if status, e := call(t, s.srv, "POST", "/v1/projects", trailing, nil); status != 413 {
		t.Errorf("oversize trailing data: %d %+v", status, e)
	}
	var list api.ProjectList
	call(t, s.srv, "GET", "/v1/projects", nil, &list)
	if len(list.Projects) != 1 || list.Projects[0].Name != "spaces" {
		t.Errorf("projects after refused bodies: %+v", list.Projects)
	}
}

func TestEnvVarNUL(t *testing.T) {
	s := newInputServer(t, deploy.Limits{})
	p := s.project(t)
	for name, tc := range map[string]struct {
		req   api.EnvVarRequest
		field string
	}{
		"NUL in value":      {api.EnvVarRequest{Key: "A", Value: "s3c\x00ret", Targets: []string{"production"}}, "value"},
		"NUL in key":        {api.EnvVarRequest{Key: "A\x00B", Value: "x", Targets: []string{"production"}}, "key"},
		"NUL only as value": {api.EnvVarRequest{Key: "A", Value: "\x00", Targets: []string{"production"}}, "value"},
	} {
		status, e := call(t, s.srv, "POST", "/v1/projects/hello/env", tc.req, nil)
		if status != 400 || e.Field != tc.field || !strings.Contains(e.Message, "NUL byte") {
			t.Errorf("%s: %d %+v", name, status, e)
		}
		if strings.Contains(e.Message, "s3c") {
			t.Errorf("%s: the message shows the value: %q", name, e.Message)
		}
	}
	s.assertNothingLeft(t, p.ID)

	// An update with a NUL leaves the stored value as it was.
	var v api.EnvVar
	call(t, s.srv, "POST", "/v1/projects/hello/env", api.EnvVarRequest{Key: "A", Value: "good", Targets: []string{"production"}}, &v)
	status, _ := call(t, s.srv, "PUT", "/v1/projects/hello/env/"+v.ID, api.EnvVarRequest{Key: "A", Value: "b\x00d", Targets: []string{"production"}}, nil)
	var got api.EnvVar
	call(t, s.srv, "GET", "/v1/projects/hello/env/"+v.ID+"?decrypt=1", nil, &got)
	if status != 400 || got.Value != "good" || got.ValueDigest != v.ValueDigest {
		t.Errorf("update with NUL: %d, value now %q", status, got.Value)
	}
}

func TestValueDigestIsKeyed(t *testing.T) {
	s := newInputServer(t, deploy.Limits{})
	s.project(t)
	var a, b api.EnvVar
	call(t, s.srv, "POST", "/v1/projects/hello/env", api.EnvVarRequest{Key: "A", Value: "s3cret", Targets: []string{"production"}}, &a)
	call(t, s.srv, "POST", "/v1/projects/hello/env", api.EnvVarRequest{Key: "B", Value: "s3cret", Targets: []string{"production"}}, &b)
	plain := sha256.Sum256([]byte("s3cret"))
	if !strings.HasPrefix(a.ValueDigest, api.DigestPrefix) || strings.Contains(a.ValueDigest, hex.EncodeToString(plain[:])) {
		t.Errorf("digest %q is not keyed", a.ValueDigest)
	}
	if a.ValueDigest != b.ValueDigest {
		t.Errorf("one value, two digests under one key: %s %s", a.ValueDigest, b.ValueDigest)
	}
	// Another engine (another key) gives another digest of the same value.
	other := newInputServer(t, deploy.Limits{})
	other.project(t)
	var c api.EnvVar
	call(t, other.srv, "POST", "/v1/projects/hello/env", api.EnvVarRequest{Key: "A", Value: "s3cret", Targets: []string{"production"}}, &c)
	if c.ValueDigest == a.ValueDigest {
		t.Error("two engine keys gave the same digest")
	}
	// A row written before digests were keyed is reported with the keyed digest.
	stored, err := s.store.GetEnvVar(context.Background(), a.ProjectID, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	stored.ValueDigest = hex.EncodeToString(plain[:])
	if err := s.store.UpdateEnvVar(context.Background(), stored); err != nil {
		t.Fatal(err)
	}
	var got api.EnvVar
	call(t, s.srv, "GET", "/v1/projects/hello/env/"+a.ID, nil, &got)
	if got.ValueDigest != a.ValueDigest {
		t.Errorf("legacy row reported as %q", got.ValueDigest)
	}
}

func TestUploadLimitsAndFailures(t *testing.T) {
	s := newInputServer(t, deploy.Limits{})
	content := []byte("print('hi')\n")
	sum := sha256.Sum256(content)
	d := hex.EncodeToString(sum[:])

	// Over the per-file limit, declared in Content-Length (written by hand:
	// Go's client will not send a length its body does not have).
	conn, err := net.Dial("tcp", s.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fmt.Fprintf(conn, "PUT /v1/files/%s HTTP/1.1\r\nHost: engine\r\nContent-Length: %d\r\n\r\n%s", d, maxFileSize+1, content); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = conn.Close() // done with it
	if resp.StatusCode != 413 || !strings.Contains(string(body), "per file") {
		t.Errorf("declared oversize upload: %d %s", resp.StatusCode, body)
	}
	if s.blobCount(t) != 0 {
		t.Error("a refused upload was stored")
	}

	// A full disk, or any failure to write, is the engine's fault: a 5xx
	// that does not show the engine's paths.
	if err := os.WriteFile(filepath.Join(s.dir, "blobs", d[:2]), []byte("in the way"), 0o600); err != nil {
		t.Fatal(err)
	}
	status, e := call(t, s.srv, "PUT", "/v1/files/"+d, content, nil)
	if status != 500 || e.Code != api.CodeInternal || strings.Contains(e.Message, s.dir) || strings.Contains(e.Message, "not a directory") {
		t.Errorf("write failure: %d %+v", status, e)
	}
	id := strings.TrimSuffix(strings.Fields(strings.SplitAfter(e.Message, "(request ")[1])[0], "):")
	if !strings.HasPrefix(id, "req_") || !strings.Contains(s.log.String(), "request_id="+id) || !strings.Contains(s.log.String(), "not a directory") {
		t.Errorf("request id %q not in the log with the error:\n%s", id, s.log.String())
	}
}
