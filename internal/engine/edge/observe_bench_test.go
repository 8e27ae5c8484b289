package edge

import (
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/accesslog"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/metering"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/metrics"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/workers"
)

const benchPython = "/usr/bin/python3"

// BenchmarkObservedFlaskHello measures requests through the edge and the runtime to a Flask
// hello-world with the access log, the metrics and the usage meter recording each one, and
// without: what recording costs the serving path.
func BenchmarkObservedFlaskHello(b *testing.B) {
	if err := exec.Command(benchPython, "-c", "import flask").Run(); err != nil {
		b.Skipf("%s cannot import flask: %v", benchPython, err)
	}
	appDir := b.TempDir()
	source := "from flask import Flask\napp = Flask(__name__)\n\n@app.route('/')\ndef hello():\n    return 'Hello, World!'\n"
	if err := os.WriteFile(filepath.Join(appDir, "app.py"), []byte(source), 0o644); err != nil {
		b.Fatal(err)
	}
	for _, observed := range []bool{false, true} {
		name := "observe=off"
		if observed {
			name = "observe=on"
		}
		b.Run(name, func(b *testing.B) {
			runDir, err := os.MkdirTemp("", "ferry-obs-") //nolint:usetesting // t.TempDir() is too long for socket paths
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = os.RemoveAll(runDir) })
			runtime := workers.New(workers.Config{RunDir: runDir, LogDir: b.TempDir()})
			b.Cleanup(func() { _ = runtime.Shutdown(b.Context()) })
			cfg := Config{Runtime: runtime, App: func(d *store.Deployment) (workers.App, error) {
				return workers.App{ID: d.ID, Dir: appDir, Python: benchPython, Entrypoint: "app:app", Kind: "wsgi"}, nil
			}}
			if observed {
				access := accesslog.New(b.TempDir(), slog.New(slog.DiscardHandler))
				b.Cleanup(access.Close)
				counted := metrics.New()
				meter := metering.New(metering.Config{Logger: slog.New(slog.DiscardHandler)})
				cfg.Observe = func(r ServedRequest) {
					meter.Request(r.ProjectID, r.DeploymentID, r.Time, r.BytesOut)
					access.Record(api.RequestLogEntry{Time: r.Time, DeploymentID: r.DeploymentID, Method: r.Method, Host: r.Host,
						Path: r.Path, Status: r.Status, DurationMS: float64(r.Duration.Microseconds()) / 1000, BytesOut: r.BytesOut})
					counted.ObserveRequest(r.Project, r.DeploymentID, r.Status, r.Time, r.Duration, 0)
				}
				b.Cleanup(func() {
					if dropped := access.Dropped(); dropped > 0 {
						b.Errorf("%d access-log entries dropped", dropped)
					}
				})
			}
			e := newTestEdge(b, cfg)
			e.project(b, "prj_bench", "bench")
			e.deployment(b, "prj_bench", "bench", "dpl_bench", "production", "READY")
			e.sync(b)
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
			defer client.CloseIdleConnections()
			get := func() error {
				req, _ := http.NewRequest("GET", e.url+"/", nil)
				req.Host = "bench.localhost"
				resp, err := client.Do(req)
				if err != nil {
					return err
				}
				_, err = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Errorf("status %d", resp.StatusCode)
				}
				return err
			}
			if err := get(); err != nil { // start it outside the measurement
				b.Fatal(err)
			}
			b.SetParallelism(16)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := get(); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
