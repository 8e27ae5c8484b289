//go:build unix

package launcher

import "golang.org/x/sys/unix"

// detachedProcess is how the engine is started: in a new session, so that it is not killed
// with Terraform's process group.
func detachedProcess() (*unix.SysProcAttr, error) {
	return &unix.SysProcAttr{Setsid: true}, nil
}
