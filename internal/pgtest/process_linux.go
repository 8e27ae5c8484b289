package pgtest

import "syscall"

// dieWithTest has the kernel kill the process when the test process dies.
func dieWithTest(attr *syscall.SysProcAttr) { attr.Pdeathsig = syscall.SIGKILL }
