package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
)

// UsageQuery selects a usage report: a project ("" for every one) and days (YYYY-MM-DD; "" for
// the engine's defaults: this month up to today).
type UsageQuery struct {
	Project, Since, Until string
}

// Usage reports what projects used, by day.
func (c *Client) Usage(ctx context.Context, q UsageQuery) (*api.UsageReport, error) {
	query := url.Values{}
	for name, value := range map[string]string{"project": q.Project, "since": q.Since, "until": q.Until} {
		if value != "" {
			query.Set(name, value)
		}
	}
	var out api.UsageReport
	if err := c.do(ctx, http.MethodGet, api.PathUsage, query, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
