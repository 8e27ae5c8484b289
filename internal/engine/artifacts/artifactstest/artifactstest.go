// Package artifactstest is the conformance suite of artifacts.Store: every
// implementation runs it, so that the engine behaves the same on each.
package artifactstest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/artifacts"
)

// Run runs the suite against the stores open gives, each new and empty.
// resolution is the granularity of the times the store keeps (a local file
// system's is fine; an object store's is often a second): the suite waits
// that long where the order of two moments matters.
func Run(t *testing.T, open func(t *testing.T) artifacts.Store, resolution time.Duration) {
	t.Run("WriteKeepOpen", func(t *testing.T) { testWriteKeepOpen(t, open(t)) })
	t.Run("RefusedContentLeavesNothing", func(t *testing.T) { testRefusedContentLeavesNothing(t, open(t)) })
	t.Run("Absent", func(t *testing.T) { testAbsent(t, open(t)) })
	t.Run("SweepSparesKeptAndYoungBlobs", func(t *testing.T) { testSweep(t, open(t), resolution) })
	t.Run("LargeBlob", func(t *testing.T) { testLargeBlob(t, open(t)) })
	t.Run("FailedWriteLeavesNothing", func(t *testing.T) { testFailedWriteLeavesNothing(t, open(t)) })
}

// LargeSize is big enough for a store to write in parts (an S3 store's
// multipart upload), yet quick to move in a test.
const LargeSize = 20 << 20

// Content yields size bytes that are the same for the same seed and differ
// between seeds, without holding them in memory.
func Content(seed uint64, size int64) io.Reader {
	return io.LimitReader(rand.NewChaCha8(seedBytes(seed)), size)
}

func seedBytes(seed uint64) (b [32]byte) {
	binary.LittleEndian.PutUint64(b[:], seed)
	return b
}

// ContentDigest is the digest of Content(seed, size).
func ContentDigest(t testing.TB, seed uint64, size int64) string {
	t.Helper()
	h := sha256.New()
	if _, err := io.Copy(h, Content(seed, size)); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func testLargeBlob(t *testing.T, s artifacts.Store) {
	ctx := context.Background()
	d := ContentDigest(t, 1, LargeSize)
	if err := s.Write(ctx, d, Content(1, LargeSize)); err != nil {
		t.Fatal(err)
	}
	if size, err := s.Keep(ctx, d); err != nil || size != LargeSize {
		t.Fatalf("Keep = %d, %v; want %d", size, err, LargeSize)
	}
	r, err := s.Open(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	n, err := io.Copy(h, r)
	if err := errors.Join(err, r.Close()); err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); n != LargeSize || got != d {
		t.Fatalf("read %d bytes hashing to %s, want %d hashing to %s", n, got, LargeSize, d)
	}
}

// failingReader yields its content, then an error instead of the end.
type failingReader struct{ r io.Reader }

var errCutShort = errors.New("connection reset by the test")

func (f failingReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		return n, errCutShort
	}
	return n, err
}

// A write whose content is cut short, or ends with another digest, stores
// nothing: small blobs and large ones alike.
func testFailedWriteLeavesNothing(t *testing.T, s artifacts.Store) {
	ctx := context.Background()
	for _, size := range []int64{1 << 10, LargeSize} {
		d := ContentDigest(t, 2, size)
		if err := s.Write(ctx, d, failingReader{Content(2, size/2)}); !errors.Is(err, errCutShort) {
			t.Errorf("%d bytes cut short: Write returned %v, want the reader's error", size, err)
		}
		if Stored(t, s, d) {
			t.Errorf("%d bytes cut short: half of the blob is stored", size)
		}
		if err := s.Write(ctx, d, Content(3, size)); !errors.Is(err, artifacts.ErrDigestMismatch) {
			t.Errorf("%d bytes of other content: Write returned %v, want ErrDigestMismatch", size, err)
		}
		if Stored(t, s, d) {
			t.Errorf("%d bytes of other content: stored under the digest", size)
		}
	}
}

// Digest returns the sha256 digest of content, as stores name it.
func Digest(content string) string {
	sum := sha256.Sum256([]byte(content))
	return hex.EncodeToString(sum[:])
}

