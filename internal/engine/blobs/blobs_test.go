package blobs

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func digestOf(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func TestPutAndCopy(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	d := digestOf("print('hi')\n")
	if s.Has(d) {
		t.Fatal("empty store has a blob")
	}
	if err := s.Put(d, strings.NewReader("print('hi')\n")); err != nil {
		t.Fatal(err)
	}
	if !s.Has(d) {
		t.Fatal("blob missing after Put")
	}
	out := filepath.Join(t.TempDir(), "app.py")
	if err := s.CopyTo(d, out, 0o644); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(out)
	if string(got) != "print('hi')\n" {
		t.Fatalf("copied %q", got)
	}
}

func TestPutRejectsWrongContent(t *testing.T) {
	s, _ := Open(t.TempDir())
	d := digestOf("one")
	if err := s.Put(d, strings.NewReader("two")); err == nil {
		t.Fatal("stored content under another digest")
	}
	if s.Has(d) {
		t.Fatal("rejected blob is present")
	}
	if err := s.Put("../etc/passwd", strings.NewReader("x")); err == nil {
		t.Fatal("accepted a path as digest")
	}
}
