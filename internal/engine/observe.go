package engine

import (
	"context"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/accesslog"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/edge"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/metering"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/metrics"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/workers"
)

// observability is what the engine records of what it serves and builds.
type observability struct {
	access  *accesslog.Log
	metrics *metrics.Metrics
	meter   *metering.Meter
}

func newObservability(dataDir string, log *slog.Logger, st store.Store, rt *workers.Manager) *observability {
	o := &observability{access: accesslog.New(filepath.Join(dataDir, "logs"), log), metrics: metrics.New(),
		meter: metering.New(metering.Config{Store: st, InstanceTime: rt.TakeInstanceTime, Logger: log})}
	o.metrics.Register(o.meter.Collectors()...)
	o.metrics.Gauge("ferry_running_instances", "Instances with live processes (one per deployment, or per function of a deployment of several).",
		func() float64 { return float64(rt.RunningInstances()) })
	o.metrics.Gauge("ferry_build_queue_depth", "Deployments waiting to be built.", func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		n, err := st.QueuedBuilds(ctx)
		if err != nil {
			log.Warn("metrics: cannot count the queued builds", "error", err)
		}
		return float64(n)
	})
	o.metrics.Counter("ferry_access_log_dropped_total", "Access-log entries dropped because the writer was behind.",
		func() float64 { return float64(o.access.Dropped()) })
	return o
}

// served records a request the edge answered: in the access log and the metrics. It never blocks.
func (o *observability) served(r edge.ServedRequest) {
	durationMS := float64(r.Duration.Microseconds()) / 1000
	o.access.Record(api.RequestLogEntry{
		Time: r.Time.UTC(), DeploymentID: r.DeploymentID, Method: r.Method, Host: r.Host, Path: r.Path,
		Status: r.Status, DurationMS: durationMS, BytesOut: r.BytesOut, ColdStart: r.ColdStart.Waited > 0,
	})
	var started time.Duration
	if r.ColdStart.Initiated {
		started = r.ColdStart.Waited
	}
	o.metrics.ObserveRequest(r.Project, r.DeploymentID, r.Status, r.Time, r.Duration, started)
	o.meter.Request(r.ProjectID, r.DeploymentID, r.Time, r.BytesOut)
}

// buildEnded records a build that ended, READY or ERROR, after took.
func (o *observability) buildEnded(projectID, state string, took time.Duration) {
	o.metrics.ObserveBuild(state, took)
	o.meter.Build(projectID, time.Now(), took)
}

// forget drops what is recorded of a deleted deployment.
func (o *observability) forget(deploymentID string) {
	o.meter.Forget(context.Background(), deploymentID)
	o.access.Remove(deploymentID)
	o.metrics.Forget(deploymentID)
}
