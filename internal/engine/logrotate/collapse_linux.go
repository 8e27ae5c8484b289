package logrotate

import (
	"os"

	"golang.org/x/sys/unix"
)

// collapseHead removes the first n bytes of f in place, and reports whether the filesystem could.
func collapseHead(f *os.File, n int64) bool {
	return unix.Fallocate(int(f.Fd()), unix.FALLOC_FL_COLLAPSE_RANGE, 0, n) == nil
}
