// Package secrets encrypts values at rest (env vars, frozen deployment envs)
// with a key kept in a 0600 file of the data dir.
package secrets

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
)

const keySize = 32 // AES-256

// Box seals and opens values with one key.
type Box struct {
	aead      cipher.AEAD
	digestKey []byte
}

// LoadOrCreateKey reads the key file at path, creating it (mode 0600) with a
// fresh random key when it does not exist.
func LoadOrCreateKey(path string) (*Box, error) {
	box, err := LoadKey(path)
	if errors.Is(err, fs.ErrNotExist) {
		return CreateKey(path)
	}
	return box, err
}

// LoadKey reads the key file at path; its error wraps fs.ErrNotExist when
// there is none.
func LoadKey(path string) (*Box, error) {
	key, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read key file %s: %w", path, err)
	}
	if len(key) != keySize {
		return nil, fmt.Errorf("key file %s holds %d bytes, want %d: it is damaged; restore it from a backup (values encrypted with it cannot be read without it)", path, len(key), keySize)
	}
	if info, err := os.Stat(path); err == nil && info.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(path, 0o600); err != nil {
			return nil, err
		}
	}
	return New(key)
}

// CreateKey writes a fresh random key to a new file at path (mode 0600).
func CreateKey(path string) (*Box, error) {
	key := make([]byte, keySize)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	// O_EXCL: never overwrite a key another process just wrote.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create key file %s: %w", path, err)
	}
	// Nothing is sealed with the key yet: on failure leave no partial key
	// file behind, which the next start would take for a damaged one.
	fail := func(err error) (*Box, error) {
		_ = f.Close()
		_ = os.Remove(path)
		return nil, fmt.Errorf("write key file %s: %w", path, err)
	}
	if _, err := f.Write(key); err != nil {
		return fail(err)
	}
	// On disk before anything is sealed with it.
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		_ = os.Remove(path)
		return nil, fmt.Errorf("write key file %s: %w", path, err)
	}
	return New(key)
}

// New returns a Box for a 32-byte key.
func New(key []byte) (*Box, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	// A key of its own for digests, so that they reveal nothing of the
	// encryption key.
	digestKey, err := hkdf.Key(sha256.New, key, nil, "ferry value digest v1", sha256.Size)
	if err != nil {
		return nil, err
	}
	return &Box{aead: aead, digestKey: digestKey}, nil
}

// Digest returns api.DigestPrefix and the hex HMAC-SHA256 of value: the same
// value gives the same digest under the same key, and without the key a
// digest does not help to guess the value.
func (b *Box) Digest(value []byte) string {
	mac := hmac.New(sha256.New, b.digestKey)
	mac.Write(value)
	return api.DigestPrefix + hex.EncodeToString(mac.Sum(nil))
}

// Seal encrypts plaintext; the nonce is prepended to the result.
func (b *Box) Seal(plaintext []byte) []byte {
	nonce := make([]byte, b.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return b.aead.Seal(nonce, nonce, plaintext, nil)
}

// Open decrypts what Seal produced.
func (b *Box) Open(sealed []byte) ([]byte, error) {
	n := b.aead.NonceSize()
	if len(sealed) < n {
		return nil, errors.New("sealed value too short")
	}
	plain, err := b.aead.Open(nil, sealed[:n], sealed[n:], nil)
	if err != nil {
		return nil, errors.New("cannot decrypt a stored secret: the key file does not match the store")
	}
	return plain, nil
}
