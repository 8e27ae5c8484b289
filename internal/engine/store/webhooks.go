package store

import (
	"context"
	"time"
)

// States of a webhook delivery.
const (
	DeliveryPending   = "pending"   // waiting for its next attempt
	DeliveryDelivered = "delivered" // the receiver answered 2xx
	DeliveryFailed    = "failed"    // every attempt failed until the engine gave up
)

// Webhooks keeps a team's webhooks and the queue of their deliveries. A delivery is claimed by
// one node at a time under a lease, as builds are; a webhook's deliveries are sent in the order
// they were queued, one at a time, so that a receiver sees its events in order.
type Webhooks interface {
	// CreateWebhook inserts w: ErrNotFound when its team is gone.
	CreateWebhook(ctx context.Context, w *Webhook) error
	// GetWebhook finds a webhook by id.
	GetWebhook(ctx context.Context, id string) (*Webhook, error)
	// ListWebhooks returns a team's webhooks ("": every team's), oldest first.
	ListWebhooks(ctx context.Context, teamID string) ([]*Webhook, error)
	// UpdateWebhook replaces w's URL, events and projects, and its secret unless
	// w.SealedSecret is nil. ErrNotFound when it is gone.
	UpdateWebhook(ctx context.Context, w *Webhook) error
	// DeleteWebhook deletes a webhook with its deliveries.
	DeleteWebhook(ctx context.Context, id string) error

	// EnqueueDeliveries queues deliveries, all in one transaction, each due at once. One whose
	// webhook was deleted meanwhile is skipped.
	EnqueueDeliveries(ctx context.Context, deliveries []*Delivery) error
	// ClaimDelivery claims for node, until leaseUntil, the delivery due longest ago that is the
	// oldest pending one of its webhook and not claimed under a running lease; nil when none is.
	// Two nodes never claim the same delivery, nor two deliveries of one webhook, at once.
	ClaimDelivery(ctx context.Context, node string, now, leaseUntil time.Time) (*Delivery, error)
	// RecordAttempt records an attempt at a delivery node holds, and ends its claim:
	// ErrNotClaimed when node no longer holds it.
	RecordAttempt(ctx context.Context, id, node string, a Attempt) error
	// ReleaseDelivery ends node's claim on a delivery without an attempt (the engine stops).
	ReleaseDelivery(ctx context.Context, id, node string) error
	// ListDeliveries returns a webhook's deliveries, newest first, at most limit.
	ListDeliveries(ctx context.Context, webhookID string, limit int) ([]*Delivery, error)
	// PruneDeliveries deletes the deliveries queued before before that have ended (delivered or
	// failed), and says how many it deleted; pending ones stay, however old.
	PruneDeliveries(ctx context.Context, before time.Time) (int64, error)
}

// Webhook is a stored webhook; its secret is sealed.
type Webhook struct {
	ID           string
	TeamID       string
	URL          string
	Events       []string // api.Event*
	Projects     []string // ids; empty: every project of the team
	SealedSecret []byte
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Delivery is one event on its way to one webhook.
type Delivery struct {
	ID            string
	WebhookID     string
	EventID       string // the same for every webhook the event goes to: receivers dedupe by it
	EventType     string
	Body          []byte // the JSON sent, as signed
	State         string // Delivery*
	Attempts      int
	LastStatus    int    // the HTTP status of the last attempt; 0 for none or no answer
	LastError     string // why the last attempt failed
	NextAttemptAt time.Time
	CreatedAt     time.Time
	DeliveredAt   *time.Time
}

// Attempt is the outcome of one attempt at a delivery.
type Attempt struct {
	Status    int    // the receiver's HTTP status; 0 when it did not answer
	Error     string // "" when delivered
	Delivered bool
	// Next is when to try again; zero with Delivered false gives up: the delivery failed.
	Next time.Time
}
