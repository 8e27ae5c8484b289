// Package webhooks sends a team's events to the URLs its webhooks name, signed as Vercel signs
// them. An event is written to the store as one delivery per webhook that wants it, then sent
// by a delivery loop on every node: a node claims a delivery under a lease (as builds are
// claimed), POSTs it, and records the attempt; a failed attempt is retried with exponential
// backoff for up to a day, so that a receiver's outage or an engine's restart loses nothing.
// A webhook's deliveries go one at a time, oldest first, so its receiver sees them in order.
package webhooks

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // Vercel's signature is HMAC-SHA1; the sha256 one is beside it
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/deploy"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/secrets"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
	"github.com/ferryhq/terraform-provider-ferry/internal/version"
)

// Defaults of a Service's settings.
const (
	DefaultTimeout      = 10 * time.Second // one attempt; a receiver slower than this is retried
	DefaultPollInterval = time.Second      // how often idle senders look for deliveries due
	DefaultSenders      = 2
)

// DefaultBackoff waits 1 s, 2 s, 4 s ... up to an hour between attempts, and gives up a day after
// the event, as Vercel retries.
var DefaultBackoff = Backoff{First: time.Second, Max: time.Hour, GiveUpAfter: 24 * time.Hour}

// Backoff is how long a failed delivery waits before its next attempt.
type Backoff struct {
	First       time.Duration // after the first failure; doubled after each next one
	Max         time.Duration // the longest wait
	GiveUpAfter time.Duration // a delivery still failing this long after its event has failed
}

// delay is the wait after the attempts-th failed attempt.
func (b Backoff) delay(attempts int) time.Duration {
	d := b.First
	for i := 1; i < attempts && d < b.Max; i++ {
		d *= 2
	}
	return min(d, b.Max)
}

// Event is something a team's webhooks may hear of.
type Event struct {
	Type      string // an api.Event*
	TeamID    string
	ProjectID string // the project it concerns; "" for the whole team
	// Payload is the event's payload; "team" (its id) is added to it.
	Payload map[string]any
}

// Emitter emits events to the webhooks that want them. Plan limits emit api.EventUsageThreshold
// through it; an engine without webhooks may pass a Service that is nil.
type Emitter interface {
	Emit(ctx context.Context, e Event) error
}

// Config wires a Service. Zero values take the defaults above.
type Config struct {
	Store   store.Store
	Secrets secrets.Keeper
	Logger  *slog.Logger
	NodeID  string                   // names this node in its claims
	URL     func(host string) string // the URL of an app host, for deployments' payloads
	Client  *http.Client             // nil: one with Timeout
	Timeout time.Duration
	Backoff Backoff
	// Lease bounds a claim: a node that dies while sending lets another take over after it.
	// Default: Timeout plus half a minute.
	Lease        time.Duration
	PollInterval time.Duration
	Senders      int // deliveries sent at once by this node
	Now          func() time.Time
}

// Service emits events and sends their deliveries.
type Service struct {
	cfg  Config
	wake chan struct{} // a delivery may be due
}

var _ Emitter = (*Service)(nil)

