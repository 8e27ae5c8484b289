package deploy

import (
	"strings"
	"testing"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
)

// A build that passes its deadline ends in ERROR saying so, with what its log said last, and
// is never made ready.
func TestBuildPastItsDeadlineFails(t *testing.T) {
	svc, st, bl := newService(t, func(cfg *Config) { cfg.BuildTimeout = 2 * time.Second })
	project := createProject(t, st, "slow", "echo started; sleep 60")
	d := waitState(t, st, deployApp(t, svc, bl, project).ID, api.StateError, api.StateReady)
	if d.State != api.StateError || !strings.Contains(d.ErrorMessage, "the build did not finish within 2s, its deadline, and was stopped") ||
		d.Run != nil {
		t.Fatalf("want ERROR past the deadline, without a run spec; got %s %q %+v", d.State, d.ErrorMessage, d.Run)
	}
}
