package client

import (
	"context"
	"net/http"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
)

// DashboardLoginLink asks the engine for a one-time link into its dashboard; only its unix
// socket answers.
func (c *Client) DashboardLoginLink(ctx context.Context) (*api.DashboardLoginLink, error) {
	var l api.DashboardLoginLink
	if err := c.do(ctx, http.MethodPost, api.PathDashboardLoginLink, nil, nil, &l); err != nil {
		return nil, err
	}
	return &l, nil
}
