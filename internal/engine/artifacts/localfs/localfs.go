// Package localfs is the artifact store in a directory of the engine's data
// dir: one file per blob, named by its digest, under a two-character shard.
package localfs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/artifacts"
)

// Store is an artifacts.Store in a directory. A blob's modification time is
// when it was last written or kept: Sweep's measure of use.
type Store struct {
	dir string
	// Orders Keep against Sweep's deletions: see Sweep.
	mu sync.RWMutex
}

var _ artifacts.Store = (*Store)(nil)

// Open returns the store rooted at dir, creating it.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	return &Store{dir: dir}, nil
}

func (s *Store) path(digest string) (string, error) {
	if !artifacts.ValidDigest(digest) {
		return "", fmt.Errorf("%q is not a sha256 digest (64 lowercase hex characters)", digest)
	}
	return filepath.Join(s.dir, digest[:2], digest), nil
}

// Keep implements artifacts.Store by touching the blob's file.
func (s *Store) Keep(_ context.Context, digest string) (int64, error) {
	path, err := s.path(digest)
	if err != nil {
		return 0, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	now := time.Now()
	if err := os.Chtimes(path, now, now); errors.Is(err, fs.ErrNotExist) {
		return 0, fmt.Errorf("blob %s: %w", digest, artifacts.ErrNotFound)
	} else if err != nil {
		return 0, err
	}
	info, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	return info.Size(), nil
}

// Open implements artifacts.Store.
func (s *Store) Open(_ context.Context, digest string) (io.ReadCloser, error) {
	path, err := s.path(digest)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("blob %s: %w", digest, artifacts.ErrNotFound)
	}
	return f, err
}

// Write implements artifacts.Store: the content goes to a temporary file,
// renamed into place once its digest is checked.
func (s *Store) Write(ctx context.Context, digest string, r io.Reader) error {
	dst, err := s.path(digest)
	if err != nil {
		return err
	}
	if _, err := s.Keep(ctx, digest); err == nil {
		_, err := io.Copy(io.Discard, r)
		return err
	}
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
		return fmt.Errorf("%w: content hashes to %s, not %s: the upload was changed or cut short; upload it again", artifacts.ErrDigestMismatch, got, digest)
	}
	// Rename is atomic: a reader never sees a partial blob.
	return os.Rename(tmp.Name(), dst)
}
