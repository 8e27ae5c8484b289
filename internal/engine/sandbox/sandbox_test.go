package sandbox

import (
	"strings"
	"testing"
)

func TestParseMode(t *testing.T) {
	for in, want := range map[string]Mode{"": "", "auto": "", "uids": ModeUIDs, "userns": ModeUserNS, "landlock": ModeLandlock, "sandbox-exec": ModeSandboxExec} {
		if got, err := ParseMode(in); err != nil || got != want {
			t.Errorf("ParseMode(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseMode("docker"); err == nil || !strings.Contains(err.Error(), "use auto, or on Linux uids, userns or landlock, or on macOS sandbox-exec") {
		t.Errorf("unknown mode: %v", err)
	}
}