// Write stores content under its digest and returns the digest.
func Write(t *testing.T, s artifacts.Store, content string) string {
	t.Helper()
	d := Digest(content)
	if err := s.Write(context.Background(), d, strings.NewReader(content)); err != nil {
		t.Fatal(err)
	}
	return d
}

// Stored reports whether s holds the blob, failing the test on any error but ErrNotFound.
func Stored(t *testing.T, s artifacts.Store, digest string) bool {
	t.Helper()
	_, err := s.Keep(context.Background(), digest)
	if err != nil && !errors.Is(err, artifacts.ErrNotFound) {
		t.Fatal(err)
	}
	return err == nil
}

func testWriteKeepOpen(t *testing.T, s artifacts.Store) {
	ctx := context.Background()
	content := "print('hi')\n"
	d := Write(t, s, content)
	size, err := s.Keep(ctx, d)
	if err != nil || size != int64(len(content)) {
		t.Fatalf("Keep = %d, %v; want %d", size, err, len(content))
	}
	r, err := s.Open(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(r)
	if err := errors.Join(err, r.Close()); err != nil {
		t.Fatal(err)
	}
	if string(got) != content {
		t.Fatalf("read %q, want %q", got, content)
	}
	// Writing it again is harmless.
	if err := s.Write(ctx, d, strings.NewReader(content)); err != nil {
		t.Fatalf("second write: %v", err)
	}
}

func testRefusedContentLeavesNothing(t *testing.T, s artifacts.Store) {
	ctx := context.Background()
	d := Digest("one")
	if err := s.Write(ctx, d, strings.NewReader("two")); !errors.Is(err, artifacts.ErrDigestMismatch) {
		t.Fatalf("content under another digest: %v, want ErrDigestMismatch", err)
	}
	if Stored(t, s, d) {
		t.Fatal("the refused blob is stored")
	}
	for _, bad := range []string{"../etc/passwd", strings.ToUpper(Digest("x")), ""} {
		if err := s.Write(ctx, bad, bytes.NewReader(nil)); err == nil {
			t.Errorf("accepted %q as a digest", bad)
		}
	}
}

func testAbsent(t *testing.T, s artifacts.Store) {
	ctx := context.Background()
	d := Digest("never written")
	if _, err := s.Keep(ctx, d); !errors.Is(err, artifacts.ErrNotFound) {
		t.Errorf("Keep of an absent blob: %v, want ErrNotFound", err)
	}
	if _, err := s.Open(ctx, d); !errors.Is(err, artifacts.ErrNotFound) {
		t.Errorf("Open of an absent blob: %v, want ErrNotFound", err)
	}
}

func testSweep(t *testing.T, s artifacts.Store, resolution time.Duration) {
	ctx := context.Background()
	referenced := Write(t, s, "referenced by a deployment")
	unreferenced := Write(t, s, "of a deleted deployment")
	asked := Write(t, s, "old, but a deployment being created just asked for it")
	time.Sleep(resolution)
	cutoff := time.Now()
	time.Sleep(resolution)
	if _, err := s.Keep(ctx, asked); err != nil {
		t.Fatal(err)
	}
	young := Write(t, s, "uploaded for a deployment about to be created")

	swept, err := s.Sweep(ctx, map[string]bool{referenced: true}, cutoff)
	if err != nil {
		t.Fatal(err)
	}
	for name, d := range map[string]string{"referenced": referenced, "young": young, "kept": asked} {
		if !Stored(t, s, d) {
			t.Errorf("the %s blob was deleted", name)
		}
	}
	if Stored(t, s, unreferenced) {
		t.Error("the old unreferenced blob was spared")
	}
	if swept.Deleted != 1 || swept.FreedBytes != int64(len("of a deleted deployment")) || swept.Young != 2 {
		t.Errorf("swept %+v, want 1 deleted of %d bytes, 2 young", swept, len("of a deleted deployment"))
	}
	// Once nothing is referenced or young, everything goes.
	if _, err := s.Sweep(ctx, nil, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{referenced, young, asked} {
		if Stored(t, s, d) {
			t.Errorf("blob %s survived a sweep that spares nothing", d)
		}
	}
}
