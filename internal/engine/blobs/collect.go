package blobs

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// uploadPrefix names Put's temporary files.
const uploadPrefix = ".upload-"

// Collected counts what one Collect did.
type Collected struct {
	Deleted    int   // unreferenced blobs and stale uploads removed
	FreedBytes int64 // their size
	Young      int   // unreferenced blobs kept because they were used after the cutoff
}

// Collect deletes the blobs that referenced does not name and that nobody
// has stored or asked for (Has) since cutoff, and the temporary files of
// uploads that stopped before cutoff.
//
// A deployment created meanwhile keeps its blobs: creating one calls Has on
// each of its blobs, which marks them used, before it stores the deployment
// that references them. So list referenced before calling Collect, with a
// cutoff well before the call (a grace period). Each deletion checks the
// mark again under the lock that Has takes: Has either marks a blob that is
// then kept, or finds it gone and has it uploaded again.
func (s *Store) Collect(ctx context.Context, referenced map[string]bool, cutoff time.Time) (Collected, error) {
	var done Collected
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
			isBlob := ValidDigest(name)
			if (isBlob && referenced[name]) || (!isBlob && !strings.HasPrefix(name, uploadPrefix)) {
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
// for a blob, marked by Has) after cutoff.
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
