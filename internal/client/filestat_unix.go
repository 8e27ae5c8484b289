//go:build linux || darwin

package client

import (
	"io/fs"
	"syscall"
)

// statKey is what stat says of a file, for digestCache; false when it says too little.
func statKey(info fs.FileInfo) (cacheEntry, bool) {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return cacheEntry{}, false
	}
	return cacheEntry{Size: info.Size(), Inode: st.Ino, MtimeNS: info.ModTime().UnixNano(), CtimeNS: changeTime(st)}, true
}
