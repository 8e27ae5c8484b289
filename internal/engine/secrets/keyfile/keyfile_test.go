package keyfile

import (
	"context"
	"encoding/base64"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/secrets"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/secrets/secretstest"
)

func TestConformance(t *testing.T) {
	secretstest.Run(t, func(t *testing.T) secrets.Keeper {
		k, err := CreateKey(filepath.Join(t.TempDir(), "secret.key"))
		if err != nil {
			t.Fatal(err)
		}
		return k
	})
}

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
	sealed, err := box.Seal(context.Background(), []byte("s3cret"))
	if err != nil {
		t.Fatal(err)
	}
	again, err := LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := again.Open(context.Background(), sealed)
	if err != nil || string(plain) != "s3cret" {
		t.Fatalf("Open = %q, %v", plain, err)
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

// A key given as text opens what the same key in a file sealed; bad text is
// refused without being repeated.
func TestDecode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secret.key")
	fromFile, err := CreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := fromFile.Seal(context.Background(), []byte("s3cret"))
	if err != nil {
		t.Fatal(err)
	}
	fromText, err := Decode(base64.StdEncoding.EncodeToString(raw) + "\n")
	if err != nil {
		t.Fatal(err)
	}
	if plain, err := fromText.Open(context.Background(), sealed); err != nil || string(plain) != "s3cret" {
		t.Fatalf("Open = %q, %v", plain, err)
	}
	for _, bad := range []string{"not-base64-secret!", base64.StdEncoding.EncodeToString([]byte("short-secret"))} {
		if _, err := Decode(bad); err == nil || strings.Contains(err.Error(), bad) {
			t.Errorf("Decode(%q) = %v; want an error that does not repeat it", bad, err)
		}
	}
}

func TestWrapUnwrap(t *testing.T) {
	ctx := context.Background()
	kek, err := NewRandom()
	if err != nil {
		t.Fatal(err)
	}
	data, err := NewRandom()
	if err != nil {
		t.Fatal(err)
	}
	wrapped, err := kek.Wrap(data)
	if err != nil {
		t.Fatal(err)
	}
	unwrapped, err := kek.Unwrap(wrapped)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := data.Seal(ctx, []byte("s3cret"))
	if err != nil {
		t.Fatal(err)
	}
	if plain, err := unwrapped.Open(ctx, sealed); err != nil || string(plain) != "s3cret" {
		t.Fatalf("a value sealed under the data key, opened with it unwrapped: %q, %v", plain, err)
	}
	want, _ := data.Digest(ctx, []byte("s3cret"))
	if got, _ := unwrapped.Digest(ctx, []byte("s3cret")); got != want {
		t.Errorf("digest under the unwrapped key %s, want %s", got, want)
	}
	other, _ := NewRandom()
	if _, err := other.Unwrap(wrapped); !errors.Is(err, secrets.ErrWrongKey) {
		t.Errorf("unwrapping with another key: %v, want ErrWrongKey", err)
	}
	// A value sealed under the key is no wrapped key, even of the right size.
	sealedKey, _ := kek.Seal(ctx, make([]byte, keySize))
	if _, err := kek.Unwrap(sealedKey); !errors.Is(err, secrets.ErrWrongKey) {
		t.Errorf("unwrapping a sealed value: %v, want ErrWrongKey", err)
	}
	if kek.Fingerprint() == other.Fingerprint() || kek.Fingerprint() != (&Keeper{key: kek.key}).Fingerprint() || len(kek.Fingerprint()) != 20 {
		t.Errorf("fingerprints %s, %s: want 20 hex characters, one per key", kek.Fingerprint(), other.Fingerprint())
	}
}
