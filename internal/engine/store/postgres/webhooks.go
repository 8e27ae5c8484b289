package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
)

const webhookColumns = `id, team_id, url, events, projects, sealed_secret, created_at, updated_at`

func scanWebhook(row pgx.Row) (*store.Webhook, error) {
	var w store.Webhook
	if err := row.Scan(&w.ID, &w.TeamID, &w.URL, &w.Events, &w.Projects, &w.SealedSecret, &w.CreatedAt, &w.UpdatedAt); err != nil {
		return nil, noRows(err)
	}
	return &w, nil
}

// CreateWebhook inserts w.
func (s *Store) CreateWebhook(ctx context.Context, w *store.Webhook) error {
	w.CreatedAt = now()
	w.UpdatedAt = w.CreatedAt
	_, err := s.pool.Exec(ctx, `INSERT INTO webhooks (`+webhookColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		w.ID, w.TeamID, w.URL, append([]string{}, w.Events...), append([]string{}, w.Projects...), w.SealedSecret, w.CreatedAt, w.UpdatedAt)
	if code, constraint := pgCode(err); code == foreignKeyViolation && constraint == "webhooks_team_id_fkey" {
		return fmt.Errorf("team %s: %w", w.TeamID, store.ErrNotFound)
	}
	return err
}

// GetWebhook finds a webhook by id.
func (s *Store) GetWebhook(ctx context.Context, id string) (*store.Webhook, error) {
	return scanWebhook(s.pool.QueryRow(ctx, `SELECT `+webhookColumns+` FROM webhooks WHERE id = $1`, id))
}

// ListWebhooks returns a team's webhooks ("": every team's), oldest first.
func (s *Store) ListWebhooks(ctx context.Context, teamID string) ([]*store.Webhook, error) {
	return listRows(ctx, s.pool, scanWebhook, `SELECT `+webhookColumns+` FROM webhooks WHERE $1 = '' OR team_id = $1 ORDER BY created_at, id`, teamID)
}

// UpdateWebhook replaces w's URL, events, projects and (unless nil) secret.
func (s *Store) UpdateWebhook(ctx context.Context, w *store.Webhook) error {
	w.UpdatedAt = now()
	return oneRow(s.pool.Exec(ctx, `UPDATE webhooks SET url = $1, events = $2, projects = $3, sealed_secret = COALESCE($4, sealed_secret), updated_at = $5 WHERE id = $6`,
		w.URL, append([]string{}, w.Events...), append([]string{}, w.Projects...), w.SealedSecret, w.UpdatedAt, w.ID))
}

// DeleteWebhook deletes a webhook with its deliveries.
func (s *Store) DeleteWebhook(ctx context.Context, id string) error {
	return oneRow(s.pool.Exec(ctx, `DELETE FROM webhooks WHERE id = $1`, id))
}

// EnqueueDeliveries queues deliveries in one transaction.
func (s *Store) EnqueueDeliveries(ctx context.Context, deliveries []*store.Delivery) error {
	at := now()
	return s.inTx(ctx, func(tx pgx.Tx) error {
		for _, d := range deliveries {
			d.State, d.CreatedAt, d.NextAttemptAt = store.DeliveryPending, at, at
			if _, err := tx.Exec(ctx, `INSERT INTO webhook_deliveries (id, webhook_id, event_id, event_type, body, state, next_attempt_at, created_at)
				SELECT $1, $2, $3, $4, $5, $6, $7, $8 WHERE EXISTS (SELECT 1 FROM webhooks WHERE id = $2)
				ON CONFLICT (webhook_id, event_id) DO NOTHING`,
				d.ID, d.WebhookID, d.EventID, d.EventType, d.Body, d.State, at.UnixMilli(), at); err != nil {
				return err
			}
		}
		return nil
	})
}

const deliveryColumns = `id, webhook_id, event_id, event_type, body, state, attempts, last_status, last_error, next_attempt_at, created_at, delivered_at`

