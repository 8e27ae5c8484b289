//go:build !linux

package pgtest

import "syscall"

// dieWithTest does nothing where the kernel cannot kill a child with its
// parent: a test binary stopped by a timeout leaves its servers running.
func dieWithTest(*syscall.SysProcAttr) {}