// New returns a Service; Run sends what it emits.
func New(cfg Config) *Service {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: cfg.Timeout}
	}
	if cfg.Backoff == (Backoff{}) {
		cfg.Backoff = DefaultBackoff
	}
	if cfg.Lease <= 0 {
		cfg.Lease = cfg.Timeout + 30*time.Second
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	if cfg.Senders <= 0 {
		cfg.Senders = DefaultSenders
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Service{cfg: cfg, wake: make(chan struct{}, 1)}
}

// Emit queues e for every webhook of its team that subscribes to its type and, if it names
// projects, to e's project. Nothing is sent before Emit returns; once it has, the deliveries are
// in the store and survive a restart.
func (s *Service) Emit(ctx context.Context, e Event) error {
	if s == nil {
		return nil
	}
	if !slices.Contains(api.WebhookEvents, e.Type) {
		return fmt.Errorf("emit %q: not a webhook event (one of %v)", e.Type, api.WebhookEvents)
	}
	if e.TeamID == "" {
		return fmt.Errorf("emit %q: the event names no team", e.Type)
	}
	hooks, err := s.cfg.Store.ListWebhooks(ctx, e.TeamID)
	if err != nil {
		return err
	}
	var wanting []*store.Webhook
	for _, h := range hooks {
		if slices.Contains(h.Events, e.Type) && (len(h.Projects) == 0 || e.ProjectID == "" || slices.Contains(h.Projects, e.ProjectID)) {
			wanting = append(wanting, h)
		}
	}
	if len(wanting) == 0 {
		return nil
	}
	payload := map[string]any{}
	for k, v := range e.Payload {
		payload[k] = v
	}
	payload["team"] = map[string]any{"id": e.TeamID}
	event := api.WebhookEvent{ID: deploy.NewID("evt"), Type: e.Type, CreatedAt: s.cfg.Now().UnixMilli(), Payload: payload}
	body, err := json.Marshal(event)
	if err != nil {
		return fmt.Errorf("encode event %s: %w", e.Type, err)
	}
	deliveries := make([]*store.Delivery, 0, len(wanting))
	for _, h := range wanting {
		deliveries = append(deliveries, &store.Delivery{ID: deploy.NewID("dlv"), WebhookID: h.ID, EventID: event.ID, EventType: e.Type, Body: body})
	}
	if err := s.cfg.Store.EnqueueDeliveries(ctx, deliveries); err != nil {
		return fmt.Errorf("queue event %s: %w", e.Type, err)
	}
	s.cfg.Logger.Debug("webhook event queued", "event", event.ID, "type", e.Type, "team", e.TeamID, "webhooks", len(deliveries))
	s.notify()
	return nil
}

// Deployment emits eventType for d, with its project, URL, target and state in the payload as
// Vercel's deployment events carry them. previousID is the deployment production served before
// a promotion or rollback ("" for other events). A failure is logged: the change it reports is
// made already.
func (s *Service) Deployment(ctx context.Context, eventType string, d *store.Deployment, previousID string) {
	if s == nil {
		return
	}
	err := s.deployment(ctx, eventType, d, previousID)
	if errors.Is(err, store.ErrNotFound) {
		// The project was deleted since: its team, whose webhooks would hear of it, is not known.
		s.cfg.Logger.Info("webhook event not queued: the deployment's project was deleted", "type", eventType, "deployment", d.ID)
		return
	}
	if err != nil {
		s.cfg.Logger.Error("queue a webhook event; its receivers will not hear of it", "type", eventType, "deployment", d.ID, "error", err)
	}
}

func (s *Service) deployment(ctx context.Context, eventType string, d *store.Deployment, previousID string) error {
	p, err := s.cfg.Store.GetProject(ctx, d.ProjectID)
	if err != nil {
		return err
	}
	state := d.State
	switch eventType {
	case api.EventDeploymentReady:
		state = api.StateReady
	case api.EventDeploymentError:
		state = api.StateError
	case api.EventDeploymentCanceled:
		state = api.StateCanceled
	}
	deploymentURL := s.cfg.URL(d.Hostname)
	deployment := map[string]any{"id": d.ID, "url": deploymentURL, "name": p.Name, "state": state, "target": d.Target}
	if d.Git != nil {
		deployment["meta"] = map[string]any{"githubCommitSha": d.Git.SHA, "githubCommitRef": d.Git.Branch}
	}
	payload := map[string]any{
		"deployment": deployment,
		"project":    map[string]any{"id": p.ID, "name": p.Name},
		"target":     d.Target,
		"url":        deploymentURL,
		"links":      map[string]any{"deployment": deploymentURL},
	}
	if previousID != "" {
		payload["previousDeploymentId"] = previousID
	}
	return s.Emit(ctx, Event{Type: eventType, TeamID: p.TeamID, ProjectID: p.ID, Payload: payload})
}

// notify wakes a sender, if none is awake already.
func (s *Service) notify() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Run sends deliveries until ctx ends.
func (s *Service) Run(ctx context.Context) {
	var senders sync.WaitGroup
	for range s.cfg.Senders {
		senders.Go(func() { s.send(ctx) })
	}
	senders.Wait()
}

// send is one sender: it delivers what is due, then waits to be woken or for the next poll.
func (s *Service) send(ctx context.Context) {
	poll := time.NewTicker(s.cfg.PollInterval)
	defer poll.Stop()
	for {
		for s.deliverOne(ctx) {
		}
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		case <-poll.C:
		}
	}
}