func scanDelivery(row pgx.Row) (*store.Delivery, error) {
	var d store.Delivery
	var next int64
	if err := row.Scan(&d.ID, &d.WebhookID, &d.EventID, &d.EventType, &d.Body, &d.State, &d.Attempts, &d.LastStatus, &d.LastError, &next, &d.CreatedAt, &d.DeliveredAt); err != nil {
		return nil, noRows(err)
	}
	d.NextAttemptAt = time.UnixMilli(next).UTC()
	return &d, nil
}

// claimable is the condition of a delivery a node may claim at $1 (unix milliseconds): due,
// not under a running lease, and the oldest pending delivery of its webhook.
const claimable = `state = 'pending' AND next_attempt_at <= $1 AND lease_until < $1
	AND NOT EXISTS (SELECT 1 FROM webhook_deliveries earlier WHERE earlier.webhook_id = webhook_deliveries.webhook_id
		AND earlier.state = 'pending' AND earlier.seq < webhook_deliveries.seq)`

// ClaimDelivery claims the delivery due longest ago. The outer WHERE repeats the condition:
// under READ COMMITTED, a row another node claimed meanwhile is seen anew there, and skipped.
func (s *Store) ClaimDelivery(ctx context.Context, node string, at, leaseUntil time.Time) (*store.Delivery, error) {
	d, err := scanDelivery(s.pool.QueryRow(ctx, `UPDATE webhook_deliveries SET claimed_by = $2, lease_until = $3
		WHERE seq = (SELECT seq FROM webhook_deliveries WHERE `+claimable+` ORDER BY next_attempt_at, seq LIMIT 1 FOR UPDATE SKIP LOCKED)
		AND state = 'pending' AND lease_until < $1
		RETURNING `+deliveryColumns, at.UnixMilli(), node, leaseUntil.UnixMilli()))
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return d, err
}

// RecordAttempt records an attempt at a delivery node holds and ends its claim.
func (s *Store) RecordAttempt(ctx context.Context, id, node string, a store.Attempt) error {
	state, next := store.DeliveryPending, a.Next.UnixMilli()
	var delivered *time.Time
	switch {
	case a.Delivered:
		at := now()
		state, delivered = store.DeliveryDelivered, &at
	case a.Next.IsZero():
		state = store.DeliveryFailed
	}
	if state != store.DeliveryPending {
		next = 0
	}
	tag, err := s.pool.Exec(ctx, `UPDATE webhook_deliveries SET state = $1, attempts = attempts + 1, last_status = $2, last_error = $3,
		next_attempt_at = CASE WHEN $4::BIGINT = 0 THEN next_attempt_at ELSE $4 END, delivered_at = $5, claimed_by = '', lease_until = 0
		WHERE id = $6 AND claimed_by = $7 AND state = 'pending'`,
		state, a.Status, a.Error, next, delivered, id, node)
	return affectedOr(tag, err, store.ErrNotClaimed)
}

// ReleaseDelivery ends node's claim on a delivery without an attempt.
func (s *Store) ReleaseDelivery(ctx context.Context, id, node string) error {
	tag, err := s.pool.Exec(ctx, `UPDATE webhook_deliveries SET claimed_by = '', lease_until = 0 WHERE id = $1 AND claimed_by = $2 AND state = 'pending'`, id, node)
	return affectedOr(tag, err, store.ErrNotClaimed)
}

// PruneDeliveries deletes the ended deliveries queued before before.
func (s *Store) PruneDeliveries(ctx context.Context, before time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM webhook_deliveries WHERE state <> $1 AND created_at < $2`, store.DeliveryPending, before)
	return tag.RowsAffected(), err
}

// ListDeliveries returns a webhook's deliveries, newest first.
func (s *Store) ListDeliveries(ctx context.Context, webhookID string, limit int) ([]*store.Delivery, error) {
	return listRows(ctx, s.pool, scanDelivery, `SELECT `+deliveryColumns+` FROM webhook_deliveries WHERE webhook_id = $1 ORDER BY seq DESC LIMIT $2`, webhookID, limit)
}
