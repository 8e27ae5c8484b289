package api

import "time"

// Logs and metrics of the serving side.
const (
	// GET: the runtime log (stdout/stderr of the deployment's instances) as text/plain; ?tail=N: the last N
	// lines (default 1000); ?follow=1: keep streaming new lines until the client goes away or the deployment is deleted.
	PathDeploymentRuntimeLog = "/v1/deployments/{deployment}/runtime-log"
	// GET: the same over every deployment of the project, each line prefixed by "<deployment id> ".
	PathProjectRuntimeLog = "/v1/projects/{project}/runtime-log"
	// GET ?limit=N (default 100, max 1000): the newest access-log entries of a deployment, oldest first, as RequestLog.
	PathDeploymentRequests = "/v1/deployments/{deployment}/requests"
	// GET ?since=<Go duration> (default 1h, max 24h): per-minute series of a deployment, as DeploymentMetrics.
	PathDeploymentMetrics = "/v1/deployments/{deployment}/metrics"
	// GET: Prometheus text exposition, on the API listener, behind the same token as the rest of the API.
	PathMetrics = "/metrics"
)

// Bounds of the query parameters of the paths above.
const (
	DefaultRuntimeLogTail = 1000
	MaxRuntimeLogTail     = 100000
	DefaultRequestLimit   = 100
	MaxRequestLimit       = 1000
	DefaultMetricsSince   = time.Hour
	MaxMetricsSince       = 24 * time.Hour
	MetricsStepSeconds    = 60
)

// RequestLogEntry is one request the edge answered for a deployment.
type RequestLogEntry struct {
	Time         time.Time `json:"time"`
	DeploymentID string    `json:"deployment_id"`
	Method       string    `json:"method"`
	Host         string    `json:"host"`
	Path         string    `json:"path"` // without the query string (it may carry secrets)
	Status       int       `json:"status"`
	DurationMS   float64   `json:"duration_ms"`
	BytesOut     int64     `json:"bytes_out"`
	ColdStart    bool      `json:"cold_start"` // this request waited for an instance to start
}

// RequestLog answers GET PathDeploymentRequests.
type RequestLog struct {
	Requests []RequestLogEntry `json:"requests"`
}

// MetricsPoint is one minute of a deployment's requests.
type MetricsPoint struct {
	Start      time.Time `json:"start"` // start of the minute, UTC
	Requests   int64     `json:"requests"`
	Errors     int64     `json:"errors"` // 5xx answers
	ColdStarts int64     `json:"cold_starts"`
	P50MS      float64   `json:"p50_ms"`
	P99MS      float64   `json:"p99_ms"`
}

// DeploymentMetrics answers GET PathDeploymentMetrics.
type DeploymentMetrics struct {
	DeploymentID string         `json:"deployment_id"`
	StepSeconds  int            `json:"step_seconds"` // 60
	Points       []MetricsPoint `json:"points"`       // oldest first; minutes without requests are omitted
}
