package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
)

// CreateWebhook creates a webhook of a team; its secret is sent once and never answered.
func (c *Client) CreateWebhook(ctx context.Context, team string, req api.WebhookRequest) (*api.Webhook, error) {
	var w api.Webhook
	if err := c.do(ctx, http.MethodPost, expand(api.PathWebhooks, "team", team), nil, req, &w); err != nil {
		return nil, err
	}
	return &w, nil
}

// GetWebhook returns a webhook of a team.
func (c *Client) GetWebhook(ctx context.Context, team, id string) (*api.Webhook, error) {
	var w api.Webhook
	if err := c.do(ctx, http.MethodGet, expand(api.PathWebhook, "team", team, "webhook", id), nil, nil, &w); err != nil {
		return nil, err
	}
	return &w, nil
}

// ListWebhooks returns a team's webhooks, oldest first.
func (c *Client) ListWebhooks(ctx context.Context, team string) ([]api.Webhook, error) {
	var l api.WebhookList
	if err := c.do(ctx, http.MethodGet, expand(api.PathWebhooks, "team", team), nil, nil, &l); err != nil {
		return nil, err
	}
	return l.Webhooks, nil
}

// UpdateWebhook replaces a webhook's URL, events and projects, and its secret unless req.Secret is "".
func (c *Client) UpdateWebhook(ctx context.Context, team, id string, req api.WebhookRequest) (*api.Webhook, error) {
	var w api.Webhook
	if err := c.do(ctx, http.MethodPut, expand(api.PathWebhook, "team", team, "webhook", id), nil, req, &w); err != nil {
		return nil, err
	}
	return &w, nil
}

// DeleteWebhook deletes a webhook with its deliveries.
func (c *Client) DeleteWebhook(ctx context.Context, team, id string) error {
	return c.do(ctx, http.MethodDelete, expand(api.PathWebhook, "team", team, "webhook", id), nil, nil, nil)
}

// ListWebhookDeliveries returns a webhook's deliveries, newest first, at most limit (0: the
// engine's default).
func (c *Client) ListWebhookDeliveries(ctx context.Context, team, id string, limit int) ([]api.WebhookDelivery, error) {
	q := url.Values{}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var l api.WebhookDeliveryList
	if err := c.do(ctx, http.MethodGet, expand(api.PathWebhookDeliveries, "team", team, "webhook", id), q, nil, &l); err != nil {
		return nil, err
	}
	return l.Deliveries, nil
}
