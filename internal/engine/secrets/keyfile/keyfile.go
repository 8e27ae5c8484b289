// Package keyfile holds ferry's keys: AES-256-GCM keys kept in a 0600 file
// of the data dir (or given to the engine). A key seals values as a
// secrets.Keeper (the data key), or wraps the data key (a key-encryption
// key, envelope encryption), so that the key given to the engine can be
// rotated without sealing every value again.
package keyfile

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/secrets"
)

const keySize = 32 // AES-256

// Keeper is a secrets.Keeper with its key in memory.
type Keeper struct {
	key       []byte
	aead      cipher.AEAD
	digestKey []byte
}

// LoadOrCreateKey reads the key file at path, creating it (mode 0600) with a
// fresh random key when it does not exist.
func LoadOrCreateKey(path string) (*Keeper, error) {
	box, err := LoadKey(path)
	if errors.Is(err, fs.ErrNotExist) {
		return CreateKey(path)
	}
	return box, err
}

// LoadKey reads the key file at path; its error wraps fs.ErrNotExist when
// there is none.
func LoadKey(path string) (*Keeper, error) {
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

// Decode reads a key given as text: the base64 of its 32 bytes, as
// `head -c32 /dev/urandom | base64` prints it. Its errors never repeat the text.
func Decode(text string) (*Keeper, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(text))
	if err != nil {
		return nil, errors.New("the key is not base64: give the base64 of 32 random bytes, such as `head -c32 /dev/urandom | base64` prints")
	}
	if len(key) != keySize {
		return nil, fmt.Errorf("the key holds %d bytes, want %d: give the base64 of 32 random bytes, such as `head -c32 /dev/urandom | base64` prints", len(key), keySize)
	}
	return New(key)
}

// CreateKey writes a fresh random key to a new file at path (mode 0600).
func CreateKey(path string) (*Keeper, error) {
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
	fail := func(err error) (*Keeper, error) {
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

var _ secrets.Keeper = (*Keeper)(nil)

// New returns a Keeper of a 32-byte key.
func New(key []byte) (*Keeper, error) {
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
	return &Keeper{key: bytes.Clone(key), aead: aead, digestKey: digestKey}, nil
}

// NewRandom returns a Keeper of a fresh random key: a new data key.
func NewRandom() (*Keeper, error) {
	key := make([]byte, keySize)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	return New(key)
}

// wrapLabel is the additional data of a wrapped data key: a sealed value
// can never be taken for a wrapped key, nor the other way round.
var wrapLabel = []byte("ferry data key v1")

// Fingerprint names k as a key-encryption key: the same key always has the
// same fingerprint, which says nothing of the key itself.
func (k *Keeper) Fingerprint() string {
	fp, err := hkdf.Key(sha256.New, k.key, nil, "ferry key fingerprint v1", 10)
	if err != nil {
		panic(err) // hkdf fails only for lengths far beyond this one
	}
	return hex.EncodeToString(fp)
}

// Wrap encrypts the key of data under k.
func (k *Keeper) Wrap(data *Keeper) ([]byte, error) {
	nonce := make([]byte, k.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return k.aead.Seal(nonce, nonce, data.key, wrapLabel), nil
}

// Unwrap returns the Keeper of the data key Wrap encrypted under k, or an
// error wrapping secrets.ErrWrongKey.
func (k *Keeper) Unwrap(wrapped []byte) (*Keeper, error) {
	n := k.aead.NonceSize()
	if len(wrapped) < n {
		return nil, fmt.Errorf("%w (the wrapped key is too short)", secrets.ErrWrongKey)
	}
	key, err := k.aead.Open(nil, wrapped[:n], wrapped[n:], wrapLabel)
	if err != nil || len(key) != keySize {
		return nil, secrets.ErrWrongKey
	}
	return New(key)
}

// Digest implements secrets.Keeper with an HMAC-SHA256 under a key derived
// from the encryption key.
func (k *Keeper) Digest(_ context.Context, value []byte) (string, error) {
	mac := hmac.New(sha256.New, k.digestKey)
	mac.Write(value)
	return api.DigestPrefix + hex.EncodeToString(mac.Sum(nil)), nil
}

// Seal implements secrets.Keeper; a random nonce is prepended to the result.
func (k *Keeper) Seal(_ context.Context, plaintext []byte) ([]byte, error) {
	nonce := make([]byte, k.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return k.aead.Seal(nonce, nonce, plaintext, nil), nil
}

// Open implements secrets.Keeper.
func (k *Keeper) Open(_ context.Context, sealed []byte) ([]byte, error) {
	n := k.aead.NonceSize()
	if len(sealed) < n {
		return nil, fmt.Errorf("%w (the sealed value is too short)", secrets.ErrWrongKey)
	}
	plain, err := k.aead.Open(nil, sealed[:n], sealed[n:], nil)
	if err != nil {
		return nil, secrets.ErrWrongKey
	}
	return plain, nil
}
