package engine

import (
	"context"
	"errors"
	"fmt"
	"io/fs"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/secrets"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/secrets/keyfile"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
)

// openSecrets loads the key file of a data dir, creating one only while the
// store holds nothing sealed. A missing or wrong key next to sealed values
// is an error: a new key would start an engine that reports healthy while
// every env var and every deployment's env is unreadable.
func openSecrets(ctx context.Context, keyPath, dbPath string, st store.Store) (secrets.Keeper, error) {
	sample, err := st.SealedSample(ctx)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", dbPath, err)
	}
	box, err := keyfile.LoadKey(keyPath)
	switch {
	case errors.Is(err, fs.ErrNotExist) && sample == nil:
		box, err = keyfile.CreateKey(keyPath)
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("the key file %s is missing, but %s holds values encrypted with it (env vars and deployments' environments); "+
			"the engine does not make a new key, since those values could never be read again. Restore %s from a backup of this data dir and start "+
			"the engine again; to give up those values instead, move %s away (its projects, env vars and deployments go with it)",
			keyPath, dbPath, keyPath, dbPath)
	}
	if err != nil {
		return nil, err
	}
	return checkKey(ctx, box, sample, "the key file "+keyPath, dbPath, st)
}

// openGivenKey loads the key given to the engine, by file or as text, which
// it never creates: nodes sharing a store must share one key, made once by
// their operator.
func openGivenKey(ctx context.Context, cfg Config, storeName string, st store.Store) (secrets.Keeper, error) {
	sample, err := st.SealedSample(ctx)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", storeName, err)
	}
	if cfg.SecretKey != "" {
		box, err := keyfile.Decode(cfg.SecretKey)
		if err != nil {
			return nil, fmt.Errorf("FERRY_SECRET_KEY: %w", err)
		}
		return checkKey(ctx, box, sample, "the key of FERRY_SECRET_KEY", storeName, st)
	}
	box, err := keyfile.LoadKey(cfg.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("--key-file: %w (make the key once with `head -c32 /dev/urandom > FILE` and give every node the same file)", err)
	}
	return checkKey(ctx, box, sample, "the key file "+cfg.KeyFile, storeName, st)
}

// checkKey refuses a key that does not open sample, a value the store holds
// sealed, and forgets the store's unkeyed digests.
func checkKey(ctx context.Context, box *keyfile.Keeper, sample []byte, keyName, storeName string, st store.Store) (secrets.Keeper, error) {
	if sample != nil {
		if _, err := box.Open(ctx, sample); err != nil {
			return nil, fmt.Errorf("%s does not match %s: the values encrypted in it (env vars and deployments' environments) "+
				"cannot be decrypted with this key. Give the engine the key that belongs to it (a data dir's key file: put it back from a backup) and start it again", keyName, storeName)
		}
	}
	if err := st.ForgetUnkeyedDigests(ctx, api.DigestPrefix); err != nil {
		return nil, fmt.Errorf("update %s: %w", storeName, err)
	}
	return box, nil
}