// deliverOne claims a delivery due and makes one attempt at it; false when none was due.
func (s *Service) deliverOne(ctx context.Context) bool {
	if ctx.Err() != nil {
		return false
	}
	now := s.cfg.Now()
	d, err := s.cfg.Store.ClaimDelivery(ctx, s.cfg.NodeID, now, now.Add(s.cfg.Lease))
	if err != nil {
		if ctx.Err() == nil {
			s.cfg.Logger.Error("claim a webhook delivery", "error", err)
		}
		return false
	}
	if d == nil {
		return false
	}
	s.notify() // another sender may find another webhook's delivery due
	log := s.cfg.Logger.With("delivery", d.ID, "event", d.EventID, "type", d.EventType, "webhook", d.WebhookID)
	hook, err := s.cfg.Store.GetWebhook(ctx, d.WebhookID)
	if err != nil {
		// Deleted meanwhile: its deliveries went with it.
		if !errors.Is(err, store.ErrNotFound) {
			log.Error("read the webhook of a delivery", "error", err)
			s.release(d, log)
		}
		return true
	}
	status, sendErr := s.post(ctx, hook, d)
	if ctx.Err() != nil {
		s.release(d, log) // the engine stops: the attempt did not count, and resumes at the next start
		return false
	}
	attempt := store.Attempt{Status: status, Delivered: sendErr == nil}
	if sendErr != nil {
		attempt.Error = sendErr.Error()
		if at := s.cfg.Now(); at.Sub(d.CreatedAt) < s.cfg.Backoff.GiveUpAfter {
			attempt.Next = at.Add(s.cfg.Backoff.delay(d.Attempts + 1))
		}
		log.Info("webhook delivery failed", "attempt", d.Attempts+1, "error", attempt.Error, "retry_at", attempt.Next)
	}
	recordCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := s.cfg.Store.RecordAttempt(recordCtx, d.ID, s.cfg.NodeID, attempt); err != nil {
		log.Error("record a webhook delivery attempt; it will be sent again", "error", err)
	}
	return true
}

func (s *Service) release(d *store.Delivery, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.cfg.Store.ReleaseDelivery(ctx, d.ID, s.cfg.NodeID); err != nil && !errors.Is(err, store.ErrNotClaimed) {
		log.Error("release a webhook delivery; it is sent again once its lease runs out", "error", err)
	}
}

// post sends d to hook once: nil for a 2xx answer. Errors never carry the URL, which may hold a
// token of the receiver's.
func (s *Service) post(ctx context.Context, hook *store.Webhook, d *store.Delivery) (int, error) {
	secret, err := s.cfg.Secrets.Open(ctx, hook.SealedSecret)
	if err != nil {
		return 0, fmt.Errorf("open the webhook's secret: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, hook.URL, bytes.NewReader(d.Body))
	if err != nil {
		return 0, errors.New("the webhook's URL cannot be requested: update it")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "ferry-webhooks/"+version.String())
	req.Header.Set(api.HeaderEvent, d.EventType)
	req.Header.Set(api.HeaderDelivery, d.EventID)
	req.Header.Set(api.HeaderSignature, "sha256="+Sign(sha256.New, secret, d.Body))
	req.Header.Set(api.HeaderVercelSignature, Sign(sha1.New, secret, d.Body))
	resp, err := s.cfg.Client.Do(req)
	if err != nil {
		var uErr *url.Error
		if errors.As(err, &uErr) {
			err = uErr.Err
		}
		if uErr != nil && uErr.Timeout() {
			return 0, fmt.Errorf("no answer within %s", s.cfg.Timeout)
		}
		return 0, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	_ = resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("the receiver answered %s", resp.Status)
	}
	return resp.StatusCode, nil
}

// Sign is the hex HMAC of body under secret with the hash h.
func Sign(h func() hash.Hash, secret, body []byte) string {
	mac := hmac.New(h, secret)
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}
