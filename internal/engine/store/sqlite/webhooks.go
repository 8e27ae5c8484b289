package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
)

const webhookColumns = `id, team_id, url, events, projects, sealed_secret, created_at, updated_at`

func scanWebhook(row scanner) (*store.Webhook, error) {
	var w store.Webhook
	var events, projects string
	err := row.Scan(&w.ID, &w.TeamID, &w.URL, &events, &projects, &w.SealedSecret, &w.CreatedAt, &w.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if err := errors.Join(json.Unmarshal([]byte(events), &w.Events), json.Unmarshal([]byte(projects), &w.Projects)); err != nil {
		return nil, fmt.Errorf("webhook %s: %w", w.ID, err)
	}
	return &w, nil
}

// webhookLists encodes a webhook's events and projects as stored.
func webhookLists(w *store.Webhook) (events, projects string, err error) {
	e, err := json.Marshal(append([]string{}, w.Events...))
	if err != nil {
		return "", "", err
	}
	p, err := json.Marshal(append([]string{}, w.Projects...))
	return string(e), string(p), err
}

// CreateWebhook inserts w.
func (s *Store) CreateWebhook(ctx context.Context, w *store.Webhook) error {
	w.CreatedAt = now()
	w.UpdatedAt = w.CreatedAt
	events, projects, err := webhookLists(w)
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if err := teamExists(ctx, tx, w.TeamID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO webhooks (`+webhookColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			w.ID, w.TeamID, w.URL, events, projects, w.SealedSecret, w.CreatedAt, w.UpdatedAt)
		return err
	})
}

// GetWebhook finds a webhook by id.
func (s *Store) GetWebhook(ctx context.Context, id string) (*store.Webhook, error) {
	return scanWebhook(s.db.QueryRowContext(ctx, `SELECT `+webhookColumns+` FROM webhooks WHERE id = ?`, id))
}

// ListWebhooks returns a team's webhooks ("": every team's), oldest first.
func (s *Store) ListWebhooks(ctx context.Context, teamID string) ([]*store.Webhook, error) {
	return listRows(ctx, s.db, scanWebhook, `SELECT `+webhookColumns+` FROM webhooks WHERE ? = '' OR team_id = ? ORDER BY created_at, id`, teamID, teamID)
}

// UpdateWebhook replaces w's URL, events, projects and (unless nil) secret.
func (s *Store) UpdateWebhook(ctx context.Context, w *store.Webhook) error {
	w.UpdatedAt = now()
	events, projects, err := webhookLists(w)
	if err != nil {
		return err
	}
	return oneRow(s.db.ExecContext(ctx, `UPDATE webhooks SET url = ?, events = ?, projects = ?, sealed_secret = COALESCE(?, sealed_secret), updated_at = ? WHERE id = ?`,
		w.URL, events, projects, w.SealedSecret, w.UpdatedAt, w.ID))
}

// DeleteWebhook deletes a webhook with its deliveries.
func (s *Store) DeleteWebhook(ctx context.Context, id string) error {
	return oneRow(s.db.ExecContext(ctx, `DELETE FROM webhooks WHERE id = ?`, id))
}

// EnqueueDeliveries queues deliveries in one transaction.
func (s *Store) EnqueueDeliveries(ctx context.Context, deliveries []*store.Delivery) error {
	at := now()
	return s.inTx(ctx, func(tx *sql.Tx) error {
		for _, d := range deliveries {
			d.State, d.CreatedAt, d.NextAttemptAt = store.DeliveryPending, at, at
			if _, err := tx.ExecContext(ctx, `INSERT INTO webhook_deliveries (id, webhook_id, event_id, event_type, body, state, next_attempt_at, created_at)
				SELECT ?, ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM webhooks WHERE id = ?)
				ON CONFLICT (webhook_id, event_id) DO NOTHING`,
				d.ID, d.WebhookID, d.EventID, d.EventType, d.Body, d.State, at.UnixMilli(), at, d.WebhookID); err != nil {
				return err
			}
		}
		return nil
	})
}

// PruneDeliveries deletes the ended deliveries queued before before.
func (s *Store) PruneDeliveries(ctx context.Context, before time.Time) (int64, error) {
	return rowsAffected(s.db.ExecContext(ctx, `DELETE FROM webhook_deliveries WHERE state <> ? AND created_at < ?`, store.DeliveryPending, before.UTC()))
}

const deliveryColumns = `id, webhook_id, event_id, event_type, body, state, attempts, last_status, last_error, next_attempt_at, created_at, delivered_at`

func scanDelivery(row scanner) (*store.Delivery, error) {
	var d store.Delivery
	var next int64
	var delivered sql.NullTime
	err := row.Scan(&d.ID, &d.WebhookID, &d.EventID, &d.EventType, &d.Body, &d.State, &d.Attempts, &d.LastStatus, &d.LastError, &next, &d.CreatedAt, &delivered)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	d.NextAttemptAt, d.DeliveredAt = time.UnixMilli(next).UTC(), nullTime(delivered)
	return &d, err
}

// claimable is the condition of a delivery a node may claim at ?1 (unix milliseconds): due,
// not under a running lease, and the oldest pending delivery of its webhook.
const claimable = `state = 'pending' AND next_attempt_at <= ?1 AND lease_until < ?1
	AND NOT EXISTS (SELECT 1 FROM webhook_deliveries earlier WHERE earlier.webhook_id = webhook_deliveries.webhook_id
		AND earlier.state = 'pending' AND earlier.seq < webhook_deliveries.seq)`

// ClaimDelivery claims the delivery due longest ago, in one UPDATE.
func (s *Store) ClaimDelivery(ctx context.Context, node string, at, leaseUntil time.Time) (*store.Delivery, error) {
	d, err := scanDelivery(s.db.QueryRowContext(ctx, `UPDATE webhook_deliveries SET claimed_by = ?2, lease_until = ?3
		WHERE seq = (SELECT seq FROM webhook_deliveries WHERE `+claimable+` ORDER BY next_attempt_at, seq LIMIT 1)
		RETURNING `+deliveryColumns, at.UnixMilli(), node, leaseUntil.UnixMilli()))
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return d, err
}

// RecordAttempt records an attempt at a delivery node holds and ends its claim.
func (s *Store) RecordAttempt(ctx context.Context, id, node string, a store.Attempt) error {
	state, next := store.DeliveryPending, a.Next.UnixMilli()
	var delivered any
	switch {
	case a.Delivered:
		state, delivered = store.DeliveryDelivered, now()
	case a.Next.IsZero():
		state = store.DeliveryFailed
	}
	if state != store.DeliveryPending {
		next = 0
	}
	res, err := s.db.ExecContext(ctx, `UPDATE webhook_deliveries SET state = ?, attempts = attempts + 1, last_status = ?, last_error = ?,
		next_attempt_at = CASE WHEN ? = 0 THEN next_attempt_at ELSE ? END, delivered_at = ?, claimed_by = '', lease_until = 0
		WHERE id = ? AND claimed_by = ? AND state = 'pending'`,
		state, a.Status, a.Error, next, next, delivered, id, node)
	return affectedOr(res, err, store.ErrNotClaimed)
}

// ReleaseDelivery ends node's claim on a delivery without an attempt.
func (s *Store) ReleaseDelivery(ctx context.Context, id, node string) error {
	res, err := s.db.ExecContext(ctx, `UPDATE webhook_deliveries SET claimed_by = '', lease_until = 0 WHERE id = ? AND claimed_by = ? AND state = 'pending'`, id, node)
	return affectedOr(res, err, store.ErrNotClaimed)
}

// ListDeliveries returns a webhook's deliveries, newest first.
func (s *Store) ListDeliveries(ctx context.Context, webhookID string, limit int) ([]*store.Delivery, error) {
	return listRows(ctx, s.db, scanDelivery, `SELECT `+deliveryColumns+` FROM webhook_deliveries WHERE webhook_id = ? ORDER BY seq DESC LIMIT ?`, webhookID, limit)
}
