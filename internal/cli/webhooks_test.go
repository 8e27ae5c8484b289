//go:build !windows

package cli

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
)

// TestWebhooksCommands drives ferry webhooks against a real engine: create makes and shows a
// secret once, a deployment's events reach the receiver and are listed by deliveries, rm ends it.
func TestWebhooksCommands(t *testing.T) {
	te := startTestEngine(t)
	var received atomic.Int64
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.Header.Get("X-Ferry-Signature"), "sha256=") {
			received.Add(1)
		}
	}))
	defer receiver.Close()

	if code, _, stderr := te.ferry(t, "webhooks", "create", "--team", "default", "ftp://example.com/in"); code != ExitFailure || !strings.Contains(stderr, "http:// or https://") {
		t.Errorf("ferry webhooks create with an ftp URL: exit %d, %s", code, stderr)
	}
	out := te.mustFerry(t, "webhooks", "create", "--team", "default", "--event", "deployment.created,deployment.ready", receiver.URL)
	secret := regexp.MustCompile(`(?m)^  ([0-9a-f]{64})$`).FindStringSubmatch(out)
	id := regexp.MustCompile(`hook_[a-z0-9]+`).FindString(out)
	if secret == nil || id == "" || !strings.Contains(out, "not shown again") {
		t.Fatalf("ferry webhooks create:\n%s", out)
	}
	if listed := te.mustFerry(t, "webhooks", "ls", "--team", "default"); !strings.Contains(listed, id) || strings.Contains(listed, secret[1]) {
		t.Errorf("ferry webhooks ls lacks the webhook or shows its secret:\n%s", listed)
	}
	p, err := te.c.CreateProject(t.Context(), api.ProjectRequest{Name: "hooked"})
	if err != nil {
		t.Fatal(err)
	}
	te.deploy(t, p.ID, versionedApp(t, "1"))
	for deadline := time.Now().Add(30 * time.Second); received.Load() < 2; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the receiver got %d events, want 2", received.Load())
		}
	}
	deliveries := te.mustFerry(t, "webhooks", "deliveries", "--team", "default", id)
	if strings.Count(deliveries, "delivered") != 2 || !strings.Contains(deliveries, "deployment.ready") || !strings.Contains(deliveries, "200") {
		t.Errorf("ferry webhooks deliveries:\n%s", deliveries)
	}
	te.mustFerry(t, "webhooks", "rm", "--team", "default", id)
	if listed := te.mustFerry(t, "webhooks", "ls", "--team", "default"); strings.Contains(listed, id) {
		t.Errorf("ferry webhooks ls after rm:\n%s", listed)
	}
}
