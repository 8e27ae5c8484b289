package workers

import (
	"io"
	"net/http"
	"testing"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/sandbox"
)

// sandboxes are what the benchmarks compare: no sandbox, and the user-namespace sandbox (PID
// namespace, Landlock, cgroups or rlimits with the default project limits), which any user
// can have; the uid of ModeUIDs adds nothing per request.
func sandboxes(b *testing.B) []struct {
	name    string
	sandbox *sandbox.Sandbox
} {
	out := []struct {
		name    string
		sandbox *sandbox.Sandbox
	}{{"sandbox=none", nil}}
	sb, err := sandbox.New(sandbox.Config{Mode: sandbox.ModeUserNS, Name: "bench"})
	if err != nil {
		b.Logf("no sandbox to compare with: %v", err)
		return out
	}
	b.Cleanup(sb.Close)
	return append(out, struct {
		name    string
		sandbox *sandbox.Sandbox
	}{"sandbox=" + string(sb.Mode()), sb})
}

// benchLimits are the default limits of a project.
var benchLimits = sandbox.Limits{MemoryMB: 2048, CPU: 1, Processes: 256, OpenFiles: 4096}

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
			h := newHarness(b, Config{Sandbox: sb.sandbox}, App{Dir: writeApp(b, map[string]string{"app.py": flaskHelloApp}), Limits: benchLimits})
			benchmarkHello(b, h)
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
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
}

// BenchmarkColdStart measures the first request to a stopped deployment: start the Python parent,
// import the app, fork the workers, answer.
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
				b.Run(sb.name, func(b *testing.B) {
					h := newHarness(b, Config{Sandbox: sb.sandbox}, App{Dir: writeApp(b, map[string]string{"app.py": app.source}), Limits: benchLimits})
					for b.Loop() {
						b.StopTimer()
						h.manager.Stop(h.app.ID)
						b.StartTimer()
						if resp, body := h.get(b, "/"); resp.StatusCode != http.StatusOK {
							b.Fatalf("status %d: %s", resp.StatusCode, body)
						}
					}
				})
			}
		})
	}
}
