package blobs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func putBlob(t *testing.T, s *Store, content string, age time.Duration) string {
	t.Helper()
	sum := sha256.Sum256([]byte(content))
	digest := hex.EncodeToString(sum[:])
	if err := s.Put(digest, strings.NewReader(content)); err != nil {
		t.Fatal(err)
	}
	setAge(t, s.path(digest), age)
	return digest
}

func setAge(t *testing.T, path string, age time.Duration) {
	t.Helper()
	then := time.Now().Add(-age)
	if err := os.Chtimes(path, then, then); err != nil {
		t.Fatal(err)
	}
}

func TestCollectDeletesOnlyOldUnreferencedBlobs(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	referencedOld := putBlob(t, s, "referenced by a deployment", 48*time.Hour)
	young := putBlob(t, s, "uploaded for a deployment about to be created", time.Minute)
	unreferencedOld := putBlob(t, s, "of a deleted deployment", 48*time.Hour)
	askedFor := putBlob(t, s, "old, but a deployment being created just asked for it", 48*time.Hour)
	staleUpload := filepath.Join(s.dir, unreferencedOld[:2], uploadPrefix+"123")
	if err := os.WriteFile(staleUpload, []byte("cut short"), 0o600); err != nil {
		t.Fatal(err)
	}
	setAge(t, staleUpload, 48*time.Hour)

	referenced := map[string]bool{referencedOld: true}
	cutoff := time.Now().Add(-time.Hour)
	if !s.Has(askedFor) {
		t.Fatal("Has lost a stored blob")
	}
	done, err := s.Collect(context.Background(), referenced, cutoff)
	if err != nil {
		t.Fatal(err)
	}

	for name, digest := range map[string]string{"referenced": referencedOld, "young": young, "asked for": askedFor} {
		if !s.Has(digest) {
			t.Errorf("the %s blob was deleted", name)
		}
	}
	if s.Has(unreferencedOld) {
		t.Error("the old unreferenced blob was kept")
	}
	if _, err := os.Stat(staleUpload); !os.IsNotExist(err) {
		t.Errorf("the stale upload was kept: %v", err)
	}
	want := Collected{Deleted: 2, FreedBytes: int64(len("of a deleted deployment") + len("cut short")), Young: 2}
	if done != want {
		t.Errorf("collected %+v, want %+v", done, want)
	}

	// A second pass finds nothing more to do.
	again, err := s.Collect(context.Background(), referenced, cutoff)
	if err != nil {
		t.Fatal(err)
	}
	if again.Deleted != 0 {
		t.Errorf("second pass deleted %d", again.Deleted)
	}
}

// Has racing Collect on an old unreferenced blob: whenever Has answers
// true, the blob is still there afterwards, so a deployment created on that
// answer has its files.
func TestCollectNeverDeletesABlobHasJustReported(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for i := range 200 {
		digest := putBlob(t, s, "blob "+strings.Repeat("x", i), 48*time.Hour)
		found := make(chan bool)
		go func() { found <- s.Has(digest) }()
		if _, err := s.Collect(context.Background(), nil, time.Now().Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
		if <-found {
			if _, err := os.Stat(s.path(digest)); err != nil {
				t.Fatalf("round %d: Has reported the blob, then Collect deleted it", i)
			}
		}
	}
}
