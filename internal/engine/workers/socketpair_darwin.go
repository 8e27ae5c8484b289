package workers

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// socketPairCloseOnExec makes a connected pair of unix stream sockets that no other child of the
// engine inherits. macOS cannot create them close-on-exec, so they are marked so under the lock
// that keeps a fork from copying them in between (as the standard library does).
func socketPairCloseOnExec() ([2]int, error) {
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		return fds, err
	}
	unix.CloseOnExec(fds[0])
	unix.CloseOnExec(fds[1])
	return fds, nil
}
