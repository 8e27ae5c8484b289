package apiserver

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
)

// Observability is what the API reads the serving side's logs and metrics from.
type Observability struct {
	// RuntimeLogPath is the file a deployment's instances print to (rotated as logrotate does).
	RuntimeLogPath func(deploymentID string) string
	// AccessLog returns the newest limit entries of a deployment's access log, oldest first.
	AccessLog func(ctx context.Context, deploymentID string, limit int) ([]api.RequestLogEntry, error)
	// Series returns a deployment's per-minute series from now-since on.
	Series func(deploymentID string, since time.Duration, now time.Time) api.DeploymentMetrics
	// Metrics serves the Prometheus text exposition.
	Metrics http.Handler
	// Stopping is closed when the engine stops serving: followed logs end then, rather than hold
	// its shutdown (a client follows again on the engine that serves next).
	Stopping <-chan struct{}
}

func (s *Server) routeObservability() {
	s.route("GET", api.PathDeploymentRuntimeLog, http.HandlerFunc(s.deploymentRuntimeLog))
	s.route("GET", api.PathProjectRuntimeLog, http.HandlerFunc(s.projectRuntimeLog))
	s.handle("GET", api.PathDeploymentRequests, s.deploymentRequests)
	s.handle("GET", api.PathDeploymentMetrics, s.deploymentMetrics)
	if s.cfg.Observe.Metrics != nil {
		s.route("GET", api.PathMetrics, s.cfg.Observe.Metrics)
	}
}

func (s *Server) deploymentRequests(r *http.Request) (int, any, error) {
	d, err := s.deployment(r)
	if err != nil {
		return 0, nil, err
	}
	limit := api.DefaultRequestLimit
	if text := r.URL.Query().Get("limit"); text != "" {
		n, err := strconv.Atoi(text)
		if err != nil || n < 1 || n > api.MaxRequestLimit {
			return 0, nil, badRequest("limit", "limit %q is not a number of requests from 1 to %d: give how many of the newest to list, such as limit=50", text, api.MaxRequestLimit)
		}
		limit = n
	}
	entries, err := s.cfg.Observe.AccessLog(r.Context(), d.ID, limit)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, api.RequestLog{Requests: entries}, nil
}

func (s *Server) deploymentMetrics(r *http.Request) (int, any, error) {
	d, err := s.deployment(r)
	if err != nil {
		return 0, nil, err
	}
	since := api.DefaultMetricsSince
	if text := r.URL.Query().Get("since"); text != "" {
		n, err := time.ParseDuration(text)
		if err != nil || n <= 0 || n > api.MaxMetricsSince {
			return 0, nil, badRequest("since", "since %q is not a positive duration up to %s: give how far back the series go, such as since=1h or since=30m", text, api.MaxMetricsSince)
		}
		since = n
	}
	return http.StatusOK, s.cfg.Observe.Series(d.ID, since, time.Now()), nil
}
