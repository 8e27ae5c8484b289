package secrets

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestKeyFileRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secret.key")
	box, err := LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, want 0600", info.Mode().Perm())
	}
	sealed := box.Seal([]byte("s3cret"))
	if bytes.Contains(sealed, []byte("s3cret")) {
		t.Fatal("sealed value contains the plaintext")
	}
	again, err := LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := again.Open(sealed)
	if err != nil || string(plain) != "s3cret" {
		t.Fatalf("Open = %q, %v", plain, err)
	}
}

func TestOpenWithOtherKeyFails(t *testing.T) {
	a, _ := LoadOrCreateKey(filepath.Join(t.TempDir(), "a.key"))
	b, _ := LoadOrCreateKey(filepath.Join(t.TempDir(), "b.key"))
	if _, err := b.Open(a.Seal([]byte("x"))); err == nil {
		t.Fatal("opened a value sealed with another key")
	}
}

func TestDamagedKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secret.key")
	if err := os.WriteFile(path, []byte("short"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateKey(path); err == nil {
		t.Fatal("accepted a damaged key file")
	}
}

func TestLoadKeyDoesNotCreate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secret.key")
	if _, err := LoadKey(path); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), path) {
		t.Fatalf("LoadKey of a missing file: %v", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("LoadKey created a key file")
	}
	if _, err := CreateKey(path); err != nil {
		t.Fatal(err)
	}
	if _, err := CreateKey(path); err == nil {
		t.Fatal("CreateKey overwrote an existing key")
	}
}

func TestDigestIsKeyed(t *testing.T) {
	a, _ := LoadOrCreateKey(filepath.Join(t.TempDir(), "a.key"))
	b, _ := LoadOrCreateKey(filepath.Join(t.TempDir(), "b.key"))
	da := a.Digest([]byte("s3cret"))
	if !strings.HasPrefix(da, "hmac-sha256:") || len(da) != len("hmac-sha256:")+64 {
		t.Fatalf("digest %q", da)
	}
	if da != a.Digest([]byte("s3cret")) || da == a.Digest([]byte("s3cret2")) || da == b.Digest([]byte("s3cret")) {
		t.Error("a digest must depend on the value and the key, and only on them")
	}
}
