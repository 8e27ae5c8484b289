package engine

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// lockDataDir takes the data dir's lock, which the engine holds while it
// runs. It is a flock on an open file: it lasts as long as any process holds
// that open file, so an engine that hands its descriptor to its successor
// hands the lock over without a moment unlocked. Closing the last
// descriptor releases it.
func lockDataDir(dataDir string) (*os.File, error) {
	path := filepath.Join(dataDir, LockName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock data dir: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		_ = f.Close() // never locked
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w (%s): stop it first (ferry stop --data-dir %s), upgrade it in place (ferry upgrade --data-dir %s), or use another data dir",
				ErrLocked, dataDir, dataDir, dataDir)
		}
		return nil, fmt.Errorf("lock data dir: %w", err)
	}
	return f, nil
}
