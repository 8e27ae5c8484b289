package launcher

import (
	"errors"
	"syscall"
)

// ErrNoEmbeddedEngine is why Windows starts no engine: the engine's sandbox is made of Linux's
// and macOS's own mechanisms.
var ErrNoEmbeddedEngine = errors.New("the embedded engine needs Linux or macOS: on Windows, drive a remote engine instead " +
	"(endpoint and token in the provider block, or FERRY_ENDPOINT and FERRY_TOKEN), one run with `ferry serve` on a Linux or macOS machine")

func detachedProcess() (*syscall.SysProcAttr, error) {
	return nil, ErrNoEmbeddedEngine
}
