package client

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// digestCache remembers the digests of a source tree's files by what stat says of them, as
// git's index does, so that planning an unchanged tree reads no file: a file whose size,
// inode, modification and change times are those recorded keeps its digest. Any write to a
// file changes its change time, which no tool can set back. The cache is only a cache: a
// cache that cannot be read or written is worked without.
type digestCache struct {
	path    string
	entries map[string]cacheEntry // by the real path of a file
	used    map[string]cacheEntry // what this walk saw, saved for the next one
}

type cacheEntry struct {
	Size    int64  `json:"size"`
	Inode   uint64 `json:"inode"`
	MtimeNS int64  `json:"mtime_ns"`
	CtimeNS int64  `json:"ctime_ns"`
	Digest  string `json:"digest"`
}

// racyWindow: a file changed this recently before the cache is saved may change again within
// the same tick of the file system's clock without its times showing it, so its digest is
// not kept.
const racyWindow = 2 * time.Second

// openDigestCache opens the cache of the tree at root (a real, absolute path), kept in the
// user's cache directory; nil when there is none to use.
func openDigestCache(root string) *digestCache {
	dir, err := os.UserCacheDir()
	if err != nil {
		return nil
	}
	sum := sha256.Sum256([]byte(root))
	c := &digestCache{
		path:    filepath.Join(dir, "ferry", "source-digests", hex.EncodeToString(sum[:16])+".json"),
		entries: map[string]cacheEntry{},
		used:    map[string]cacheEntry{},
	}
	if data, err := os.ReadFile(c.path); err == nil {
		_ = json.Unmarshal(data, &c.entries) // an unreadable cache is an empty one
	}
	return c
}

// digest returns a file's digest and size, from the cache when its stat matches.
func (c *digestCache) digest(file string, info fs.FileInfo) (string, int64, error) {
	key, cacheable := statKey(info)
	if c != nil && cacheable {
		if e, ok := c.entries[file]; ok && e.Size == key.Size && e.Inode == key.Inode && e.MtimeNS == key.MtimeNS && e.CtimeNS == key.CtimeNS {
			c.used[file] = e
			return e.Digest, e.Size, nil
		}
	}
	digest, size, err := hashFile(file)
	if err != nil || c == nil || !cacheable || size != key.Size {
		return digest, size, err // a file that changed while read is hashed again next time
	}
	key.Digest = digest
	c.used[file] = key
	return digest, size, nil
}

// save writes what this walk saw, but for files changed within racyWindow.
func (c *digestCache) save() {
	if c == nil {
		return
	}
	recent := time.Now().Add(-racyWindow).UnixNano()
	keep := make(map[string]cacheEntry, len(c.used))
	for file, e := range c.used {
		if e.MtimeNS < recent && e.CtimeNS < recent {
			keep[file] = e
		}
	}
	data, err := json.Marshal(keep)
	if err != nil || os.MkdirAll(filepath.Dir(c.path), 0o700) != nil {
		return
	}
	tmp, err := os.CreateTemp(filepath.Dir(c.path), "digests-*")
	if err != nil {
		return
	}
	_, writeErr := tmp.Write(data)
	if err := tmp.Close(); writeErr != nil || err != nil || os.Rename(tmp.Name(), c.path) != nil {
		_ = os.Remove(tmp.Name())
	}
}
