package engine

import (
	"encoding/json"
	"net"
	"net/http"
	"strings"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/dashboard"
)

// dashboardAt serves the dashboard on the edge at its own host (ferry.<base domain>), which no
// project or custom domain may take, and everything else as next does.
func dashboardAt(host string, dash, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.ToLower(r.Host)
		if h, _, err := net.SplitHostPort(name); err == nil {
			name = h
		}
		if strings.TrimSuffix(name, ".") == host {
			dash.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// apiOrDashboard serves the API under /v1 (and its /metrics) and the dashboard on every other
// path of the TCP API listener, so that the API's address opens the dashboard in a browser.
func apiOrDashboard(apiHandler, dash http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/v1/") || r.URL.Path == "/metrics" {
			apiHandler.ServeHTTP(w, r)
			return
		}
		dash.ServeHTTP(w, r)
	})
}

// loginLinkHandler answers api.PathDashboardLoginLink with a new one-time link on dashboardURL.
func loginLinkHandler(dash *dashboard.Dashboard, dashboardURL string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		key, expires := dash.NewLoginLink()
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(api.DashboardLoginLink{URL: dashboardURL + "/login/" + key, ExpiresAt: expires.UTC()}) // a failed write means the client has gone
	}
}

// httpsOnly redirects plain HTTP to the same path at httpsBase: a dashboard served on the
// internet takes tokens and sets session cookies over HTTPS only.
func httpsOnly(httpsBase string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil {
			http.Redirect(w, r, httpsBase+r.URL.RequestURI(), http.StatusPermanentRedirect)
			return
		}
		next.ServeHTTP(w, r)
	})
}
