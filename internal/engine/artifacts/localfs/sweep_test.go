package localfs

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/artifacts/artifactstest"
)

func openTest(t *testing.T) *Store {
	t.Helper()
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// writeAged writes a blob and dates its last use age ago.
func writeAged(t *testing.T, s *Store, content string, age time.Duration) string {
	t.Helper()
	digest := artifactstest.Write(t, s, content)
	path, err := s.path(digest)
	if err != nil {
		t.Fatal(err)
	}
	setAge(t, path, age)
	return digest
}

func setAge(t *testing.T, path string, age time.Duration) {
	t.Helper()
	then := time.Now().Add(-age)
	if err := os.Chtimes(path, then, then); err != nil {
		t.Fatal(err)
	}
}

// An upload cut short leaves a temporary file, which a sweep removes once it is old.
func TestSweepRemovesStaleUploads(t *testing.T) {
	s := openTest(t)
	blob := writeAged(t, s, "kept by a deployment", 48*time.Hour)
	stale := filepath.Join(s.dir, blob[:2], uploadPrefix+"123")
	fresh := filepath.Join(s.dir, blob[:2], uploadPrefix+"456")
	for _, path := range []string{stale, fresh} {
		if err := os.WriteFile(path, []byte("cut short"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	setAge(t, stale, 48*time.Hour)
	swept, err := s.Sweep(context.Background(), map[string]bool{blob: true}, time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("the stale upload was kept: %v", err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("an upload in progress was removed: %v", err)
	}
	if swept.Deleted != 1 || swept.FreedBytes != int64(len("cut short")) {
		t.Errorf("swept %+v, want the stale upload only", swept)
	}
}

// Keep racing Sweep on an old unreferenced blob: whenever Keep finds the
// blob, it is still there afterwards, so a deployment created on that answer
// has its files.
func TestSweepNeverDeletesABlobKeepJustFound(t *testing.T) {
	s := openTest(t)
	for i := range 200 {
		digest := writeAged(t, s, "blob "+strings.Repeat("x", i), 48*time.Hour)
		found := make(chan bool)
		go func() {
			_, err := s.Keep(context.Background(), digest)
			found <- err == nil
		}()
		if _, err := s.Sweep(context.Background(), nil, time.Now().Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
		if <-found && !artifactstest.Stored(t, s, digest) {
			t.Fatalf("round %d: Keep found the blob, then Sweep deleted it", i)
		}
	}
}
