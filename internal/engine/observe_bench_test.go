package engine

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/edge"
)

// BenchmarkRecordRequest measures what recording one served request costs the request's
// goroutine (access-log entry queued, Prometheus counters and histogram, per-minute series, usage),
// from as many goroutines at once as a busy edge has: the part of observation that is on the
// serving path. The access-log writer's own work is off it (see accesslog's BenchmarkWriter);
// here it falls behind and drops entries, as it would at a million requests a second.
func BenchmarkRecordRequest(b *testing.B) {
	o := newObservability(b.TempDir(), slog.New(slog.NewTextHandler(io.Discard, nil)), nil, nil)
	b.Cleanup(o.access.Close)
	deployments := []string{"dpl_a", "dpl_b", "dpl_c", "dpl_d"}
	b.SetParallelism(16)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for i := 0; pb.Next(); i++ {
			o.served(edge.ServedRequest{
				Time: time.Now(), Project: "bench", ProjectID: "prj_bench", DeploymentID: deployments[i%len(deployments)], Method: "GET",
				Host: "bench.localhost", Path: "/", Status: 200, Duration: 70 * time.Microsecond, BytesOut: 13,
			})
		}
	})
}
