package api

import "time"

// DashboardHostLabel names the dashboard's host on the edge: ferry.<base domain>. No project
// may take it as its name, nor a custom domain as its whole name.
const DashboardHostLabel = "ferry"

// PathDashboardLoginLink is POST: a one-time link that logs a browser into the dashboard, as
// DashboardLoginLink. Served on the engine's unix socket only: whoever may use the socket owns
// the engine.
const PathDashboardLoginLink = "/v1/dashboard/login-link"

// DashboardLoginLink is a link that logs one browser in, once, until ExpiresAt.
type DashboardLoginLink struct {
	URL       string    `json:"url"`
	ExpiresAt time.Time `json:"expires_at"`
}
