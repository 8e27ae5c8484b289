package workers

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/sandbox"
)

// benchSandbox is one way of running the app that the benchmarks compare.
type benchSandbox struct {
	name    string
	sandbox *sandbox.Sandbox
}

// sandboxes are what the benchmarks compare: no sandbox, the user-namespace sandbox (PID
// namespace, Landlock, cgroups or rlimits with the default project limits), which any user can
// have, and, as root, the per-project uids that an engine run as root uses.
func sandboxes(b testing.TB) []benchSandbox {
	out := []benchSandbox{{"sandbox=none", nil}}
	for _, mode := range []sandbox.Mode{sandbox.ModeUserNS, sandbox.ModeUIDs} {
		sb, err := sandbox.New(sandbox.Config{Mode: mode, Name: "bench-" + string(mode)})
		if err != nil {
			b.Logf("no sandbox mode %s to compare with: %v", mode, err)
			continue
		}
		b.Cleanup(sb.Close)
		out = append(out, benchSandbox{"sandbox=" + string(mode), sb})
	}
	return out
}

// benchHarness serves source in sb; with a uid of its own, the app and run directories are made
// reachable for it, as the engine makes its data dir.
func benchHarness(b testing.TB, sb *sandbox.Sandbox, source string) *harness {
	dir := writeApp(b, map[string]string{"app.py": source})
	app := App{Dir: dir, Limits: benchLimits}
	if sb.SeparateIdentities() {
		first, _ := sb.UIDRange()
		app.Identity = sandbox.Identity{UID: first, GID: first}
		for _, d := range []string{filepath.Dir(dir), dir} {
			if err := os.Chmod(d, 0o755); err != nil {
				b.Fatal(err)
			}
		}
	}
	h := newHarness(b, Config{Sandbox: sb}, app)
	if sb.SeparateIdentities() {
		if err := os.Chmod(h.manager.cfg.RunDir, 0o711); err != nil {
			b.Fatal(err)
		}
	}
	return h
}

// benchLimits are the default limits of a project, but for CPU: every core, as the app has
// without a sandbox, so that the comparison measures the sandbox's cost and not its quota.
var benchLimits = sandbox.Limits{MemoryMB: 2048, CPU: float64(runtime.NumCPU()), Processes: 256, OpenFiles: 4096}

const flaskHelloApp = `
from flask import Flask

app = Flask(__name__)

@app.route("/")
def hello():
    return "Hello, World!"
`

// BenchmarkFlaskHello measures requests through an HTTP server and the runtime to a Flask hello-world,
// with the default Workers and Threads and 16 clients per CPU.
func BenchmarkFlaskHello(b *testing.B) {
	requirePython(b, "flask")
	for _, sb := range sandboxes(b) {
		b.Run(sb.name, func(b *testing.B) {
			benchmarkHello(b, benchHarness(b, sb.sandbox, flaskHelloApp))
		})
	}
}

func benchmarkHello(b *testing.B, h *harness) {
	h.get(b, "/") // start it outside the measurement
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	defer client.CloseIdleConnections()

	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := client.Get(h.server.URL + "/")
			if err != nil {
				b.Error(err)
				return
			}
			_, err = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if err != nil {
				b.Error(err)
				return
			}
			if resp.StatusCode != http.StatusOK {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
}

// BenchmarkColdStart measures the first request to a stopped deployment, until its response head: in full
// (start the Python parent, import the framework and the app, fork the workers, answer) and from a parked
// start (import the app, fork, answer). It reports the median and 99th percentile besides the mean.
func BenchmarkColdStart(b *testing.B) {
	apps := []struct{ name, source, module string }{
		{"wsgi", plainWSGIApp, ""},
		{"flask", flaskHelloApp, "flask"},
	}
	for _, app := range apps {
		b.Run(app.name, func(b *testing.B) {
			if app.module != "" {
				requirePython(b, app.module)
			} else {
				requirePython(b)
			}
			for _, sb := range sandboxes(b) {
				for _, parked := range []bool{false, true} {
					b.Run(sb.name+"/parked="+strconv.FormatBool(parked), func(b *testing.B) {
						benchmarkColdStart(b, benchHarness(b, sb.sandbox, app.source), parked)
					})
				}
			}
		})
	}
}

func benchmarkColdStart(b *testing.B, h *harness, parked bool) {
	var took []time.Duration
	for b.Loop() {
		b.StopTimer()
		h.manager.Stop(h.app.ID)
		if parked {
			h.manager.Prewarm(h.app)
			for !h.manager.isParked(h.app.ID) {
				time.Sleep(time.Millisecond)
			}
		}
		b.StartTimer()
		began := time.Now()
		resp, err := http.Get(h.server.URL + "/")
		took = append(took, time.Since(began))
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
	slices.Sort(took)
	percentile := func(p int) float64 {
		return float64(took[(len(took)-1)*p/100].Microseconds()) / 1000
	}
	b.ReportMetric(percentile(50), "p50-ms")
	b.ReportMetric(percentile(99), "p99-ms")
}
