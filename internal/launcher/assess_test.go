package launcher

import (
	"strings"
	"testing"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
)

func TestAssessUpgradesOlderEnginesOnly(t *testing.T) {
	current := func(version string) *api.Health {
		return &api.Health{Version: version, APIVersion: api.Version, APIOldestVersion: api.OldestVersion, PID: 42}
	}
	for _, tc := range []struct {
		name, engine, caller string
		replace              bool
	}{
		{"same release", "0.2.0", "0.2.0", false},
		{"same dev build", "0.2.0-dev+abc", "0.2.0-dev+abc", false},
		{"older release", "0.1.0", "0.2.0", true},
		{"another dev build", "0.2.0-dev+abc", "0.2.0-dev+def", true},
		{"dev build of the coming release", "0.2.0-dev+abc", "0.2.0", true},
		{"unstamped build", "dev", "0.2.0", true},
		{"newer release", "0.3.0", "0.2.0", false},
		{"release newer than a dev build", "0.2.0", "0.2.0-dev+abc", false},
	} {
		replace, err := assess(current(tc.engine), tc.caller, "/data")
		if err != nil || replace != tc.replace {
			t.Errorf("%s: engine %s, caller %s: replace %v, %v; want %v", tc.name, tc.engine, tc.caller, replace, err, tc.replace)
		}
	}
}

func TestAssessSaysWhatToDoWithEnginesItCannotUse(t *testing.T) {
	levelOne := &api.Health{Version: "0.1.0-dev", APIVersion: 1, PID: 42}
	if _, err := assess(levelOne, "0.2.0", "/data"); err == nil || !strings.Contains(err.Error(), "ferry stop --data-dir /data") || !strings.Contains(err.Error(), "kill 42") {
		t.Errorf("an older engine that cannot hand over: %v", err)
	}
	beyond := &api.Health{Version: "9.0.0", APIVersion: api.Version + 2, APIOldestVersion: api.Version + 1, PID: 42}
	if _, err := assess(beyond, "0.2.0", "/data"); err == nil || !strings.Contains(err.Error(), "not upgraded") || !strings.Contains(err.Error(), "terraform init -upgrade") {
		t.Errorf("a newer engine that no longer serves this caller's API: %v", err)
	}
}
