// Package metering counts what each project uses, by day: requests and bytes out as the edge
// answers them, function time weighted by memory as instances run, build time as builds end.
// Amounts wait in memory and are added to the store every so often, by every node alike: the
// store sums them. What `ferry usage`, the dashboard and plan limits read comes from there.
package metering

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/workers"
)

// FlushEvery is how often a running engine adds what it counted to the store.
const FlushEvery = 10 * time.Second

// Config wires a Meter.
type Config struct {
	Store store.Store
	// InstanceTime hands over how long instances ran since it was last called, by deployment.
	InstanceTime func() map[string]workers.InstanceTime
	Logger       *slog.Logger
	Now          func() time.Time // nil: time.Now
}

// Meter counts usage for one engine node.
type Meter struct {
	cfg Config

	mu       sync.Mutex
	pending  map[dayKey]*store.UsageRecord
	projects map[string]string // deployment id -> project id, learnt from the requests that started its instances

	requests, bytesOut, gbSeconds, buildSeconds *prometheus.CounterVec
}

type dayKey struct {
	project string
	day     int64 // days since 1970-01-01, UTC
}

// New returns a Meter; Run adds what it counts to the store.
func New(cfg Config) *Meter {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	counter := func(name, help string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, []string{"project_id"})
	}
	return &Meter{
		cfg: cfg, pending: map[dayKey]*store.UsageRecord{}, projects: map[string]string{},
		requests:     counter("ferry_usage_requests_total", "Requests metered, by project (added to the store every 10 s)."),
		bytesOut:     counter("ferry_usage_bytes_out_total", "Bytes of responses metered, by project."),
		gbSeconds:    counter("ferry_usage_function_gb_seconds_total", "Function time metered: memory limit in GB times seconds run, by project."),
		buildSeconds: counter("ferry_usage_build_seconds_total", "Build time metered, by project."),
	}
}

// Collectors are the Prometheus counters of what was metered.
func (m *Meter) Collectors() []prometheus.Collector {
	return []prometheus.Collector{m.requests, m.bytesOut, m.gbSeconds, m.buildSeconds}
}

// record returns the pending record of project on the day of at. m.mu must be held.
func (m *Meter) record(project string, at time.Time) *store.UsageRecord {
	day := store.Day(at)
	key := dayKey{project, day.Unix() / 86400}
	r := m.pending[key]
	if r == nil {
		r = &store.UsageRecord{ProjectID: project, Day: day}
		m.pending[key] = r
	}
	return r
}

// Request counts a request to a deployment of project that arrived at at and sent bytesOut.
func (m *Meter) Request(projectID, deploymentID string, at time.Time, bytesOut int64) {
	if projectID == "" {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.projects[deploymentID] = projectID
	r := m.record(projectID, at)
	r.Requests++
	r.BytesOut += bytesOut
}

// Build counts a build of project that ended at at after took.
func (m *Meter) Build(projectID string, at time.Time, took time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.record(projectID, at).BuildMillis += took.Milliseconds()
}

// Forget counts the time a deleted deployment's instances ran, then forgets which project it
// was of.
func (m *Meter) Forget(ctx context.Context, deploymentID string) {
	m.collectInstanceTime(ctx)
	m.mu.Lock()
	delete(m.projects, deploymentID)
	m.mu.Unlock()
}

// collectInstanceTime takes the time instances ran into the pending records, on today.
func (m *Meter) collectInstanceTime(ctx context.Context) {
	ran := m.cfg.InstanceTime()
	if len(ran) == 0 {
		return
	}
	now := m.cfg.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	for deploymentID, t := range ran {
		project, ok := m.projects[deploymentID]
		if !ok {
			// Not learnt from a request (an instance this node took over, say): the store knows.
			m.mu.Unlock()
			d, err := m.cfg.Store.GetDeployment(ctx, deploymentID)
			m.mu.Lock()
			if err != nil {
				m.cfg.Logger.Warn("metering: function time of an unknown deployment is not counted", "deployment", deploymentID, "error", err)
				continue
			}
			project = d.ProjectID
			m.projects[deploymentID] = project
		}
		m.record(project, now).MemoryMBMillis += t.MemoryMB * t.Duration.Milliseconds()
	}
}

// Flush adds what was counted to the store. What the store refuses stays pending, to be added
// by the next flush: nothing counted is lost while the engine runs.
func (m *Meter) Flush(ctx context.Context) error {
	m.collectInstanceTime(ctx)
	m.mu.Lock()
	records := make([]store.UsageRecord, 0, len(m.pending))
	for _, r := range m.pending {
		records = append(records, *r)
	}
	taken := m.pending
	m.pending = map[dayKey]*store.UsageRecord{}
	m.mu.Unlock()
	if len(records) == 0 {
		return nil
	}
	if err := m.cfg.Store.AddUsage(ctx, records); err != nil {
		m.mu.Lock()
		for key, r := range taken {
			back := m.record(r.ProjectID, time.Unix(key.day*86400, 0))
			back.Requests += r.Requests
			back.BytesOut += r.BytesOut
			back.MemoryMBMillis += r.MemoryMBMillis
			back.BuildMillis += r.BuildMillis
		}
		m.mu.Unlock()
		return err
	}
	for _, r := range records {
		m.requests.WithLabelValues(r.ProjectID).Add(float64(r.Requests))
		m.bytesOut.WithLabelValues(r.ProjectID).Add(float64(r.BytesOut))
		m.gbSeconds.WithLabelValues(r.ProjectID).Add(float64(r.MemoryMBMillis) / 1024 / 1000)
		m.buildSeconds.WithLabelValues(r.ProjectID).Add(float64(r.BuildMillis) / 1000)
	}
	return nil
}

// Run flushes every FlushEvery until ctx ends, then once more.
func (m *Meter) Run(ctx context.Context) {
	ticker := time.NewTicker(FlushEvery)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			final, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			if err := m.Flush(final); err != nil {
				m.cfg.Logger.Error("metering: what was counted last could not be stored", "error", err)
			}
			return
		case <-ticker.C:
			if err := m.Flush(ctx); err != nil && ctx.Err() == nil {
				m.cfg.Logger.Warn("metering: cannot add usage to the store; it is kept for the next try", "error", err)
			}
		}
	}
}
