package engine

import (
	"context"
	"errors"
	"fmt"
	"io/fs"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/secrets/envelope"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/secrets/keyfile"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
)

// openSecrets loads the key file of a data dir, creating one only while the
// store holds nothing sealed. A missing or wrong key next to sealed values
// is an error: a new key would start an engine that reports healthy while
// every env var and every deployment's env is unreadable.
func openSecrets(ctx context.Context, keyPath, dbPath string, st store.Store) (*envelope.Ring, error) {
	sample, err := st.SealedSample(ctx)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", dbPath, err)
	}
	box, err := keyfile.LoadKey(keyPath)
	switch {
	case errors.Is(err, fs.ErrNotExist) && sample == nil:
		// Nothing sealed to lose: a new key, and a new data key under it.
		if box, err = keyfile.CreateKey(keyPath); err != nil {
			return nil, err
		}
		return envelope.Reset(ctx, box, st, dbPath)
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("the key file %s is missing, but %s holds values encrypted with it (env vars and deployments' environments); "+
			"the engine does not make a new key, since those values could never be read again. Restore %s from a backup of this data dir and start "+
			"the engine again; to give up those values instead, move %s away (its projects, env vars and deployments go with it)",
			keyPath, dbPath, keyPath, dbPath)
	}
	if err != nil {
		return nil, err
	}
	return unlock(ctx, box, "the key file "+keyPath, dbPath, st)
}

// openGivenKey loads the key given to the engine, by file or as text, which
// it never creates: nodes sharing a store must share one key, made once by
// their operator.
func openGivenKey(ctx context.Context, cfg Config, storeName string, st store.Store) (*envelope.Ring, error) {
	if cfg.SecretKey != "" {
		box, err := keyfile.Decode(cfg.SecretKey)
		if err != nil {
			return nil, fmt.Errorf("FERRY_SECRET_KEY: %w", err)
		}
		return unlock(ctx, box, "the key of FERRY_SECRET_KEY", storeName, st)
	}
	box, err := keyfile.LoadKey(cfg.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("--key-file: %w (make the key once with `head -c32 /dev/urandom > FILE` and give every node the same file)", err)
	}
	return unlock(ctx, box, "the key file "+cfg.KeyFile, storeName, st)
}

// unlock unwraps the store's data key with the key the engine was given
// (see envelope.Open), and forgets the store's unkeyed digests.
func unlock(ctx context.Context, kek *keyfile.Keeper, keyName, storeName string, st store.Store) (*envelope.Ring, error) {
	ring, err := envelope.Open(ctx, kek, st, keyName, storeName)
	if err != nil {
		return nil, err
	}
	if err := st.ForgetUnkeyedDigests(ctx, api.DigestPrefix); err != nil {
		return nil, fmt.Errorf("update %s: %w", storeName, err)
	}
	return ring, nil
}
