package pgtest

import "syscall"

// attr runs the servers as the test's own user: Windows has no root for initdb to refuse.
func (*account) attr() *syscall.SysProcAttr { return &syscall.SysProcAttr{} }
