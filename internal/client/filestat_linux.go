package client

import "syscall"

// changeTime is when a file's content or metadata last changed, in nanoseconds.
func changeTime(st *syscall.Stat_t) int64 { return st.Ctim.Nano() }
