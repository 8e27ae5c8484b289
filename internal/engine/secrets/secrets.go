// Package secrets defines the secret keeper: what encrypts values at rest
// (env vars, deployments' frozen environments) and digests them for drift
// detection. Implementations live in packages of their own (keyfile, the
// embedded default: a key in a file of the data dir); secretstest holds the
// conformance suite every one passes.
package secrets

import (
	"context"
	"errors"
)

// ErrWrongKey is returned by Open for a value sealed under another key, or damaged.
var ErrWrongKey = errors.New("cannot decrypt a stored secret: the key does not match the store")

// Keeper seals and opens values, and digests them, under one key.
type Keeper interface {
	// Seal encrypts plaintext; sealing a value twice gives two different results.
	Seal(ctx context.Context, plaintext []byte) ([]byte, error)
	// Open decrypts what Seal produced, or returns ErrWrongKey.
	Open(ctx context.Context, sealed []byte) ([]byte, error)
	// Digest returns api.DigestPrefix and a keyed digest of value: the same
	// value gives the same digest under the same key, and without the key a
	// digest does not help to guess the value.
	Digest(ctx context.Context, value []byte) (string, error)
}
