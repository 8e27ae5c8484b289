package workers

import (
	"math"
	"testing"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/sandbox"
)

const plainWSGI = `def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
`

// An instance that runs a known time is counted that time, within 1 %, with its memory limit:
// part of it while it runs (a meter takes it every so often), the rest once it stopped.
func TestInstanceTimeIsCountedWhileRunningAndAfter(t *testing.T) {
	requirePython(t)
	h := newHarness(t, Config{}, App{ID: "dpl_metered", Dir: writeApp(t, map[string]string{"app.py": plainWSGI}),
		Limits: sandbox.Limits{MemoryMB: 512}})
	if taken := h.manager.TakeInstanceTime(); len(taken) != 0 {
		t.Fatalf("counted before any request: %v", taken)
	}
	began := time.Now()
	if resp, body := h.get(t, "/"); resp.StatusCode != 200 || string(body) != "ok" {
		t.Fatalf("%d %q", resp.StatusCode, body)
	}
	time.Sleep(2 * time.Second)
	running := h.manager.TakeInstanceTime()["dpl_metered"]
	time.Sleep(3 * time.Second)
	h.manager.Stop("dpl_metered")
	ran := time.Since(began)
	stopped := h.manager.TakeInstanceTime()["dpl_metered"]

	if running.Duration < 2*time.Second || running.MemoryMB != 512 {
		t.Errorf("taken while running: %+v, want 2s or more at 512 MB", running)
	}
	counted := running.Duration + stopped.Duration
	if off := math.Abs(counted.Seconds()-ran.Seconds()) / ran.Seconds(); off > 0.01 {
		t.Errorf("counted %s of an instance that ran %s: %.1f%% off", counted, ran, 100*off)
	}
	if again := h.manager.TakeInstanceTime(); len(again) != 0 {
		t.Errorf("counted again after it stopped: %v", again)
	}
}
