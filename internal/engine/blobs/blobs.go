// Package blobs stores uploaded source files by the sha256 of their content.
package blobs

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"time"
)

var digestPattern = regexp.MustCompile(`^[0-9a-f]{64}$`)

// ValidDigest reports whether d is a lowercase hex sha256.
func ValidDigest(d string) bool { return digestPattern.MatchString(d) }

// ErrDigestMismatch means uploaded content does not hash to the digest it
// was sent under: an input error, unlike the I/O errors Put may return.
var ErrDigestMismatch = errors.New("content does not match its digest")

// Store is a directory of blobs named by digest.
type Store struct {
	dir string
	// Orders Has against Collect's deletions: see Collect.
	mu sync.RWMutex
}

// Open returns the store rooted at dir, creating it.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	return &Store{dir: dir}, nil
}

func (s *Store) path(digest string) string {
	return filepath.Join(s.dir, digest[:2], digest)
}

// Has reports whether the blob is stored, and marks it as just used so that
// Collect keeps it for a grace period: long enough for the deployment that
// asked to be created and to reference it.
func (s *Store) Has(digest string) bool {
	if !ValidDigest(digest) {
		return false
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	now := time.Now()
	err := os.Chtimes(s.path(digest), now, now)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		_, err = os.Stat(s.path(digest))
	}
	return err == nil
}

// Size returns the size of a stored blob in bytes.
func (s *Store) Size(digest string) (int64, error) {
	if !ValidDigest(digest) {
		return 0, errors.New("invalid digest")
	}
	info, err := os.Stat(s.path(digest))
	if err != nil {
		return 0, err
	}
	return info.Size(), nil
}

// Put stores content read from r, refusing it unless it hashes to digest.
func (s *Store) Put(digest string, r io.Reader) error {
	if !ValidDigest(digest) {
		return fmt.Errorf("%q is not a sha256 digest (64 lowercase hex characters)", digest)
	}
	if s.Has(digest) {
		_, err := io.Copy(io.Discard, r)
		return err
	}
	dst := s.path(digest)
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), uploadPrefix+"*")
	if err != nil {
		return err
	}
	// Gone once renamed into place; otherwise a best-effort cleanup.
	defer func() { _ = os.Remove(tmp.Name()) }()
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(tmp, h), r); err != nil {
		_ = tmp.Close() // the copy error is the one to report
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != digest {
		return fmt.Errorf("%w: content hashes to %s, not %s: the upload was changed or cut short; upload it again", ErrDigestMismatch, got, digest)
	}
	// Rename is atomic: a reader never sees a partial blob.
	return os.Rename(tmp.Name(), dst)
}

// CopyTo writes the blob to path with the given permission bits.
func (s *Store) CopyTo(digest, path string, mode fs.FileMode) error {
	if !ValidDigest(digest) {
		return errors.New("invalid digest")
	}
	src, err := os.Open(s.path(digest))
	if err != nil {
		return err
	}
	defer func() { _ = src.Close() }() // read-only
	dst, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		_ = dst.Close() // the copy error is the one to report
		return err
	}
	return dst.Close()
}
