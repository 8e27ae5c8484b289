package edge

import (
	"net/http"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/workers"
)

// ServedRequest is what the edge tells Config.Observe of each request it answered for a deployment.
type ServedRequest struct {
	Time         time.Time // arrival
	Project      string    // the project's name
	ProjectID    string
	DeploymentID string
	Method       string
	Host         string
	Path         string // without the query string, which may carry secrets
	Status       int
	Duration     time.Duration
	BytesOut     int64
	ColdStart    workers.ColdStart // zero when an instance was ready
}

// observedWriter is the response of a request to a deployment: it records the status and the
// size of the answer for Config.Observe, and gives each write WriteTimeout (see Write).
type observedWriter struct {
	http.ResponseWriter
	rc        *http.ResponseController
	timeout   time.Duration
	status    int
	bytesOut  int64
	coldStart workers.ColdStart
}

func (w *observedWriter) WriteHeader(status int) {
	if w.status == 0 && (status >= 200 || status == http.StatusSwitchingProtocols) {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

// Write gives each write to the client the timeout to complete, so a client that stops reading
// is cut off and the app's worker connection is released, instead of waiting on the client for
// as long as it likes.
func (w *observedWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if err := w.rc.SetWriteDeadline(time.Now().Add(w.timeout)); err != nil {
		return 0, err
	}
	n, err := w.ResponseWriter.Write(p)
	w.bytesOut += int64(n)
	return n, err
}

// ObserveStart hears from the runtime that the request waited for an instance to start.
func (w *observedWriter) ObserveStart(start workers.ColdStart) { w.coldStart = start }

// Unwrap lets http.ResponseController (Flush) reach the connection.
func (w *observedWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// observe tells Config.Observe how a request to a deployment went.
func (r *Router) observe(req *http.Request, rt route, host string, began time.Time, w *observedWriter) {
	status := w.status
	if status == 0 {
		status = http.StatusOK // the handler returned without writing: net/http answers 200
	}
	r.cfg.Observe(ServedRequest{
		Time: began, Project: rt.project, ProjectID: rt.projectID, DeploymentID: rt.app.ID, Method: req.Method, Host: host,
		Path: req.URL.Path, Status: status, Duration: time.Since(began), BytesOut: w.bytesOut, ColdStart: w.coldStart,
	})
}
