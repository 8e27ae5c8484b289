// Package envelope is the engine's envelope encryption: every value is sealed under one
// random data key, which the store keeps wrapped under each key-encryption key (a key file,
// or FERRY_SECRET_KEY) an engine may be given. Rotating the given key wraps the data key under
// the new one too, so that nodes on the old key and nodes on the new one both run while they
// are restarted one by one; nothing is sealed again, and digests (keyed by the data key) stay
// the same. The key-encryption keys themselves are never stored.
package envelope

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/secrets"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/secrets/keyfile"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
)

// Store is what the ring reads and writes.
type Store interface {
	store.SecretKeys
	SealedSample(ctx context.Context) ([]byte, error)
}

// Ring is the data key of a store, unwrapped with the key an engine was given.
type Ring struct {
	secrets.Keeper // the data key: seals, opens and digests values

	data        *keyfile.Keeper // the same key, to wrap under another key
	st          Store
	fingerprint string // of the key this engine was given
}

// ErrUnknownKey is returned by Open for a key the store holds no wrap for.
var ErrUnknownKey = errors.New("it is not one of the keys the store's data key is wrapped under")

// Open unwraps the data key of st with kek, named keyName (such as "the key file PATH") in
// errors about storeName. On a store that holds no data key yet, it makes one: for a store of
// an older ferry, whose values were sealed directly under kek, kek itself becomes the data key
// (wrapped under itself), so that nothing needs sealing again and digests stay equal; for a new
// store, a random one.
func Open(ctx context.Context, kek *keyfile.Keeper, st Store, keyName, storeName string) (*Ring, error) {
	sample, err := st.SealedSample(ctx)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", storeName, err)
	}
	keys, err := st.ListSecretKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the keys of %s: %w", storeName, err)
	}
	if len(keys) == 0 {
		if keys, err = addFirstKey(ctx, kek, st, sample, keyName, storeName); err != nil {
			return nil, err
		}
	}
	fingerprint := kek.Fingerprint()
	var wrapped []byte
	known := make([]string, 0, len(keys))
	for _, k := range keys {
		known = append(known, k.Fingerprint)
		if k.Fingerprint == fingerprint {
			wrapped = k.WrappedDataKey
		}
	}
	if wrapped == nil {
		return nil, fmt.Errorf("%s does not match %s: %w (its fingerprint is %s; the store's are %s). "+
			"If a rotation retired it (`ferry key rotate`, then `ferry key retire`), give the engine the key it was rotated to (the --new-key-file of `ferry key rotate`); "+
			"a data dir's key file: put it back from a backup. Then start the engine again",
			keyName, storeName, ErrUnknownKey, fingerprint, strings.Join(known, ", "))
	}
	data, err := kek.Unwrap(wrapped)
	if err != nil {
		return nil, fmt.Errorf("the data key of %s, wrapped under %s (fingerprint %s), cannot be unwrapped: it is damaged; restore the store from a backup", storeName, keyName, fingerprint)
	}
	if sample != nil {
		if _, err := data.Open(ctx, sample); err != nil {
			return nil, wrongKey(keyName, storeName)
		}
	}
	return &Ring{Keeper: data, data: data, st: st, fingerprint: fingerprint}, nil
}

// addFirstKey wraps a store's first data key under kek, and returns the store's keys: another
// node starting at once may have stored its own first, which is then the one.
func addFirstKey(ctx context.Context, kek *keyfile.Keeper, st Store, sample []byte, keyName, storeName string) ([]store.SecretKey, error) {
	data := kek
	if sample != nil {
		// A store of an older ferry: its values are sealed directly under the key.
		if _, err := kek.Open(ctx, sample); err != nil {
			return nil, wrongKey(keyName, storeName)
		}
	} else {
		var err error
		if data, err = keyfile.NewRandom(); err != nil {
			return nil, err
		}
	}
	wrapped, err := kek.Wrap(data)
	if err != nil {
		return nil, err
	}
	err = st.AddSecretKey(ctx, store.SecretKey{Fingerprint: kek.Fingerprint(), WrappedDataKey: wrapped, CreatedAt: now()}, true)
	if err != nil && !errors.Is(err, store.ErrConflict) {
		return nil, fmt.Errorf("store the data key in %s: %w", storeName, err)
	}
	return st.ListSecretKeys(ctx)
}

// now is the time a key is added, as precisely as every store keeps it.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// Reset makes a new random data key, wrapped under kek alone, forgetting every other key: for an
// engine of its own that lost its key file while its store held nothing sealed.
func Reset(ctx context.Context, kek *keyfile.Keeper, st Store, storeName string) (*Ring, error) {
	data, err := keyfile.NewRandom()
	if err != nil {
		return nil, err
	}
	wrapped, err := kek.Wrap(data)
	if err != nil {
		return nil, err
	}
	if err := st.ReplaceSecretKeys(ctx, store.SecretKey{Fingerprint: kek.Fingerprint(), WrappedDataKey: wrapped, CreatedAt: now()}); err != nil {
		return nil, fmt.Errorf("store the data key in %s: %w", storeName, err)
	}
	return &Ring{Keeper: data, data: data, st: st, fingerprint: kek.Fingerprint()}, nil
}

func wrongKey(keyName, storeName string) error {
	return fmt.Errorf("%s does not match %s: the values encrypted in it (env vars and deployments' environments) "+
		"cannot be decrypted with this key. Give the engine the key that belongs to it (a data dir's key file: put it back from a backup) and start it again",
		keyName, storeName)
}

// Fingerprint is the fingerprint of the key this engine was given.
func (r *Ring) Fingerprint() string { return r.fingerprint }

// Keys returns the fingerprints the data key is wrapped under, oldest first.
func (r *Ring) Keys(ctx context.Context) ([]store.SecretKey, error) {
	return r.st.ListSecretKeys(ctx)
}

// ErrKeyInUse is returned when retiring the key this engine runs on.
var ErrKeyInUse = errors.New("the key is the one this engine runs on")

// Add wraps the data key under kek, so that engines given kek run on the store too. Adding a
// key the store has already is not an error.
func (r *Ring) Add(ctx context.Context, kek *keyfile.Keeper) (store.SecretKey, error) {
	wrapped, err := kek.Wrap(r.data)
	if err != nil {
		return store.SecretKey{}, err
	}
	k := store.SecretKey{Fingerprint: kek.Fingerprint(), WrappedDataKey: wrapped, CreatedAt: now()}
	err = r.st.AddSecretKey(ctx, k, false)
	if errors.Is(err, store.ErrConflict) {
		return r.find(ctx, k.Fingerprint)
	}
	return k, err
}

func (r *Ring) find(ctx context.Context, fingerprint string) (store.SecretKey, error) {
	keys, err := r.st.ListSecretKeys(ctx)
	if err != nil {
		return store.SecretKey{}, err
	}
	for _, k := range keys {
		if k.Fingerprint == fingerprint {
			return k, nil
		}
	}
	return store.SecretKey{}, store.ErrNotFound
}

// Retire drops the wrap of fingerprint: engines given that key no longer start. It refuses the
// key this engine runs on (ErrKeyInUse), and the last key (store.ErrLastKey).
func (r *Ring) Retire(ctx context.Context, fingerprint string) error {
	if fingerprint == r.fingerprint {
		return ErrKeyInUse
	}
	return r.st.RetireSecretKey(ctx, fingerprint)
}
