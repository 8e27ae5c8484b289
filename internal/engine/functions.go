package engine

import (
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/runspec"
)

// runMaxDuration is how long a request may take: vercel.json's maxDuration, else the project's
// setting (a function's own maxDuration in vercel.json overrides either). 0: the runtime's.
func runMaxDuration(run *runspec.Spec) time.Duration {
	if run.MaxDuration > 0 {
		return time.Duration(run.MaxDuration) * time.Second
	}
	return time.Duration(run.Limits.MaxDurationSeconds) * time.Second
}
