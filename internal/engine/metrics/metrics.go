// Package metrics counts what the engine serves and builds: Prometheus metrics for scrapers
// (Handler), and per-minute series of each deployment for the dashboard's charts (Series).
//
// The series are kept in memory by each engine, for MaxSeriesAge: counting a request there costs
// a few map and array updates under one lock, where deriving them from the access log would
// mean reading and decoding up to tens of megabytes at every refresh of a chart, and would lose
// the minutes that the access log's cap has already let go on a busy deployment. They start
// empty when the engine starts, and each engine of several counts what it served.
package metrics

import (
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
)

// Metrics is one engine's metrics.
type Metrics struct {
	registry          *prometheus.Registry
	requests          *prometheus.CounterVec
	requestDuration   *prometheus.HistogramVec
	coldStarts        *prometheus.CounterVec
	coldStartDuration *prometheus.HistogramVec
	builds            *prometheus.CounterVec
	buildDuration     prometheus.Histogram

	mu        sync.Mutex
	series    map[string]*deploymentSeries // by deployment id
	forgotten map[string]bool              // deleted deployments, whose late requests are not counted
}

// New returns the metrics of an engine, with Go's and the process's own.
func New() *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ferry_http_requests_total",
			Help: "Requests the edge answered for deployments, by project, deployment and status class (2xx, 5xx, ...).",
		}, []string{"project", "deployment", "status_class"}),
		requestDuration: histogramByProject("ferry_http_request_duration_seconds",
			"Time from a request's arrival at the edge to the end of its answer, by project.",
			.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300),
		coldStarts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ferry_cold_starts_total",
			Help: "Instances started by a request that found none running, by project.",
		}, []string{"project"}),
		coldStartDuration: histogramByProject("ferry_cold_start_duration_seconds",
			"How long the request that started an instance waited for it, by project.",
			.005, .01, .02, .03, .05, .1, .2, .5, 1, 2, 5, 10, 30),
		builds: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ferry_builds_total",
			Help: "Builds that ended, by outcome (ready, error).",
		}, []string{"outcome"}),
		buildDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "ferry_build_duration_seconds",
			Help:    "Time from a build's start to its end, ready or failed.",
			Buckets: []float64{1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 1800},
		}),
		series:    map[string]*deploymentSeries{},
		forgotten: map[string]bool{},
	}
	m.registry.MustRegister(m.requests, m.requestDuration, m.coldStarts, m.coldStartDuration, m.builds, m.buildDuration,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Register adds collectors of other packages to what Handler serves.
func (m *Metrics) Register(collectors ...prometheus.Collector) {
	m.registry.MustRegister(collectors...)
}

func histogramByProject(name, help string, buckets ...float64) *prometheus.HistogramVec {
	return prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets}, []string{"project"})
}

// Gauge adds a gauge whose value is read at each scrape, such as the instances running.
func (m *Metrics) Gauge(name, help string, value func() float64) {
	m.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, value))
}

// Counter adds a counter whose value is read at each scrape.
func (m *Metrics) Counter(name, help string, value func() float64) {
	m.registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, value))
}

// Handler serves the Prometheus text exposition.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// statusClasses are the status_class labels, by status/100.
var statusClasses = [...]string{"0xx", "1xx", "2xx", "3xx", "4xx", "5xx"}

// ObserveRequest counts one request answered for a deployment at began. coldStart is how long it
// waited for the instance it started (0: it started none).
func (m *Metrics) ObserveRequest(project, deploymentID string, status int, began time.Time, took, coldStart time.Duration) {
	class := "other"
	if i := status / 100; i >= 0 && i < len(statusClasses) {
		class = statusClasses[i]
	}
	m.requestDuration.WithLabelValues(project).Observe(took.Seconds())
	if coldStart > 0 {
		m.coldStarts.WithLabelValues(project).Inc()
		m.coldStartDuration.WithLabelValues(project).Observe(coldStart.Seconds())
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.forgotten[deploymentID] {
		return // answered while its deployment was deleted: its labels and series are gone for good
	}
	m.requests.WithLabelValues(project, deploymentID, class).Inc()
	s := m.series[deploymentID]
	if s == nil {
		s = &deploymentSeries{}
		m.series[deploymentID] = s
	}
	s.add(began, status >= 500, coldStart > 0, took)
}

// ObserveBuild counts one build that ended in state (READY or ERROR) after took.
func (m *Metrics) ObserveBuild(state string, took time.Duration) {
	m.builds.WithLabelValues(strings.ToLower(state)).Inc()
	m.buildDuration.Observe(took.Seconds())
}

// Forget drops a deleted deployment's series and labels.
func (m *Metrics) Forget(deploymentID string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.forgotten[deploymentID] = true
	m.requests.DeletePartialMatch(prometheus.Labels{"deployment": deploymentID})
	delete(m.series, deploymentID)
}

// Series returns a deployment's minutes from now-since on, oldest first.
func (m *Metrics) Series(deploymentID string, since time.Duration, now time.Time) api.DeploymentMetrics {
	out := api.DeploymentMetrics{DeploymentID: deploymentID, StepSeconds: api.MetricsStepSeconds, Points: []api.MetricsPoint{}}
	from := now.Add(-since).Unix() / 60
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.series[deploymentID]
	if s == nil {
		return out
	}
	s.prune(now)
	for i := range s.minutes {
		b := &s.minutes[i]
		if b.minute < from {
			continue
		}
		out.Points = append(out.Points, api.MetricsPoint{
			Start: time.Unix(b.minute*60, 0).UTC(), Requests: b.requests, Errors: b.errors, ColdStarts: b.coldStarts,
			P50MS: b.quantileMS(0.50), P99MS: b.quantileMS(0.99),
		})
	}
	return out
}
