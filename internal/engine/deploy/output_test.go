package deploy

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/artifacts/localfs"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/runspec"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
)

// A build output comes back as the build left it, sealed: content, executables, symbolic links.
func TestBuildOutputRoundTrip(t *testing.T) {
	built := t.TempDir()
	for name, content := range map[string]string{"src/app.py": "app = 1\n", "venv/pyvenv.cfg": "home = /usr/bin\n", "build.log": "ferry: done\n"} {
		path := filepath.Join(built, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(built, "venv", "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/usr/bin/python3", filepath.Join(built, "venv", "bin", "python")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(built, "venv", "bin", "tool"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(built, "home"), 0o755); err != nil { // the build's home is not part of it
		t.Fatal(err)
	}

	var archive bytes.Buffer
	if err := writeOutput(&archive, built); err != nil {
		t.Fatal(err)
	}
	fetched := t.TempDir()
	if err := unpackOutput(&archive, fetched); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(filepath.Join(fetched, "src", "app.py")); err != nil || string(got) != "app = 1\n" {
		t.Errorf("src/app.py: %q %v", got, err)
	}
	if link, err := os.Readlink(filepath.Join(fetched, "venv", "bin", "python")); err != nil || link != "/usr/bin/python3" {
		t.Errorf("venv/bin/python links to %q (%v)", link, err)
	}
	if info, err := os.Stat(filepath.Join(fetched, "venv", "bin", "tool")); err != nil || info.Mode().Perm() != 0o755 {
		t.Errorf("venv/bin/tool: %v %v, want mode 0755", info.Mode(), err)
	}
	if info, err := os.Stat(filepath.Join(fetched, "build.log")); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("build.log: %v %v, want the engine's only", info.Mode(), err)
	}
	if _, err := os.Stat(filepath.Join(fetched, "home")); !os.IsNotExist(err) {
		t.Errorf("the build's home came along: %v", err)
	}
}

// An archive that is not a build output, or that would write outside the deployment directory
// or through a symbolic link, is refused.
func TestBuildOutputRefusesForeignEntries(t *testing.T) {
	for name, entries := range map[string][]tar.Header{
		"outside":         {{Name: "../escape", Typeflag: tar.TypeReg, Mode: 0o644}},
		"not a part":      {{Name: "etc/passwd", Typeflag: tar.TypeReg, Mode: 0o644}},
		"below a link":    {{Name: "src/out", Typeflag: tar.TypeSymlink, Linkname: "/tmp"}, {Name: "src/out/x", Typeflag: tar.TypeReg, Mode: 0o644}},
		"a device":        {{Name: "src/dev", Typeflag: tar.TypeChar, Mode: 0o644}},
		"absolute":        {{Name: "/src/app.py", Typeflag: tar.TypeReg, Mode: 0o644}},
		"a hard link out": {{Name: "src/h", Typeflag: tar.TypeLink, Linkname: "/etc/passwd"}},
	} {
		t.Run(name, func(t *testing.T) {
			var archive bytes.Buffer
			zw := gzip.NewWriter(&archive)
			tw := tar.NewWriter(zw)
			for _, h := range entries {
				if err := tw.WriteHeader(&h); err != nil {
					t.Fatal(err)
				}
			}
			if err := tw.Close(); err != nil {
				t.Fatal(err)
			}
			if err := zw.Close(); err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			err := unpackOutput(&archive, dir)
			if err == nil || !strings.Contains(err.Error(), "entry") {
				t.Fatalf("unpacked: %v", err)
			}
		})
	}
}

// Fetched outputs beyond the cache's bound go, least recently used first, except those instances
// run from and those used just now; one that went is fetched again when needed.
func TestTrimOutputsKeepsWhatIsInUse(t *testing.T) {
	blobs, err := localfs.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s := New(Config{Blobs: blobs, DeploymentsDir: t.TempDir(), ShareOutputs: true, OutputCacheBytes: 1,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ctx := context.Background()
	deployments := map[string]*store.Deployment{}
	for i, id := range []string{"dpl_running", "dpl_old", "dpl_recent"} {
		built := t.TempDir()
		if err := os.MkdirAll(filepath.Join(built, "src"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(built, "src", "app.py"), []byte(strings.Repeat("x", 1000*(i+1))), 0o644); err != nil {
			t.Fatal(err)
		}
		digest, err := s.shareOutput(ctx, built)
		if err != nil {
			t.Fatal(err)
		}
		d := &store.Deployment{ID: id, Run: &runspec.Spec{Output: digest}}
		if err := s.Fetch(ctx, d); err != nil {
			t.Fatal(err)
		}
		deployments[id] = d
		if id != "dpl_recent" {
			long := time.Now().Add(-time.Hour)
			if err := os.Chtimes(filepath.Join(s.Dir(id), outputMarker), long, long); err != nil {
				t.Fatal(err)
			}
		}
	}
	removed, freed, err := s.TrimOutputs(ctx, func(owner string) bool { return owner == "dpl_running" })
	if err != nil || removed != 1 || freed < 2000 {
		t.Fatalf("trimmed %d outputs, %d bytes, %v; want dpl_old only", removed, freed, err)
	}
	for id, want := range map[string]bool{"dpl_running": true, "dpl_old": false, "dpl_recent": true} {
		if _, err := os.Stat(filepath.Join(s.Dir(id), "src", "app.py")); (err == nil) != want {
			t.Errorf("%s held: %v, want %v", id, err == nil, want)
		}
	}
	if err := s.Fetch(ctx, deployments["dpl_old"]); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(s.Dir("dpl_old"), "src", "app.py")); err != nil {
		t.Errorf("a trimmed output was not fetched again: %v", err)
	}
}

// A start from a present output records its use when the record is older than lastUseResolution,
// and writes nothing when it is fresher.
func TestFetchRecordsLastUseCoarsely(t *testing.T) {
	blobs, err := localfs.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s := New(Config{Blobs: blobs, DeploymentsDir: t.TempDir(), ShareOutputs: true,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ctx := context.Background()
	built := t.TempDir()
	if err := os.WriteFile(filepath.Join(built, "app.py"), []byte("app = None\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	digest, err := s.shareOutput(ctx, built)
	if err != nil {
		t.Fatal(err)
	}
	d := &store.Deployment{ID: "dpl_used", Run: &runspec.Spec{Output: digest}}
	if err := s.Fetch(ctx, d); err != nil {
		t.Fatal(err)
	}
	marker := filepath.Join(s.Dir(d.ID), outputMarker)
	for _, c := range []struct {
		age     time.Duration
		written bool
	}{{time.Hour, true}, {lastUseResolution / 2, false}} {
		recorded := time.Now().Add(-c.age).Truncate(time.Second)
		if err := os.Chtimes(marker, recorded, recorded); err != nil {
			t.Fatal(err)
		}
		if err := s.Fetch(ctx, d); err != nil {
			t.Fatal(err)
		}
		info, err := os.Stat(marker)
		if err != nil {
			t.Fatal(err)
		}
		if written := !info.ModTime().Equal(recorded); written != c.written {
			t.Errorf("last use recorded %s ago: rewritten %v, want %v", c.age, written, c.written)
		}
	}
}

// What a stopped node's build or fetch left unfinished goes once old enough; what one running
// now writes, and the deployment directories, stay.
func TestSweepUnfinished(t *testing.T) {
	dir := t.TempDir()
	s := New(Config{DeploymentsDir: dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	old := time.Now().Add(-2 * time.Hour)
	for name, age := range map[string]time.Time{
		".output-123.tar.gz": old, ".fetch-dpl_a-456": old, ".fetch-dpl_b-789": time.Now(), "dpl_c": old,
	} {
		p := filepath.Join(dir, name)
		var err error
		if strings.HasSuffix(name, ".tar.gz") {
			err = os.WriteFile(p, []byte("partial"), 0o600)
		} else {
			err = os.MkdirAll(filepath.Join(p, "src"), 0o755)
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, age, age); err != nil {
			t.Fatal(err)
		}
	}
	removed, err := s.SweepUnfinished(time.Hour)
	if err != nil || removed != 2 {
		t.Fatalf("removed %d, %v; want the 2 old leftovers", removed, err)
	}
	entries, _ := os.ReadDir(dir)
	var left []string
	for _, e := range entries {
		left = append(left, e.Name())
	}
	if strings.Join(left, " ") != ".fetch-dpl_b-789 dpl_c" {
		t.Errorf("left %v; want the fetch under way and the deployment directory", left)
	}
}
