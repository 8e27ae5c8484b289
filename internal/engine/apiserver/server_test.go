package apiserver

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/artifacts/localfs"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/deploy"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/secrets/keyfile"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store/sqlite"
)

// newTestServer returns an API server over a real store whose build queue is
// not running, so deployments stay QUEUED.
// noRoutes stands in for an edge: these tests serve no apps.
func noRoutes(context.Context) error { return nil }

// Each of with changes the deployer's configuration before it starts.
func newTestServer(t testing.TB, with ...func(*deploy.Config)) (*httptest.Server, store.Store) {
	t.Helper()
	dir := t.TempDir()
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "ferry.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Error(err)
		}
	})
	box, _ := keyfile.LoadOrCreateKey(filepath.Join(dir, "secret.key"))
	bl, _ := localfs.Open(filepath.Join(dir, "blobs"))
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := deploy.Config{Store: st, Blobs: bl, Secrets: box, Hosts: deploy.Hostnames{Base: "localhost"}, DeploymentsDir: filepath.Join(dir, "deployments"),
		SyncRoutes: noRoutes, StopRuntime: func(string) {}, Logger: logger}
	for _, change := range with {
		change(&cfg)
	}
	svc := deploy.New(cfg)
	srv := httptest.NewServer(New(Config{Store: st, Blobs: bl, Secrets: box, Deploy: svc, SyncRoutes: noRoutes, Hosts: deploy.Hostnames{Base: "localhost"},
		URL: func(h string) string { return "http://" + h + ":3080" }, HTTPSURL: func(h string) string { return "https://" + h + ":3443" },
		Health: func() api.Health {
			return api.Health{Status: "ok", BaseDomain: "localhost", HTTPSAddress: "127.0.0.1:3443", PublicAddresses: []string{"203.0.113.7"}}
		},
		Domains: recordedDNS{st}, Shutdown: func() {}, Logger: logger}))
	t.Cleanup(srv.Close)
	return srv, st
}

func call(t testing.TB, srv *httptest.Server, method, path string, body any, out any) (int, api.Error) {
	t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		r = bytes.NewReader(b)
	default:
		data, _ := json.Marshal(b)
		r = bytes.NewReader(data)
	}
	req, _ := http.NewRequest(method, srv.URL+path, r)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var apiErr api.Error
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		if err := json.Unmarshal(data, &apiErr); err != nil {
			t.Fatalf("%s %s: decode the error %q: %v", method, path, data, err)
		}
	} else if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: decode %q: %v", method, path, data, err)
		}
	}
	return resp.StatusCode, apiErr
}

func TestProjectValidation(t *testing.T) {
	srv, _ := newTestServer(t)
	for _, name := range []string{"", "Hello", "-x", "x-", "a_b", "a--b", strings.Repeat("a", 53)} {
		status, e := call(t, srv, "POST", "/v1/projects", api.ProjectRequest{Name: name}, nil)
		if status != 400 || e.Field != "name" || e.Message == "" {
			t.Errorf("name %q: status %d, error %+v", name, status, e)
		}
	}
	status, e := call(t, srv, "POST", "/v1/projects", api.ProjectRequest{Name: "ok", Framework: "django"}, nil)
	if status != 400 || e.Field != "framework" {
		t.Errorf("framework django: %d %+v", status, e)
	}
	status, e = call(t, srv, "POST", "/v1/projects", api.ProjectRequest{Name: "ok", RootDirectory: "../up"}, nil)
	if status != 400 || e.Field != "root_directory" {
		t.Errorf("root ../up: %d %+v", status, e)
	}
	status, _ = call(t, srv, "POST", "/v1/projects", []byte(`{"name":"ok","nam":"x"}`), nil)
	if status != 400 {
		t.Errorf("unknown field accepted: %d", status)
	}
	var list api.ProjectList
	call(t, srv, "GET", "/v1/projects", nil, &list)
	if len(list.Projects) != 0 {
		t.Fatalf("refused requests created projects: %+v", list.Projects)
	}
}

func TestProjectLifecycle(t *testing.T) {
	srv, _ := newTestServer(t)
	var p api.Project
	if status, e := call(t, srv, "POST", "/v1/projects", api.ProjectRequest{Name: "hello"}, &p); status != 201 {
		t.Fatalf("create: %d %+v", status, e)
	}
	if p.Framework != "auto" || p.RootDirectory != "." || p.ProductionURL != "http://hello.localhost:3080" {
		t.Errorf("defaults: %+v", p)
	}
	status, e := call(t, srv, "POST", "/v1/projects", api.ProjectRequest{Name: "hello"}, nil)
	if status != 409 || !strings.Contains(e.Message, "already exists") {
		t.Errorf("duplicate: %d %+v", status, e)
	}
	var got api.Project
	if status, _ := call(t, srv, "GET", "/v1/projects/hello", nil, &got); status != 200 || got.ID != p.ID {
		t.Errorf("get by name: %d %+v", status, got)
	}
	install := "true"
	var updated api.Project
	call(t, srv, "PUT", "/v1/projects/"+p.ID, api.ProjectRequest{Name: "hello2", Framework: "flask", InstallCommand: &install}, &updated)
	if updated.Name != "hello2" || updated.InstallCommand == nil || *updated.InstallCommand != "true" || updated.ProductionURL != "http://hello2.localhost:3080" {
		t.Errorf("update: %+v", updated)
	}
	if status, _ := call(t, srv, "DELETE", "/v1/projects/"+p.ID, nil, nil); status != 204 {
		t.Errorf("delete: %d", status)
	}
	if status, _ := call(t, srv, "GET", "/v1/projects/"+p.ID, nil, nil); status != 404 {
		t.Errorf("get after delete: %d", status)
	}
}

