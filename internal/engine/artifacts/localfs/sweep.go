package localfs

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/artifacts"
)

// uploadPrefix names Put's temporary files.
const uploadPrefix = ".upload-"

// Sweep implements artifacts.Store. Each deletion checks the blob's
// modification time again under the lock that Keep takes: Keep either marks
// a blob that is then spared, or finds it gone.
func (s *Store) Sweep(ctx context.Context, keep map[string]bool, cutoff time.Time) (artifacts.Swept, error) {
	var done artifacts.Swept
	shards, err := os.ReadDir(s.dir)
	if err != nil {
		return done, err
	}
	for _, shard := range shards {
		if !shard.IsDir() || len(shard.Name()) != 2 {
			continue
		}
		entries, err := os.ReadDir(filepath.Join(s.dir, shard.Name()))
		if err != nil {
			return done, err
		}
		for _, entry := range entries {
			if err := ctx.Err(); err != nil {
				return done, err
			}
			name := entry.Name()
			isBlob := artifacts.ValidDigest(name)
			if (isBlob && keep[name]) || (!isBlob && !strings.HasPrefix(name, uploadPrefix)) {
				continue
			}
			freed, deleted, err := s.deleteUnusedSince(filepath.Join(s.dir, shard.Name(), name), cutoff)
			if err != nil {
				return done, err
			}
			switch {
			case deleted:
				done.Deleted++
				done.FreedBytes += freed
			case isBlob:
				done.Young++
			}
		}
	}
	return done, nil
}

// deleteUnusedSince removes the file at path unless it was modified (or,
// for a blob, kept) after cutoff.
func (s *Store) deleteUnusedSince(path string, cutoff time.Time) (freed int64, deleted bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	info, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	if !info.ModTime().Before(cutoff) {
		return 0, false, nil
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return 0, false, err
	}
	return info.Size(), true, nil
}
