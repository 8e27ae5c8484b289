package workers

import "golang.org/x/sys/unix"

// socketPairCloseOnExec makes a connected pair of unix stream sockets that no other child of the
// engine inherits; the kernel sets close-on-exec as it creates them.
func socketPairCloseOnExec() ([2]int, error) {
	return unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
}
