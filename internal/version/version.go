// Package version holds the version of the ferry binaries and orders versions.
package version

import (
	"runtime/debug"
	"strings"
	"sync"

	"golang.org/x/mod/semver"
)

// Version is set by the linker (-X): a release ("1.2.3"), or a dev build
// ("0.2.0-dev+<digest of its sources>", as `make build` stamps it). An
// unstamped build is "dev".
var Version = "dev"

var stamped = sync.OnceValue(func() string {
	if strings.Contains(Version, "+") || !strings.HasSuffix(Version, "dev") {
		return Version
	}
	// Built without the Makefile (go build, go install): the VCS revision
	// Go recorded names the build instead, so binaries built from one
	// commit agree with each other.
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return Version
	}
	var revision, modified string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			revision = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if len(revision) < 12 {
		return Version
	}
	v := Version + "+" + revision[:12]
	if modified == "true" {
		v += ".modified"
	}
	return v
})

// String is the version engines and clients report and compare: the
// release, or a dev version with what names its build.
func String() string { return stamped() }

// Compare orders versions a and b by semantic-version precedence: -1 when a
// is older, 0 when they rank the same, 1 when a is newer. Build metadata
// (after "+") does not rank, so two dev builds of one version rank the same;
// a version that is not semantic ("dev") ranks below every one that is.
func Compare(a, b string) int {
	return semver.Compare("v"+a, "v"+b)
}
