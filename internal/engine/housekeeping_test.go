package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/artifacts/artifactstest"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/artifacts/localfs"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store/sqlite"
)

// A deleted deployment's blobs go once the grace period is over; a live
// deployment's stay.
func TestCollectBlobsKeepsWhatDeploymentsList(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := sqlite.Open(ctx, filepath.Join(dir, DBName))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := st.Close(); err != nil {
			t.Error(err)
		}
	}()
	blobStore, err := localfs.Open(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateProject(ctx, &store.Project{ID: "p1", Name: "hello", Framework: "auto", RootDirectory: "."}, "hello.localhost"); err != nil {
		t.Fatal(err)
	}
	kept, dropped := artifactstest.Write(t, blobStore, "print('kept')"), artifactstest.Write(t, blobStore, "print('dropped')")
	for id, digest := range map[string]string{"d1": kept, "d2": dropped} {
		files, _ := json.Marshal([]api.File{{Path: "app.py", Digest: digest, Size: 13, Mode: 0o644}})
		d := &store.Deployment{ID: id, ProjectID: "p1", Target: "preview", State: "QUEUED", Hostname: "hello-" + id + ".localhost", Files: files, SealedEnv: []byte("x")}
		if err := st.EnqueueDeployment(ctx, d, 100); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.DeleteDeployment(ctx, "d2"); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)

	collectBlobs(ctx, log, st, blobStore, time.Hour)
	if !artifactstest.Stored(t, blobStore, dropped) {
		t.Fatal("a blob within its grace period was deleted")
	}
	collectBlobs(ctx, log, st, blobStore, -time.Minute) // as if the grace period were over
	if !artifactstest.Stored(t, blobStore, kept) {
		t.Fatal("a blob a deployment lists was deleted")
	}
	if artifactstest.Stored(t, blobStore, dropped) {
		t.Fatal("the deleted deployment's blob was kept")
	}
}

func TestCapLogsRotatesEngineAndRuntimeLogs(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "logs"), 0o700); err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte("a line of output\n"), 1000)
	paths := []string{filepath.Join(dir, LogName), filepath.Join(dir, "logs", "dpl_1.log"), filepath.Join(dir, "logs", "dpl_2.log")}
	for i, path := range paths {
		content := big
		if i == 2 {
			content = []byte("small\n")
		}
		if err := os.WriteFile(path, content, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	capLogs(slog.New(slog.DiscardHandler), dir, 4096)
	for i, path := range paths {
		info, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		_, olderErr := os.Stat(path + ".1")
		if i < 2 && (info.Size() > 4096 || olderErr != nil) {
			t.Errorf("%s: %d bytes left, older generation: %v", path, info.Size(), olderErr)
		}
		if i == 2 && olderErr == nil {
			t.Errorf("%s was rotated below the limit", path)
		}
	}
}
