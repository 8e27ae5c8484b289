package deploy

import (
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/artifacts"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/artifacts/localfs"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/artifacts/s3"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/artifacts/s3/s3test"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/runspec"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
)

// BenchmarkFetchBuildOutput is what a node that did not build a deployment adds to its first
// cold start: fetching and unpacking the build output (a Flask app and its virtualenv) from S3
// on a local versitygw, or from the local file system store; and, once fetched, the check that
// finds it present (every later start).
func BenchmarkFetchBuildOutput(b *testing.B) {
	built := b.TempDir()
	if err := os.MkdirAll(filepath.Join(built, "src"), 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(built, "src", "app.py"), []byte("from flask import Flask\napp = Flask(__name__)\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	if out, err := exec.Command("python3", "-m", "venv", "--system-site-packages", "--without-pip", filepath.Join(built, "venv")).CombinedOutput(); err != nil {
		b.Skipf("no python3 venv: %v %s", err, out)
	}
	local, err := localfs.Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	srv := s3test.Start(b)
	remote, err := s3.OpenURL(context.Background(), srv.URL(srv.Bucket(b), "bench"))
	if err != nil {
		b.Fatal(err)
	}
	for _, blobs := range []struct {
		name  string
		store artifacts.Store
	}{{"localfs", local}, {"s3", remote}} {
		s := New(Config{Blobs: blobs.store, DeploymentsDir: b.TempDir(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		ctx := context.Background()
		digest, err := s.shareOutput(ctx, built)
		if err != nil {
			b.Fatal(err)
		}
		d := &store.Deployment{ID: "dpl_bench", Run: &runspec.Spec{Output: digest}}
		b.Run(blobs.name+"/first", func(b *testing.B) {
			for b.Loop() {
				if err := os.RemoveAll(s.Dir(d.ID)); err != nil {
					b.Fatal(err)
				}
				if err := s.Fetch(ctx, d); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(blobs.name+"/present", func(b *testing.B) {
			for b.Loop() {
				if err := s.Fetch(ctx, d); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
