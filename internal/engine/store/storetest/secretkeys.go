package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
)

func testSecretKeysFirstAddAndRetire(t *testing.T, s store.Store, another func(*testing.T) store.Store) {
	ctx := context.Background()
	if keys, err := s.ListSecretKeys(ctx); err != nil || len(keys) != 0 {
		t.Fatalf("keys of a new store: %v, %v", keys, err)
	}
	created := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	old := store.SecretKey{Fingerprint: "aaaa", WrappedDataKey: []byte("wrapped under a"), CreatedAt: created}
	if err := s.AddSecretKey(ctx, old, true); err != nil {
		t.Fatal(err)
	}
	if err := s.AddSecretKey(ctx, store.SecretKey{Fingerprint: "cccc", WrappedDataKey: []byte("x"), CreatedAt: created}, true); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("a second first key: %v, want ErrConflict", err)
	}
	if err := s.AddSecretKey(ctx, store.SecretKey{Fingerprint: "aaaa", WrappedDataKey: []byte("x"), CreatedAt: created}, false); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("a fingerprint stored twice: %v, want ErrConflict", err)
	}
	if err := s.RetireSecretKey(ctx, "aaaa"); !errors.Is(err, store.ErrLastKey) {
		t.Fatalf("retiring the last key: %v, want ErrLastKey", err)
	}
	rotated := store.SecretKey{Fingerprint: "bbbb", WrappedDataKey: []byte("wrapped under b"), CreatedAt: created.Add(time.Hour)}
	if err := another(t).AddSecretKey(ctx, rotated, false); err != nil {
		t.Fatal(err)
	}
	keys, err := s.ListSecretKeys(ctx)
	if err != nil || len(keys) != 2 || keys[0].Fingerprint != "aaaa" || keys[1].Fingerprint != "bbbb" ||
		!bytes.Equal(keys[1].WrappedDataKey, rotated.WrappedDataKey) || !keys[1].CreatedAt.Equal(rotated.CreatedAt) {
		t.Fatalf("keys: %+v, %v", keys, err)
	}
	if err := s.RetireSecretKey(ctx, "dddd"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("retiring an unknown key: %v, want ErrNotFound", err)
	}
	if err := s.RetireSecretKey(ctx, "aaaa"); err != nil {
		t.Fatal(err)
	}
	if keys, err := s.ListSecretKeys(ctx); err != nil || len(keys) != 1 || keys[0].Fingerprint != "bbbb" {
		t.Fatalf("keys after retiring aaaa: %+v, %v", keys, err)
	}
	if err := s.AddSecretKey(ctx, old, false); err != nil {
		t.Fatal(err)
	}
	fresh := store.SecretKey{Fingerprint: "eeee", WrappedDataKey: []byte("a new data key"), CreatedAt: created}
	if err := s.ReplaceSecretKeys(ctx, fresh); err != nil {
		t.Fatal(err)
	}
	if keys, err := s.ListSecretKeys(ctx); err != nil || len(keys) != 1 || keys[0].Fingerprint != "eeee" || !bytes.Equal(keys[0].WrappedDataKey, fresh.WrappedDataKey) {
		t.Fatalf("keys after replacing them: %+v, %v", keys, err)
	}
}

// testFirstSecretKeyRaceHasOneWinner starts nodes with different keys on a new store at
// once: exactly one data key must be stored, or values sealed by one node would be
// unreadable by the others.
func testFirstSecretKeyRaceHasOneWinner(t *testing.T, s store.Store, another func(*testing.T) store.Store) {
	ctx := context.Background()
	nodes := []store.Store{s, another(t), another(t), another(t)}
	var wg sync.WaitGroup
	results := make([]error, len(nodes))
	for i, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = n.AddSecretKey(ctx, store.SecretKey{Fingerprint: fmt.Sprint("key-", i), WrappedDataKey: []byte{byte(i)}, CreatedAt: time.Now()}, true)
		}()
	}
	wg.Wait()
	won := 0
	for i, err := range results {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, store.ErrConflict):
			t.Errorf("node %d: %v, want nil or ErrConflict", i, err)
		}
	}
	keys, err := s.ListSecretKeys(ctx)
	if won != 1 || err != nil || len(keys) != 1 {
		t.Fatalf("%d nodes stored a first key; keys %+v, %v; want exactly one", won, keys, err)
	}
}
