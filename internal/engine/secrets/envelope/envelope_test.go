package envelope_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/secrets/envelope"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/secrets/keyfile"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store/sqlite"
)

func openStore(t *testing.T) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "ferry.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

func newKey(t *testing.T) *keyfile.Keeper {
	t.Helper()
	k, err := keyfile.NewRandom()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// storeSecret stores one env var sealed by keeper, as the engine would.
func storeSecret(t *testing.T, st store.Store, seal func(context.Context, []byte) ([]byte, error)) {
	t.Helper()
	ctx := context.Background()
	if err := st.CreateProject(ctx, &store.Project{ID: "prj", Name: "p", Framework: "auto", RootDirectory: "."}, "p.localhost"); err != nil {
		t.Fatal(err)
	}
	sealed, err := seal(ctx, []byte("s3cret"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if err := st.CreateEnvVar(ctx, &store.EnvVar{ID: "env", ProjectID: "prj", Key: "K", SealedValue: sealed, Targets: []string{"production"}, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
}

// A new store gets a random data key: not the key given, so that retiring that key later
// leaves it nothing to open.
func TestNewStoreGetsARandomDataKey(t *testing.T) {
	ctx := context.Background()
	st, kek := openStore(t), newKey(t)
	ring, err := envelope.Open(ctx, kek, st, "the key", "the store")
	if err != nil {
		t.Fatal(err)
	}
	storeSecret(t, st, ring.Seal)
	if _, err := kek.Open(ctx, mustSample(t, st)); err == nil {
		t.Fatal("a value of a new store opens with the key-encryption key itself")
	}
	again, err := envelope.Open(ctx, kek, st, "the key", "the store")
	if err != nil {
		t.Fatal(err)
	}
	if plain, err := again.Open(ctx, mustSample(t, st)); err != nil || string(plain) != "s3cret" {
		t.Fatalf("after a restart: %q, %v", plain, err)
	}
}

// A store of an older ferry, whose values are sealed directly under the key, keeps it as its
// data key: the values open and their digests stay what they were.
func TestOlderStoreKeepsItsKeyAsDataKey(t *testing.T) {
	ctx := context.Background()
	st, kek := openStore(t), newKey(t)
	storeSecret(t, st, kek.Seal)
	before, _ := kek.Digest(ctx, []byte("s3cret"))
	if _, err := envelope.Open(ctx, newKey(t), st, "the other key", "the store"); err == nil || !strings.Contains(err.Error(), "the other key does not match the store") {
		t.Fatalf("another key on an older store: %v", err)
	}
	if keys, _ := st.ListSecretKeys(ctx); len(keys) != 0 {
		t.Fatalf("a wrong key stored a data key: %+v", keys)
	}
	ring, err := envelope.Open(ctx, kek, st, "the key", "the store")
	if err != nil {
		t.Fatal(err)
	}
	after, _ := ring.Digest(ctx, []byte("s3cret"))
	if plain, err := ring.Open(ctx, mustSample(t, st)); err != nil || string(plain) != "s3cret" || after != before {
		t.Fatalf("open %q, %v; digest %s, was %s", plain, err, after, before)
	}
}

func TestRotateAndRetire(t *testing.T) {
	ctx := context.Background()
	st, oldKey, newKeyEncryptionKey := openStore(t), newKey(t), newKey(t)
	ring, err := envelope.Open(ctx, oldKey, st, "the old key", "the store")
	if err != nil {
		t.Fatal(err)
	}
	storeSecret(t, st, ring.Seal)
	if _, err := ring.Add(ctx, newKeyEncryptionKey); err != nil {
		t.Fatal(err)
	}
	onNew, err := envelope.Open(ctx, newKeyEncryptionKey, st, "the new key", "the store")
	if err != nil {
		t.Fatal(err)
	}
	if plain, err := onNew.Open(ctx, mustSample(t, st)); err != nil || string(plain) != "s3cret" {
		t.Fatalf("through the new key: %q, %v", plain, err)
	}
	if err := onNew.Retire(ctx, onNew.Fingerprint()); !errors.Is(err, envelope.ErrKeyInUse) {
		t.Fatalf("retiring the key in use: %v", err)
	}
	if err := onNew.Retire(ctx, oldKey.Fingerprint()); err != nil {
		t.Fatal(err)
	}
	_, err = envelope.Open(ctx, oldKey, st, "the old key", "the store")
	if !errors.Is(err, envelope.ErrUnknownKey) || !strings.Contains(err.Error(), newKeyEncryptionKey.Fingerprint()) || !strings.Contains(err.Error(), "ferry key rotate") {
		t.Fatalf("the retired key: %v; want ErrUnknownKey naming the store's key and what to do", err)
	}
}

func mustSample(t *testing.T, st store.Store) []byte {
	t.Helper()
	sample, err := st.SealedSample(context.Background())
	if err != nil || sample == nil {
		t.Fatalf("sample: %v, %v", sample, err)
	}
	return sample
}
