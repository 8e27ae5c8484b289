package engine_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // Vercel's signature is HMAC-SHA1
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/client"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/webhooks"
	"github.com/ferryhq/terraform-provider-ferry/internal/freeport"
)

const hookSecret = "webhook-secret-of-the-test-0123456789"

// receiver is a webhook receiver that checks both signatures and records each event it
// accepts; while down it answers 503 and records nothing.
type receiver struct {
	t      *testing.T
	server *httptest.Server
	down   atomic.Bool
	mu     sync.Mutex
	events []api.WebhookEvent
	seen   map[string]int // accepted deliveries by event id
	hits   atomic.Int64   // requests, accepted or not
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{t: t, seen: map[string]int{}}
	r.server = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.server.Close)
	return r
}

func hexHMAC(h func() hash.Hash, body []byte) string {
	mac := hmac.New(h, []byte(hookSecret))
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	r.hits.Add(1)
	body, err := io.ReadAll(req.Body)
	if err != nil {
		r.t.Errorf("receiver: %v", err)
		return
	}
	if got, want := req.Header.Get("X-Ferry-Signature"), "sha256="+hexHMAC(sha256.New, body); !hmac.Equal([]byte(got), []byte(want)) {
		r.t.Errorf("X-Ferry-Signature %q, want %q", got, want)
	}
	if got, want := req.Header.Get("x-vercel-signature"), hexHMAC(sha1.New, body); !hmac.Equal([]byte(got), []byte(want)) {
		r.t.Errorf("x-vercel-signature %q, want %q", got, want)
	}
	if r.down.Load() {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	var e api.WebhookEvent
	if err := json.Unmarshal(body, &e); err != nil {
		r.t.Errorf("event %s: %v", body, err)
	}
	if req.Header.Get("X-Ferry-Event") != e.Type || req.Header.Get("X-Ferry-Delivery") != e.ID {
		r.t.Errorf("headers name event %s %s, body %s %s", req.Header.Get("X-Ferry-Event"), req.Header.Get("X-Ferry-Delivery"), e.Type, e.ID)
	}
	r.mu.Lock()
	r.seen[e.ID]++
	if r.seen[e.ID] == 1 {
		r.events = append(r.events, e)
	} else {
		r.t.Errorf("event %s (%s) delivered %d times after it was accepted", e.ID, e.Type, r.seen[e.ID])
	}
	r.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// got lists the events accepted so far as "type deployment".
func (r *receiver) got() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, e := range r.events {
		d, _ := e.Payload["deployment"].(map[string]any)
		out = append(out, fmt.Sprintf("%s %v", e.Type, d["id"]))
	}
	return out
}

// wait waits until the receiver accepted exactly want, in order.
func (r *receiver) wait(want ...string) {
	r.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !slices.Equal(r.got(), want) {
		if got := r.got(); len(got) > len(want) || time.Now().After(deadline) {
			r.t.Fatalf("receiver got\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// fastRetries makes a failed delivery wait 100 ms, doubled up to 400 ms.
func fastRetries(c *engine.Config) {
	c.WebhookBackoff = webhooks.Backoff{First: 100 * time.Millisecond, Max: 400 * time.Millisecond, GiveUpAfter: time.Hour}
}

func createHook(t *testing.T, c *client.Client, team, url string) *api.Webhook {
	t.Helper()
	w, err := c.CreateWebhook(context.Background(), team, api.WebhookRequest{URL: url, Events: api.WebhookEvents, Secret: hookSecret})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func deployEvents(d *api.Deployment, types ...string) []string {
	var out []string
	for _, e := range types {
		out = append(out, e+" "+d.ID)
	}
	return out
}

// TestWebhooksSeeEachEventOnceInOrder: a team's receiver sees, signed, every deployment event of
// its team (created, ready, error, canceled, rolled back, promoted) once and in order, also across an outage; another team's receiver sees none.
func TestWebhooksSeeEachEventOnceInOrder(t *testing.T) {
	needFlask(t)
	c, _ := startEngine(t, fastRetries)
	ctx := context.Background()
	alpha, err := c.CreateTeam(ctx, api.TeamRequest{Name: "alpha"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateTeam(ctx, api.TeamRequest{Name: "beta"}); err != nil {
		t.Fatal(err)
	}
	mine, theirs := newReceiver(t), newReceiver(t)
	hook := createHook(t, c, "alpha", mine.server.URL+"/hooks")
	createHook(t, c, "beta", theirs.server.URL)
	for _, bad := range []api.WebhookRequest{
		{URL: "ftp://example.com/x", Events: api.WebhookEvents, Secret: hookSecret},
		{URL: "https://example.com/x", Events: []string{"deployment.exploded"}, Secret: hookSecret},
		{URL: "https://example.com/x", Events: api.WebhookEvents, Secret: "short"},
	} {
		_, err := c.CreateWebhook(ctx, "alpha", bad)
		wantStatus(t, "bad webhook", err, http.StatusBadRequest)
	}
	p, err := c.CreateProject(ctx, api.ProjectRequest{Name: "hooked", Team: "alpha"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateEnvVar(ctx, p.ID, api.EnvVarRequest{Key: "GREETING", Value: "hi", Targets: []string{"production", "preview"}}); err != nil {
		t.Fatal(err)
	}

	d1 := deploy(t, c, p.ID, writeApp(t, "1"))
	want := deployEvents(d1, api.EventDeploymentCreated, api.EventDeploymentReady)
	mine.wait(want...)
	broken := t.TempDir()
	writeFile(t, filepath.Join(broken, "README.md"), "no app here\n")
	dErr := deploy(t, c, p.ID, broken)
	want = append(want, deployEvents(dErr, api.EventDeploymentCreated, api.EventDeploymentError)...)
	mine.wait(want...)
	d2 := deploy(t, c, p.ID, writeApp(t, "2"))
	want = append(want, deployEvents(d2, api.EventDeploymentCreated, api.EventDeploymentReady)...)
	mine.wait(want...)
	// `ferry rollback` and the dashboard move production back this way; then forward again.
	if _, err := c.PinAlias(ctx, p.ID, "", d1.ID); err != nil {
		t.Fatal(err)
	}
	want = append(want, deployEvents(d1, api.EventDeploymentRolledBack)...)
	mine.wait(want...)
	if _, err := c.PinAlias(ctx, p.ID, "", d2.ID); err != nil {
		t.Fatal(err)
	}
	want = append(want, deployEvents(d2, api.EventDeploymentPromoted)...)
	mine.wait(want...)
	// A build canceled while it runs, in another project of the team.
	skip, hang := "true", "sleep 1000.375"
	slow, err := c.CreateProject(ctx, api.ProjectRequest{Name: "slow", Team: "alpha", InstallCommand: &skip, BuildCommand: &hang})
	if err != nil {
		t.Fatal(err)
	}
	dCanceled, err := c.Deploy(ctx, slow.ID, writeApp(t, "4"), false)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := c.CancelDeployment(ctx, dCanceled.ID); err != nil || got.State != api.StateCanceled {
		t.Fatalf("cancel: %+v, %v", got, err)
	}
	want = append(want, deployEvents(dCanceled, api.EventDeploymentCreated, api.EventDeploymentCanceled)...)
	mine.wait(want...)

	// The receiver is down: the events of a deploy wait, retried, and arrive once it is back.
	mine.down.Store(true)
	d3 := deploy(t, c, p.ID, writeApp(t, "3"))
	deadline := time.Now().Add(30 * time.Second)
	for {
		ds, err := c.ListWebhookDeliveries(ctx, "alpha", hook.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) == 2+len(want) && ds[0].Event == api.EventDeploymentReady && ds[1].Attempts >= 3 && ds[1].State == "pending" && ds[1].LastStatus == 503 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("deliveries during the outage: %+v", ds)
		}
		time.Sleep(50 * time.Millisecond)
	}
	mine.down.Store(false)
	want = append(want, deployEvents(d3, api.EventDeploymentCreated, api.EventDeploymentReady)...)
	mine.wait(want...)

	// The payload as Vercel's receivers read it.
	last := mine.events[len(mine.events)-1]
	payload, _ := json.Marshal(last.Payload)
	for _, part := range []string{`"team":{"id":"` + alpha.ID + `"}`, `"project":{"id":"` + p.ID + `","name":"hooked"}`, `"state":"READY"`, `"target":"production"`, `"url":"http://hooked-`} {
		if !strings.Contains(string(payload), part) {
			t.Errorf("payload %s lacks %s", payload, part)
		}
	}
	if last.CreatedAt < time.Now().Add(-time.Minute).UnixMilli() || last.CreatedAt > time.Now().UnixMilli() {
		t.Errorf("createdAt %d is not the event's time in unix milliseconds", last.CreatedAt)
	}
	// The receiver may see the last event before the engine records its answer.
	deadline = time.Now().Add(30 * time.Second)
	for {
		ds, err := c.ListWebhookDeliveries(ctx, "alpha", hook.ID, 0)
		if err == nil && len(ds) == len(want) && ds[0].State == "delivered" && ds[0].LastStatus == http.StatusNoContent {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("deliveries: %+v, %v; want %d, delivered", ds, err, len(want))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if theirs.hits.Load() != 0 {
		t.Errorf("team beta's receiver was sent %d requests of team alpha's events", theirs.hits.Load())
	}
	events, err := c.ListAudit(ctx, "alpha", 0, 0)
	if err != nil || !slices.ContainsFunc(events, func(e api.AuditEvent) bool { return e.Action == "webhook.create" }) {
		t.Errorf("audit log of alpha: %+v, %v; want webhook.create", events, err)
	}
}

// TestWebhookDeliveriesSurviveARestart: events queued while the receiver is down are sent once
// the engine has restarted and the receiver is back.
func TestWebhookDeliveriesSurviveARestart(t *testing.T) {
	needFlask(t)
	dataDir, httpAddress := shortDataDir(t), freeport.Loopback(t)
	c, stop := runEngine(t, dataDir, httpAddress, fastRetries)
	ctx := context.Background()
	rcv := newReceiver(t)
	rcv.down.Store(true)
	hook := createHook(t, c, api.DefaultTeam, rcv.server.URL)
	p, err := c.CreateProject(ctx, api.ProjectRequest{Name: "restarted"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateEnvVar(ctx, p.ID, api.EnvVarRequest{Key: "GREETING", Value: "hi", Targets: []string{"production"}}); err != nil {
		t.Fatal(err)
	}
	d := deploy(t, c, p.ID, writeApp(t, "1"))
	for {
		ds, err := c.ListWebhookDeliveries(ctx, api.DefaultTeam, hook.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) == 2 && ds[1].Attempts >= 2 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	stop()
	rcv.down.Store(false)
	_, stop = runEngine(t, dataDir, httpAddress, fastRetries)
	defer stop()
	rcv.wait(deployEvents(d, api.EventDeploymentCreated, api.EventDeploymentReady)...)
}
