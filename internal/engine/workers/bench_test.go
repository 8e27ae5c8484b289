package workers

import (
	"io"
	"net/http"
	"testing"
)

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
	h := newHarness(b, Config{}, App{Dir: writeApp(b, map[string]string{"app.py": flaskHelloApp})})
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
			h := newHarness(b, Config{}, App{Dir: writeApp(b, map[string]string{"app.py": app.source})})
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
}