func TestEnvVars(t *testing.T) {
	srv, st := newTestServer(t)
	call(t, srv, "POST", "/v1/projects", api.ProjectRequest{Name: "hello"}, nil)
	var v api.EnvVar
	status, e := call(t, srv, "POST", "/v1/projects/hello/env", api.EnvVarRequest{Key: "API_KEY", Value: "s3cret", Targets: []string{"preview", "production"}}, &v)
	if status != 201 {
		t.Fatalf("create: %d %+v", status, e)
	}
	if v.Value != "" {
		t.Error("create answered with the value in the clear")
	}
	sum := sha256.Sum256([]byte("s3cret"))
	if !strings.HasPrefix(v.ValueDigest, api.DigestPrefix) || strings.Contains(v.ValueDigest, hex.EncodeToString(sum[:])) {
		t.Errorf("digest %s", v.ValueDigest)
	}
	stored, _ := st.GetEnvVar(context.Background(), v.ProjectID, v.ID)
	if bytes.Contains(stored.SealedValue, []byte("s3cret")) {
		t.Error("value stored in the clear")
	}
	var decrypted api.EnvVar
	call(t, srv, "GET", "/v1/projects/hello/env/"+v.ID+"?decrypt=true", nil, &decrypted)
	if decrypted.Value != "s3cret" {
		t.Errorf("decrypted value %q", decrypted.Value)
	}

	status, e = call(t, srv, "POST", "/v1/projects/hello/env", api.EnvVarRequest{Key: "API_KEY", Value: "other", Targets: []string{"production"}}, nil)
	if status != 409 || !strings.Contains(e.Message, "API_KEY is already set for production") {
		t.Errorf("duplicate key+target: %d %+v", status, e)
	}
	for _, bad := range []api.EnvVarRequest{
		{Key: "1BAD", Targets: []string{"production"}},
		{Key: "VERCEL_ENV", Targets: []string{"production"}},
		{Key: "OK", Targets: nil},
		{Key: "OK", Targets: []string{"staging"}},
		{Key: "OK", Targets: []string{"production"}, GitBranch: "main"},
	} {
		if status, e := call(t, srv, "POST", "/v1/projects/hello/env", bad, nil); status != 400 || e.Message == "" {
			t.Errorf("%+v: %d %+v", bad, status, e)
		}
	}
	var list api.EnvVarList
	call(t, srv, "GET", "/v1/projects/hello/env", nil, &list)
	if len(list.EnvVars) != 1 {
		t.Errorf("refused requests changed the vars: %+v", list.EnvVars)
	}
}

func TestDeploymentNeedsUploadedFiles(t *testing.T) {
	srv, _ := newTestServer(t)
	var p api.Project
	call(t, srv, "POST", "/v1/projects", api.ProjectRequest{Name: "hello"}, &p)
	content := []byte("app = None\n")
	sum := sha256.Sum256(content)
	digest := hex.EncodeToString(sum[:])
	req := api.DeploymentRequest{ProjectID: p.ID, Files: []api.File{{Path: "app.py", Digest: digest, Size: int64(len(content)), Mode: 0o644}}, Production: true}

	status, e := call(t, srv, "POST", "/v1/deployments", req, nil)
	if status != 412 || e.Code != api.CodeMissingFiles || len(e.Missing) != 1 || e.Missing[0] != digest {
		t.Fatalf("before upload: %d %+v", status, e)
	}
	if status, _ := call(t, srv, "PUT", "/v1/files/"+digest, []byte("tampered"), nil); status != 400 {
		t.Errorf("upload of content not matching its digest: %d", status)
	}
	if status, _ := call(t, srv, "PUT", "/v1/files/"+digest, content, nil); status != 204 {
		t.Fatalf("upload: %d", status)
	}
	var d api.Deployment
	if status, e := call(t, srv, "POST", "/v1/deployments", req, &d); status != 201 {
		t.Fatalf("create: %d %+v", status, e)
	}
	if d.State != api.StateQueued || d.Target != "production" || !strings.HasPrefix(d.URL, "http://hello-") {
		t.Errorf("deployment %+v", d)
	}

	for _, path := range []string{"../evil.py", "/abs.py", "a/../b.py", ""} {
		bad := req
		bad.Files = []api.File{{Path: path, Digest: digest}}
		if status, e := call(t, srv, "POST", "/v1/deployments", bad, nil); status != 400 {
			t.Errorf("path %q: %d %+v", path, status, e)
		}
	}
}
