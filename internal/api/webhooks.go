package api

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Paths of a team's webhooks.
const (
	PathWebhooks = "/v1/teams/{team}/webhooks"
	PathWebhook  = "/v1/teams/{team}/webhooks/{webhook}"
	// PathWebhookDeliveries lists a webhook's deliveries, newest first: ?limit=.
	PathWebhookDeliveries = "/v1/teams/{team}/webhooks/{webhook}/deliveries"
)

// Events a webhook may subscribe to, named as Vercel names them.
const (
	EventDeploymentCreated    = "deployment.created"
	EventDeploymentReady      = "deployment.ready"
	EventDeploymentError      = "deployment.error"
	EventDeploymentCanceled   = "deployment.canceled"    // a queued or building deployment was canceled
	EventDeploymentPromoted   = "deployment.promoted"    // production moved to a newer deployment by an alias
	EventDeploymentRolledBack = "deployment.rolled_back" // production moved back to an older deployment
	EventUsageThreshold       = "usage.threshold"        // a team's usage crossed a share of a plan limit
)

// WebhookEvents lists every event, in the order of a deployment's life.
var WebhookEvents = []string{EventDeploymentCreated, EventDeploymentReady, EventDeploymentError,
	EventDeploymentCanceled, EventDeploymentPromoted, EventDeploymentRolledBack, EventUsageThreshold}

// Headers of a webhook delivery.
const (
	// HeaderSignature is "sha256=" and the hex HMAC-SHA256 of the raw body under the secret.
	HeaderSignature = "X-Ferry-Signature"
	// HeaderVercelSignature is the hex HMAC-SHA1 of the body under the secret, as Vercel signs,
	// for receivers written for Vercel.
	HeaderVercelSignature = "X-Vercel-Signature"
	HeaderEvent           = "X-Ferry-Event"
	// HeaderDelivery is the event's id: the same on every attempt, so receivers dedupe by it.
	HeaderDelivery = "X-Ferry-Delivery"
)

// MinWebhookSecret is the shortest secret a webhook accepts: an HMAC under a guessable key
// proves nothing.
const MinWebhookSecret = 16

// Webhook is a team's webhook. Its secret is never answered.
type Webhook struct {
	ID        string    `json:"id"`
	TeamID    string    `json:"team_id"`
	URL       string    `json:"url"`
	Events    []string  `json:"events"`
	Projects  []string  `json:"projects"` // ids; empty: every project of the team
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// WebhookRequest creates (POST PathWebhooks) or updates (PUT PathWebhook) a webhook. Secret is
// required on create; on update "" keeps the one set.
type WebhookRequest struct {
	URL      string   `json:"url"`
	Events   []string `json:"events"`
	Projects []string `json:"projects,omitempty"` // ids or names
	Secret   string   `json:"secret,omitempty"`
}

// WebhookList answers GET PathWebhooks.
type WebhookList struct {
	Webhooks []Webhook `json:"webhooks"`
}

// WebhookDelivery is one event sent (or to be sent) to a webhook, as Vercel lists them.
type WebhookDelivery struct {
	ID            string     `json:"id"`
	EventID       string     `json:"event_id"`
	Event         string     `json:"event"`
	State         string     `json:"state"` // pending, delivered or failed
	Attempts      int        `json:"attempts"`
	LastStatus    int        `json:"last_status,omitempty"` // the receiver's last HTTP status
	LastError     string     `json:"last_error,omitempty"`
	NextAttemptAt *time.Time `json:"next_attempt_at,omitempty"` // while pending
	CreatedAt     time.Time  `json:"created_at"`
	DeliveredAt   *time.Time `json:"delivered_at,omitempty"`
}

// WebhookDeliveryList answers GET PathWebhookDeliveries, newest first.
type WebhookDeliveryList struct {
	Deliveries []WebhookDelivery `json:"deliveries"`
}

// Bounds of GET PathWebhookDeliveries's limit.
const (
	DefaultDeliveriesLimit = 50
	MaxDeliveriesLimit     = 1000
)

// WebhookEvent is the body of a delivery, shaped as Vercel's: createdAt in unix milliseconds.
type WebhookEvent struct {
	ID        string         `json:"id"`
	Type      string         `json:"type"`
	CreatedAt int64          `json:"createdAt"`
	Payload   map[string]any `json:"payload"`
}

// WebhookURLProblem says what is wrong with a webhook's URL, or "".
func WebhookURLProblem(raw string) string {
	u, err := url.Parse(raw)
	switch {
	case raw == "":
		return "url is empty: give the http(s) URL the events are POSTed to"
	case err != nil:
		return fmt.Sprintf("url %q is not a URL (%v): give an absolute http(s) URL such as https://hooks.example.com/ferry", raw, err)
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Sprintf("url %q has scheme %q: events are POSTed over HTTP, so give an http:// or https:// URL", raw, u.Scheme)
	case u.Host == "":
		return fmt.Sprintf("url %q names no host: give an absolute URL such as https://hooks.example.com/ferry", raw)
	case u.User != nil:
		return fmt.Sprintf("url %q carries credentials: webhooks are authenticated by their signature, so drop the user:password@ part", redactUser(u))
	}
	return ""
}

// redactUser is u without its password, for a message.
func redactUser(u *url.URL) string {
	c := *u
	c.User = url.User("…")
	return c.String()
}

// WebhookEventsProblem says what is wrong with a webhook's list of events, or "".
func WebhookEventsProblem(events []string) string {
	if len(events) == 0 {
		return "events is empty: subscribe to at least one of " + strings.Join(WebhookEvents, ", ")
	}
	for _, e := range events {
		if !slices.Contains(WebhookEvents, e) {
			return fmt.Sprintf("%q is not an event: choose among %s", e, strings.Join(WebhookEvents, ", "))
		}
	}
	return ""
}

// WebhookSecretProblem says what is wrong with a webhook's secret, or "".
func WebhookSecretProblem(secret string) string {
	if len(secret) < MinWebhookSecret {
		return fmt.Sprintf("the secret is %d characters long: give one of at least %d (for example `openssl rand -hex 32`), so that signatures cannot be forged", len(secret), MinWebhookSecret)
	}
	return ""
}
