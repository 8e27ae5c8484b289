// Package version holds the version of the ferry binaries.
package version

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"strings"
	"sync"
)

// Version is set by the linker (-X): a release ("1.2.3"), or "dev" or
// "X.Y.Z-dev" for a build from a work tree.
var Version = "dev"

var fingerprint = sync.OnceValue(func() string {
	if Version != "dev" && !strings.HasSuffix(Version, "-dev") {
		return Version
	}
	// A dev build names itself by its binary's content, so that a rebuilt
	// provider notices an engine still running the previous build.
	exe, err := os.Executable()
	if err != nil {
		return Version
	}
	f, err := os.Open(exe)
	if err != nil {
		return Version
	}
	defer func() { _ = f.Close() }() // read-only
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return Version
	}
	return Version + "+" + hex.EncodeToString(h.Sum(nil))[:12]
})

// String is the version engines and providers compare: Version for a
// release, "dev+<binary digest>" for a dev build.
func String() string { return fingerprint() }
