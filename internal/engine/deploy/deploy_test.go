package deploy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/logbuffer"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/artifacts"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/artifacts/localfs"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/secrets/keyfile"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store/sqlite"
)

// newService returns a running Service over a fresh data dir, its settings
// changed by configure if given.
func newService(t *testing.T, configure ...func(*Config)) (*Service, store.Store, artifacts.Store) {
	t.Helper()
	svc, st, bl := newStoppedService(t, configure...)
	ctx, cancel := context.WithCancel(context.Background())
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); svc.Wait() })
	return svc, st, bl
}

// newStoppedService is newService without workers: deployments stay queued.
func newStoppedService(t *testing.T, configure ...func(*Config)) (*Service, store.Store, artifacts.Store) {
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
	cfg := Config{Store: st, Blobs: bl, Secrets: box, Hosts: Hostnames{Base: "localhost"}, DeploymentsDir: filepath.Join(dir, "deployments"),
		Python: "/usr/bin/python3", SyncRoutes: func(context.Context) error { return nil }, StopRuntime: func(string) {}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		NodeID: "test-node"}
	for _, c := range configure {
		c(&cfg)
	}
	return New(cfg), st, bl
}

func upload(t *testing.T, bl artifacts.Store, content string) api.File {
	t.Helper()
	sum := sha256.Sum256([]byte(content))
	d := hex.EncodeToString(sum[:])
	if err := bl.Write(context.Background(), d, strings.NewReader(content)); err != nil {
		t.Fatal(err)
	}
	return api.File{Digest: d, Size: int64(len(content)), Mode: 0o644}
}

func waitState(t *testing.T, st store.Store, id string, want ...string) *store.Deployment {
	t.Helper()
	for i := 0; i < 600; i++ {
		d, err := st.GetDeployment(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range want {
			if d.State == w {
				return d
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("deployment %s never reached %v", id, want)
	return nil
}

func TestDeleteWhileBuildingStopsTheBuildAndRemovesItsFiles(t *testing.T) {
	svc, st, bl := newService(t)
	ctx := context.Background()
	skip, slow := "true", "sleep 60"
	if err := st.CreateProject(ctx, &store.Project{ID: "prj_1", Name: "slow", Framework: "auto", RootDirectory: ".", InstallCommand: &skip, BuildCommand: &slow}, "slow.localhost"); err != nil {
		t.Fatal(err)
	}
	f := upload(t, bl, "app = None\n")
	f.Path = "app.py"
	d, err := svc.Create(ctx, api.DeploymentRequest{ProjectID: "prj_1", Files: []api.File{f}})
	if err != nil {
		t.Fatal(err)
	}
	waitState(t, st, d.ID, api.StateBuilding)
	// Let the build reach its build command.
	for i := 0; i < 200; i++ {
		if log, _ := os.ReadFile(svc.LogPath(d.ID)); strings.Contains(string(log), "sleep 60") {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	start := time.Now()
	if err := svc.Delete(ctx, d.ID); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 200; i++ {
		if _, err := os.Stat(svc.Dir(d.ID)); errors.Is(err, os.ErrNotExist) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := os.Stat(svc.Dir(d.ID)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("directory of the deleted deployment still there %s after delete", time.Since(start))
	}
	if _, err := st.GetDeployment(ctx, d.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleted deployment is back: %v", err)
	}
}

func TestFailedBuildKeepsItsLogAndMessage(t *testing.T) {
	svc, st, bl := newService(t)
	ctx := context.Background()
	if err := st.CreateProject(ctx, &store.Project{ID: "prj_1", Name: "broken", Framework: "auto", RootDirectory: "."}, "broken.localhost"); err != nil {
		t.Fatal(err)
	}
	f := upload(t, bl, "surely-not-a-real-package-ferry==1.0\n")
	f.Path = "requirements.txt"
	app := upload(t, bl, "app = None\n")
	app.Path = "app.py"
	d, err := svc.Create(ctx, api.DeploymentRequest{ProjectID: "prj_1", Files: []api.File{f, app}, Production: true})
	if err != nil {
		t.Fatal(err)
	}
	got := waitState(t, st, d.ID, api.StateError, api.StateReady)
	if got.State != api.StateError || !strings.Contains(got.ErrorMessage, "surely-not-a-real-package-ferry") {
		t.Fatalf("want ERROR naming the requirement, got %s %q", got.State, got.ErrorMessage)
	}
	if id, _ := st.ProductionDeploymentID(ctx, "prj_1"); id != "" {
		t.Errorf("a failed build took the production alias")
	}
	if log, err := os.ReadFile(svc.LogPath(d.ID)); err != nil || !strings.Contains(string(log), "ferry: writing 2 source files") {
		t.Errorf("build log %q, %v", log, err)
	}
}

// projectDeletedAfterBuild is a store whose project disappears once the
// build command has run: a delete landing between the end of a build and
// the record of its outcome.
type projectDeletedAfterBuild struct {
	store.Store
	logPath string // the build log
}

func (s *projectDeletedAfterBuild) GetProject(ctx context.Context, id string) (*store.Project, error) {
	if log, _ := os.ReadFile(s.logPath); strings.Contains(string(log), "ferry-test-built") {
		if _, err := s.DeleteProject(ctx, id); err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
	}
	return s.Store.GetProject(ctx, id)
}

// A project deleted as its build ends: the outcome is dropped at once, not
// retried for a row that cannot come back, and the build's files go.
func TestOutcomeOfADeletedProjectsBuildIsDropped(t *testing.T) {
	var logs logbuffer.Buffer
	var deleting *projectDeletedAfterBuild
	svc, st, bl := newStoppedService(t, func(c *Config) {
		deleting = &projectDeletedAfterBuild{Store: c.Store}
		c.Store = deleting
		c.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	ctx := context.Background()
	skip, built := "true", "echo ferry-test-built"
	if err := st.CreateProject(ctx, &store.Project{ID: "prj_1", Name: "gone", Framework: "auto", RootDirectory: ".", InstallCommand: &skip, BuildCommand: &built}, "gone.localhost"); err != nil {
		t.Fatal(err)
	}
	f := upload(t, bl, "def app(environ, start_response):\n    return []\n")
	f.Path = "app.py"
	d, err := svc.Create(ctx, api.DeploymentRequest{ProjectID: "prj_1", Files: []api.File{f}})
	if err != nil {
		t.Fatal(err)
	}
	deleting.logPath = svc.LogPath(d.ID)
	workers, stop := context.WithCancel(ctx)
	if err := svc.Start(workers); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stop(); svc.Wait() })

	for i := 0; i < 200 && !strings.Contains(logs.String(), "build outcome dropped"); i++ {
		time.Sleep(50 * time.Millisecond)
	}
	if text := logs.String(); !strings.Contains(text, "build outcome dropped") || strings.Contains(text, "attempt=") {
		t.Fatalf("the outcome of a deleted project's build was not dropped at once; the log:\n%s", text)
	}
	for i := 0; i < 100; i++ {
		if _, err := os.Stat(svc.Dir(d.ID)); errors.Is(err, os.ErrNotExist) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("the files of the deleted project's build are still there")
}
