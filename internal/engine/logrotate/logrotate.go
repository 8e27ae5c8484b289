// Package logrotate caps log files that other processes keep appending to.
//
// The writers (the engine's own stderr, an app's stdout and stderr) hold an
// O_APPEND descriptor of the log that the engine cannot make them reopen, so
// a log is never renamed away: its content is copied to <log>.1 and then cut
// from the live file in place. Since every O_APPEND write goes to the current
// end of the file, the writers carry on into the shortened file unaware.
//
// Where the filesystem can collapse a range of a file (Linux's ext4, xfs) the cut is
// lossless: only the whole blocks already copied are removed, in one step
// that the kernel orders with concurrent writes. Elsewhere the rest is copied
// too and the file truncated, which loses what is written between the last
// read and the truncate: microseconds' worth of output.
package logrotate

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// RotatedSuffix names the one older generation a log keeps.
const RotatedSuffix = ".1"

// Rotate moves the content of the log at path to path+RotatedSuffix
// (replacing the older generation) when the log is larger than limit, and
// reports whether it did. A missing log is not an error.
func Rotate(path string, limit int64) (bool, error) {
	rotating.Lock()
	defer rotating.Unlock()
	live, err := os.OpenFile(path, os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer func() { _ = live.Close() }() // read and cut only: nothing to flush
	info, err := live.Stat()
	if err != nil {
		return false, err
	}
	if info.Size() <= limit {
		return false, nil
	}
	rotated := path + RotatedSuffix
	// Whole blocks only, and never up to the end: collapsing a range must
	// be block-aligned and must leave the end of the file in place.
	block := int64(4096)
	if st, ok := info.Sys().(*unix.Stat_t); ok && st.Blksize > 0 {
		block = int64(st.Blksize) //nolint:unconvert // Blksize is an int32 on arm64
	}
	copied := (info.Size() - 1) / block * block
	if err := copyToNew(rotated, io.NewSectionReader(live, 0, copied), info.Mode().Perm()); err != nil {
		return false, err
	}
	if copied > 0 && collapseHead(live, copied) {
		return true, nil
	}
	// No collapsing here: copy the rest as well and empty the live file.
	older, err := os.OpenFile(rotated, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return false, err
	}
	if _, err := io.Copy(older, io.NewSectionReader(live, copied, 1<<62)); err != nil {
		_ = older.Close()
		return false, fmt.Errorf("copy %s to %s: %w", path, rotated, err)
	}
	if err := older.Close(); err != nil {
		return false, err
	}
	if err := live.Truncate(0); err != nil {
		return false, err
	}
	return true, nil
}

// copyToNew writes r to path through a temporary file, so that path is
// either its old content or all of the new.
func copyToNew(path string, r io.Reader, perm fs.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	defer func() { _ = os.Remove(tmp.Name()) }() // gone already once renamed
	if _, err := io.Copy(tmp, r); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("copy to %s: %w", path, err)
	}
	if err := tmp.Chmod(perm); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
