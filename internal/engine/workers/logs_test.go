package workers

import (
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/logrotate"
)

// A running instance holds its log open: after a rotation its output still
// reaches the (now short) live log, and deleting the deployment removes both
// generations.
func TestRunningAppLogsAcrossRotationAndRemoveDeletesTheLog(t *testing.T) {
	requirePython(t)
	h := newHarness(t, Config{}, App{Dir: writeApp(t, map[string]string{"app.py": plainWSGIApp})})
	path := logPath(h.logDir, h.app.ID)

	for range 20 {
		if resp, _ := h.get(t, "/error"); resp.StatusCode != http.StatusInternalServerError {
			t.Fatalf("status %d, want 500", resp.StatusCode)
		}
	}
	before, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if rotated, err := logrotate.Rotate(path, 0); err != nil || !rotated {
		t.Fatalf("rotated %v, error %v", rotated, err)
	}
	if live := h.log(t); int64(len(live)) >= before.Size() {
		t.Fatalf("the live log was not cut: %d bytes", len(live))
	}

	if resp, _ := h.get(t, "/error"); resp.StatusCode != http.StatusInternalServerError {
		t.Fatalf("after rotation: status %d, want 500", resp.StatusCode)
	}
	after := h.log(t)
	if !strings.Contains(after, "RuntimeError: boom in the app") {
		t.Fatalf("the running app's output did not reach the rotated log:\n%s", after)
	}
	if int64(len(after)) >= before.Size() {
		t.Fatalf("the live log is %d bytes, %d before the rotation", len(after), before.Size())
	}

	h.manager.Remove(h.app.ID)
	for _, p := range []string{path, path + logrotate.RotatedSuffix} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s outlived its deployment: %v", p, err)
		}
	}
}
