//go:build !unix

package builder

import "os/exec"

// Without process groups only the command itself is killed on cancellation.
func startInProcessGroup(*exec.Cmd) {}

func killProcessGroup(*exec.Cmd) {}
