// Package workers runs deployments' Python apps and carries HTTP requests to them.
//
// A deployment's processes start on the first request: the embedded bootstrap (bootstrap.py) runs a parent
// process that forks Config.Workers workers, each importing the app and listening on its own unix socket.
// Prewarm, and scaling to zero, leave a parked start behind (a zygote): that process group, launched in the
// instance's own sandbox, its workers forked and the app's dependencies imported, waiting for the first
// request to import the app, which takes the interpreter's start, the framework's import and the forks out
// of a cold start.
// The engine parses HTTP and hands each request to a worker over a persistent connection with the binary
// framing of protocol.go, so Python only builds the WSGI environ or ASGI scope and calls the app (or, for
// a BaseHTTPRequestHandler class, hands it the request in memory and parses what it writes). A
// deployment without requests for Config.IdleTimeout is stopped; the next request starts it again.
package workers

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/logrotate"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/runspec"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/sandbox"
)

const (
	defaultWorkers     = 2
	defaultThreads     = 4
	defaultIdleTimeout = 15 * time.Minute
	defaultMaxDuration = 300 * time.Second
	defaultMaxParked   = 8
	// DefaultMaxQueue is Config.MaxQueue's default.
	DefaultMaxQueue = 1024
	// queueFullRetryAfter is what a client refused for a full queue is told to wait, in seconds.
	queueFullRetryAfter = "1"
)

// Config configures a Manager.
type Config struct {
	RunDir      string           // sockets and per-deployment scratch live here (keep it short: unix socket paths are limited to 107 bytes)
	LogDir      string           // worker stdout/stderr appended to LogDir/<deployment id>.log
	Workers     int              // python processes per deployment; 0 -> 2
	Threads     int              // concurrent requests per process; 0 -> 4
	IdleTimeout time.Duration    // a deployment with no request for this long is stopped (scale to zero); 0 -> 15m
	MaxDuration time.Duration    // per request; past it the client gets 504; 0 -> 300s
	MaxParked   int              // parked starts kept for deployments without instances, the oldest go first; 0 -> 8, <0 -> none
	MaxQueue    int              // requests an instance lets wait for a free thread; more get 503 with Retry-After; 0 -> 1024
	Sandbox     *sandbox.Sandbox // confines every instance; nil confines nothing (benchmarks, tests of serving)
	Logger      *slog.Logger     // may be nil

	// WebSocketIdleTimeout ends a WebSocket (1001) with no message either way for this long, unless
	// its App sets its own; 0 -> 5m.
	WebSocketIdleTimeout time.Duration
	// WebSocketMaxMessage is the largest message a client may send on a WebSocket, unless its App
	// sets its own; a larger one ends it with 1009. 0 -> 16 MiB.
	WebSocketMaxMessage int64
}

// App says how to run one deployment. Deployments are immutable: the App of an ID must not change.
type App struct {
	ID         string   // deployment id
	Dir        string   // working directory (the app's root directory); added to sys.path
	Python     string   // interpreter (a venv's bin/python)
	Entrypoint string   // "module:attribute", e.g. "app:app" or "api.index:app"
	Kind       string   // "wsgi", "asgi" or "handler" (Entrypoint names a BaseHTTPRequestHandler subclass)
	Env        []string // full environment of the worker, KEY=VALUE
	Root       string   // the deployment's directory: all an instance may read besides the system; "" -> Dir
	Identity   sandbox.Identity
	Limits     sandbox.Limits

	MaxDuration time.Duration // per request; 0 -> Config.MaxDuration
	IdleTimeout time.Duration // no request for this long stops the app; 0 -> Config.IdleTimeout
	Workers     int           // python processes; 0 -> Config.Workers
	Threads     int           // concurrent requests (or WebSockets) per process; 0 -> Config.Threads

	WebSocketIdleTimeout time.Duration // 0 -> Config.WebSocketIdleTimeout
	WebSocketMaxMessage  int64         // 0 -> Config.WebSocketMaxMessage
	// Functions are the functions of a deployment of several (each its own entrypoint, with its
	// own processes): a request goes to the one whose route matches its path. Empty: one app
	// (Entrypoint) serves every path.
	Functions []runspec.Function
	// Fetch, when set, makes the deployment's files present on this node; it runs before each
	// process of the app starts (a node of several fetches a build output another node made).
	Fetch func(context.Context) error

	function string // the route of the function this App runs; "" for the whole app
}

// instanceKey names what runs for one App: a deployment, or one function of it.
type instanceKey struct{ id, function string }

func (a App) key() instanceKey { return instanceKey{a.ID, a.function} }

// forFunction is the App that runs one function of a.
func (a App) forFunction(f runspec.Function) App {
	a.Entrypoint, a.Kind, a.function, a.Functions = f.Entrypoint, f.Kind, f.Route, nil
	if f.MaxDuration > 0 {
		a.MaxDuration = time.Duration(f.MaxDuration) * time.Second
	}
	if f.MemoryMB > 0 {
		a.Limits.MemoryMB = f.MemoryMB
	}
	return a
}

// Manager starts deployments on demand, forwards requests to them and stops them.
type Manager struct {
	cfg           Config
	log           *slog.Logger
	bootstrapPath string
	starts        atomic.Uint64 // numbers each start, so a restart never shares socket paths with its predecessor
	clock         *instanceClock

	mu          sync.RWMutex
	deployments map[instanceKey]*deployment
	parked      map[instanceKey]*deployment // parked starts of deployments without a running one
	removed     map[string]bool             // deleted deployments: never started again
	closed      bool

	stopReaper chan struct{}
}

var (
	errShuttingDown = errors.New("the runtime is shutting down")
	errRemoved      = errors.New("the deployment was deleted")
)

// New returns a Manager; it starts nothing until a request arrives.
func New(cfg Config) *Manager {
	if cfg.Workers <= 0 {
		cfg.Workers = defaultWorkers
	}
	if cfg.Threads <= 0 {
		cfg.Threads = defaultThreads
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = defaultIdleTimeout
	}
	if cfg.MaxDuration <= 0 {
		cfg.MaxDuration = defaultMaxDuration
	}
	if cfg.MaxParked == 0 {
		cfg.MaxParked = defaultMaxParked
	}
	if cfg.MaxQueue <= 0 {
		cfg.MaxQueue = DefaultMaxQueue
	}
	if cfg.WebSocketIdleTimeout <= 0 {
		cfg.WebSocketIdleTimeout = defaultWebSocketIdleTimeout
	}
	if cfg.WebSocketMaxMessage <= 0 {
		cfg.WebSocketMaxMessage = defaultWebSocketMaxMessage
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	m := &Manager{
		cfg:           cfg,
		log:           logger.With("component", "runtime"),
		bootstrapPath: filepath.Join(cfg.RunDir, bootstrapFileName),
		deployments:   map[instanceKey]*deployment{},
		parked:        map[instanceKey]*deployment{},
		removed:       map[string]bool{},
		stopReaper:    make(chan struct{}),
		clock:         newInstanceClock(),
	}
	go m.reapIdle()
	return m
}

// ServeHTTP starts app's processes if they are not running, forwards r to them and writes the response.
func (m *Manager) ServeHTTP(w http.ResponseWriter, r *http.Request, app App) {
	if len(app.Functions) > 0 {
		f := runspec.Spec{Functions: app.Functions}.FunctionFor(r.URL.Path)
		if f == nil {
			writeProblem(w, http.StatusNotFound, "no function of this deployment serves "+r.URL.Path)
			return
		}
		app = app.forFunction(*f)
	}
	webSocket := IsWebSocketUpgrade(r)
	if webSocket {
		if status, refusal := webSocketRefusal(r, app); status != 0 {
			writeProblem(w, status, refusal)
			return
		}
	}
	body, err := readSmallBody(r)
	if err != nil {
		writeProblem(w, http.StatusBadRequest, "could not read the request body")
		return
	}
	for attempt := 0; ; attempt++ {
		sent, ok := m.tryServe(w, r, app, body, webSocket)
		if !ok {
			return
		}
		// A deployment that stopped between acquire and sending (idle timeout, crash) gets one fresh start.
		if sent || attempt > 0 {
			if !sent {
				writeProblem(w, http.StatusBadGateway, "the app stopped before it could take the request")
			}
			return
		}
	}
}

// tryServe serves r on app's deployment, started if need be; ok is false when it could not be acquired
// (and the client has its answer).
func (m *Manager) tryServe(w http.ResponseWriter, r *http.Request, app App, body requestBody, webSocket bool) (sent, ok bool) {
	d, start, err := m.acquire(r.Context(), app)
	if observer, ok := w.(StartObserver); ok && start.Waited > 0 {
		observer.ObserveStart(start)
	}
	if err != nil {
		m.writeAcquireError(w, r, app, err)
		return false, false
	}
	defer d.release() // also when forward panics to abort a broken response
	if webSocket {
		return d.serveWebSocket(w, r), true
	}
	return d.forward(w, r, body), true
}

// requestBody is a request's body as it will be sent: none, whole, or streamed from r.Body.
type requestBody struct {
	present bool
	whole   []byte // the whole body when it is small enough to send with the head
}

func readSmallBody(r *http.Request) (requestBody, error) {
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
		return requestBody{}, nil
	}
	if r.ContentLength < 0 || r.ContentLength > smallBodyLimit {
		return requestBody{present: true}, nil
	}
	whole := make([]byte, r.ContentLength)
	if _, err := io.ReadFull(r.Body, whole); err != nil {
		return requestBody{}, err
	}
	return requestBody{present: true, whole: whole}, nil
}

func (b requestBody) streamed() bool { return b.present && b.whole == nil }

// StartObserver is a ResponseWriter that hears when its request waited for an instance to start
// (the edge, for its access log and metrics).
type StartObserver interface {
	ObserveStart(ColdStart)
}

// ColdStart says how a request waited for its instance to start.
type ColdStart struct {
	Waited    time.Duration // from the request's arrival at the runtime to its instance being ready
	Initiated bool          // this request started the instance (others arriving meanwhile only waited)
}

// acquire returns app's deployment, started and counted as in use until release, and how the
// request waited for the start (zero when an instance was ready).
func (m *Manager) acquire(ctx context.Context, app App) (*deployment, ColdStart, error) {
	var start ColdStart
	m.mu.RLock()
	d := m.deployments[app.key()]
	if d != nil {
		d.inUse.Add(1)
	}
	m.mu.RUnlock()
	if d == nil {
		m.mu.Lock()
		if m.closed {
			m.mu.Unlock()
			return nil, start, errShuttingDown
		}
		if m.removed[app.ID] {
			m.mu.Unlock()
			return nil, start, errRemoved
		}
		d = m.deployments[app.key()]
		if d == nil {
			d = m.takeParked(app.key())
			if d != nil {
				go d.resume()
			} else {
				d = m.newDeployment(app)
				go d.start()
			}
			m.deployments[app.key()] = d
			start.Initiated = true
		}
		d.inUse.Add(1)
		m.mu.Unlock()
	}
	select {
	case <-d.ready:
	default:
		began := time.Now()
		select {
		case <-d.ready:
		case <-ctx.Done():
			d.release()
			return nil, start, ctx.Err()
		}
		start.Waited = max(time.Since(began), time.Nanosecond)
	}
	if d.startErr != nil {
		d.release()
		return nil, start, d.startErr
	}
	return d, start, nil
}

// takeParked returns the parked start of key if it is ready to go on, and drops one that is not (still
// preparing: a full start is as quick). m.mu must be held.
func (m *Manager) takeParked(key instanceKey) *deployment {
	d := m.parked[key]
	if d == nil {
		return nil
	}
	delete(m.parked, key)
	if !d.isParked() {
		go d.kill()
		return nil
	}
	d.lastUsed.Store(time.Now().UnixNano())
	return d
}

// Prewarm prepares app's next start ahead of its first request, when app has no running processes: a
// parked start in the sandbox its instance will have, its workers forked with the app's dependencies
// imported. It is for a deployment that has just become ready, so that its first request finds one;
// scaling to zero calls it itself. It returns at once.
func (m *Manager) Prewarm(app App) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cfg.MaxParked < 0 || m.closed || m.removed[app.ID] || m.deployments[app.key()] != nil || m.parked[app.key()] != nil {
		return
	}
	if len(m.parked) >= m.cfg.MaxParked {
		var oldest *deployment
		for _, d := range m.parked {
			if oldest == nil || d.parkedAt.Before(oldest.parkedAt) {
				oldest = d
			}
		}
		delete(m.parked, oldest.app.key())
		go oldest.kill()
	}
	d := m.newDeployment(app)
	d.park = true
	d.parked = make(chan struct{})
	d.parkedAt = time.Now()
	m.parked[app.key()] = d
	go d.prepare()
}

// writeAcquireError answers a request whose app could not be started. What the app printed may hold
// secrets (a traceback with a database URL), so the client gets a generic answer with the request id;
// the reason goes to the engine log and, with the id, to the deployment's log beside the app's output.
func (m *Manager) writeAcquireError(w http.ResponseWriter, r *http.Request, app App, err error) {
	switch {
	case r.Context().Err() != nil:
		// The client is gone: nobody to answer.
	case errors.Is(err, errShuttingDown):
		writeProblem(w, http.StatusServiceUnavailable, "the engine is shutting down")
	case errors.Is(err, errRemoved):
		writeProblem(w, http.StatusNotFound, "this deployment has been deleted")
	default:
		reason := err.Error()
		var startErr *startError
		if errors.As(err, &startErr) {
			reason = startErr.reason
		}
		id := requestID(w)
		m.log.Error("app failed to start", "deployment", app.ID, "request_id", id, "reason", reason)
		log, err := openLog(m.cfg.LogDir, app.ID)
		if err == nil {
			_, err = fmt.Fprintf(log, "ferry: request %s: the app failed to start: %s\n", id, reason)
			err = errors.Join(err, log.Close())
		}
		if err != nil {
			m.log.Warn("could not write the failure to the deployment's log", "deployment", app.ID, "error", err)
		}
		writeProblem(w, http.StatusBadGateway, "the app failed to start; its owner can find the reason in the deployment's log")
	}
}

// forward sends r to one of d's workers and copies the response to w. It returns false, having written
// nothing, when d stopped before r could be sent.
func (d *deployment) forward(w http.ResponseWriter, r *http.Request, body requestBody) bool {
	for attempt := 0; ; attempt++ {
		c, answered := d.connect(w, r.Context())
		if c == nil {
			return answered
		}
		ex := d.exchange(w, r, c, body)
		d.pool.put(c, ex.reusable)
		if ex.err == nil {
			return true
		}
		if ex.retryable(r, body, c) && attempt == 0 {
			continue
		}
		d.reportFailure(w, r, ex)
		return true
	}
}

// connect returns a connection to one of d's workers, waiting for a free one. Without one, answered
// says whether w has the client's answer; false means d stopped and nothing was written.
func (d *deployment) connect(w http.ResponseWriter, ctx context.Context) (c *backendConn, answered bool) {
	c, err := d.pool.get(ctx)
	switch {
	case err == nil:
		return c, false
	case errors.Is(err, errDeploymentStopped):
		return nil, false
	case ctx.Err() != nil:
	case errors.Is(err, errQueueFull):
		w.Header().Set("Retry-After", queueFullRetryAfter)
		writeProblem(w, http.StatusServiceUnavailable, fmt.Sprintf("the app is busy: %d requests are waiting already; retry shortly", d.m.cfg.MaxQueue))
	default:
		d.log.Warn("cannot reach worker", "error", err)
		writeProblem(w, http.StatusBadGateway, "could not reach the app")
	}
	return nil, true
}

// exchangeResult says how one request on one worker connection went.
type exchangeResult struct {
	err             error
	sent            bool // the whole request reached the connection
	responseStarted bool // the response head went to the client
	reusable        bool
}

// retryable reports whether a failed exchange may be repeated on a fresh connection: only when an idle
// connection had gone stale, the request can be sent again, and sending it twice is harmless.
func (ex exchangeResult) retryable(r *http.Request, body requestBody, c *backendConn) bool {
	if !c.reused || ex.responseStarted || body.streamed() || r.Context().Err() != nil {
		return false
	}
	if errors.Is(ex.err, os.ErrDeadlineExceeded) || errors.Is(ex.err, errInvalidRequest) {
		return false
	}
	if !ex.sent {
		return true
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return errors.Is(ex.err, io.EOF) || errors.Is(ex.err, unix.ECONNRESET)
	}
	return false
}

func (d *deployment) reportFailure(w http.ResponseWriter, r *http.Request, ex exchangeResult) {
	switch {
	case r.Context().Err() != nil:
		return // the client is gone
	case ex.responseStarted:
		// Too late for an error status: cut the client connection so it cannot take a partial body as whole.
		panic(http.ErrAbortHandler)
	case errors.Is(ex.err, errInvalidRequest):
		writeProblem(w, http.StatusBadRequest, ex.err.Error())
	case errors.Is(ex.err, os.ErrDeadlineExceeded):
		writeProblem(w, http.StatusGatewayTimeout, fmt.Sprintf("the app did not answer within %s", d.maxDuration()))
		d.recycle(requestID(w))
	case errors.Is(ex.err, errAppAborted):
		writeProblem(w, http.StatusBadGateway, "the app failed while answering (see the deployment's log)")
	case d.stopIfOutOfMemory():
		writeProblem(w, http.StatusBadGateway, "the app's instance was stopped (see the deployment's log); the next request starts a new one")
	default:
		d.log.Warn("request to worker failed", "error", ex.err)
		writeProblem(w, http.StatusBadGateway, "the app's worker went away before it answered (see the deployment's log)")
	}
}

// exchange sends r on c and copies the response to w.
func (d *deployment) exchange(w http.ResponseWriter, r *http.Request, c *backendConn, body requestBody) exchangeResult {
	// A deadline fails to set only on a closed connection, whose I/O then fails.
	_ = c.conn.SetDeadline(time.Now().Add(d.maxDuration()))
	stopWatching := context.AfterFunc(r.Context(), func() {
		_ = c.conn.SetDeadline(time.Unix(1, 0)) // the client is gone: unblock the worker I/O below
	})
	ex := d.send(w, r, c, body)
	if !stopWatching() {
		ex.reusable = false // the deadline may be set in the past at any moment now
	}
	return ex
}

func (d *deployment) send(w http.ResponseWriter, r *http.Request, c *backendConn, body requestBody) exchangeResult {
	frame, err := appendRequest(c.buf[:0], r, d.app.Kind, body.present, body.whole)
	c.buf = frame
	if err != nil {
		return exchangeResult{err: err, reusable: true}
	}
	if _, err := c.conn.Write(frame); err != nil {
		return exchangeResult{err: err}
	}
	var bodyDone chan error
	if body.streamed() {
		bodyDone = make(chan error, 1)
		go func() {
			readErr, writeErr := streamBody(c.conn, r.Body)
			if readErr != nil {
				_ = c.conn.Close() // the worker cannot be told the body broke off; it sees EOF instead
			}
			bodyDone <- errors.Join(readErr, writeErr)
		}()
	}
	ex := d.copyResponse(w, c)
	ex.sent = bodyDone == nil
	if bodyDone != nil {
		select {
		case err := <-bodyDone:
			ex.reusable = ex.reusable && err == nil
		default:
			// The app answered without reading the whole body: drop the connection rather than send the
			// rest; the writer stops at its next write.
			_ = c.conn.Close()
			if err := <-bodyDone; err != nil { // expected: its connection is closed
				d.log.Debug("request body cut off: the app answered without reading all of it", "error", err)
			}
			ex.reusable = false
		}
	}
	return ex
}

// copyResponse reads the response from c and writes it to w.
func (d *deployment) copyResponse(w http.ResponseWriter, c *backendConn) exchangeResult {
	head := &c.head
	if err := readResponseHead(c.reader, head); err != nil {
		return exchangeResult{err: err}
	}
	header := w.Header()
	for i := 0; i < len(head.fields); i += 2 {
		key := http.CanonicalHeaderKey(head.fields[i])
		if !isHopByHop(key) {
			header[key] = append(header[key], head.fields[i+1])
		}
	}
	if _, ok := header["Content-Type"]; !ok {
		header["Content-Type"] = nil // the app chose to send none: do not sniff one
	}
	w.WriteHeader(head.status)

	var flusher *http.ResponseController
	for {
		h, err := readFrameHeader(c.reader)
		if err != nil {
			return exchangeResult{err: err, responseStarted: true}
		}
		switch h.typ {
		case frameBody:
			readErr, writeErr := copyFrame(w, c.reader, h.length)
			if errors.Is(writeErr, http.ErrBodyNotAllowed) {
				writeErr = nil // a body on a 204 or 304: the client must not get it, the rest is fine
			}
			if err := errors.Join(readErr, writeErr); err != nil {
				return exchangeResult{err: err, responseStarted: true}
			}
			// Nothing more has arrived: pass on what we have (streamed responses) instead of waiting.
			if c.reader.Buffered() == 0 {
				if flusher == nil {
					flusher = http.NewResponseController(w)
				}
				_ = flusher.Flush() // a client that has gone shows at the next write
			}
		case frameEnd:
			return exchangeResult{reusable: true, responseStarted: true}
		case frameAbort:
			return exchangeResult{err: errAppAborted, responseStarted: true}
		default:
			return exchangeResult{err: &protocolError{fmt.Sprintf("unexpected frame type %q in a response body", h.typ)}, responseStarted: true}
		}
	}
}

func isHopByHop(key string) bool {
	switch key {
	case "Connection", "Keep-Alive", "Proxy-Connection", "Transfer-Encoding", "Upgrade", "Te", "Trailer":
		return true
	}
	return false
}

// RequestIDHeader carries the id of a request in its response, so that an error a user reports can be
// found in the logs.
const RequestIDHeader = "X-Ferry-Id"

// NewRequestID returns a random request id.
func NewRequestID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// requestID is the id the edge gave the response, or a new one.
func requestID(w http.ResponseWriter) string {
	id := w.Header().Get(RequestIDHeader)
	if id == "" {
		id = NewRequestID()
		w.Header().Set(RequestIDHeader, id)
	}
	return id
}

func writeProblem(w http.ResponseWriter, status int, message string) {
	id := requestID(w)
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, "ferry: "+message+" (request "+id+")\n")
}

// Stop stops a deployment's processes, those of each of its functions and its parked starts too
// (deployment deleted); no-op if not running.
func (m *Manager) Stop(id string) {
	m.mu.Lock()
	var stopping []*deployment
	for key, d := range m.deployments {
		if key.id == id {
			stopping = append(stopping, d)
			delete(m.deployments, key)
		}
	}
	var parked []*deployment
	for key, d := range m.parked {
		if key.id == id {
			parked = append(parked, d)
			delete(m.parked, key)
		}
	}
	m.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), stopGracePeriod)
	defer cancel()
	for _, d := range parked {
		d.end()
	}
	for _, d := range stopping {
		d.terminate(ctx)
		d.log.Info("deployment stopped")
	}
}

// ownOr is an App's own setting, or the Config's when the App left it zero.
func ownOr[T ~int | ~int64](own, fallback T) T {
	if own > 0 {
		return own
	}
	return fallback
}

// maxDuration is how long a request to d may take.
func (d *deployment) maxDuration() time.Duration {
	return ownOr(d.app.MaxDuration, d.m.cfg.MaxDuration)
}

// idleTimeout is how long d may go without a request before it is stopped.
func (d *deployment) idleTimeout() time.Duration {
	return ownOr(d.app.IdleTimeout, d.m.cfg.IdleTimeout)
}

// threads is how many requests each of d's processes serves at once.
func (d *deployment) threads() int {
	return ownOr(d.app.Threads, d.m.cfg.Threads)
}

// Remove stops a deleted deployment's processes for good: a request routed to it just before the delete
// is refused rather than starting it again in a directory that is being removed.
func (m *Manager) Remove(id string) {
	m.mu.Lock()
	m.removed[id] = true
	m.mu.Unlock()
	m.Stop(id)
	// The log and its rotated generation go with the deployment.
	for _, path := range []string{logPath(m.cfg.LogDir, id), logPath(m.cfg.LogDir, id) + logrotate.RotatedSuffix} {
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			m.log.Warn("could not remove a deleted deployment's log", "deployment", id, "error", err)
		}
	}
}

// Holding returns the ids of deployments whose files processes use (running, or parked), sorted.
func (m *Manager) Holding() []string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	ids := m.runningLocked()
	for key := range m.parked {
		if !slices.Contains(ids, key.id) {
			ids = append(ids, key.id)
		}
	}
	slices.Sort(ids)
	return ids
}

// Running returns the ids of deployments with live processes, sorted.
func (m *Manager) Running() []string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.runningLocked()
}

// runningLocked is Running for a caller holding m.mu.
func (m *Manager) runningLocked() []string {
	var ids []string
	for key, d := range m.deployments {
		if d.alive() && !slices.Contains(ids, key.id) {
			ids = append(ids, key.id)
		}
	}
	slices.Sort(ids)
	return ids
}

// Shutdown stops everything: SIGTERM to every deployment's process group, SIGKILL to those still
// running when ctx ends (and then it returns ctx's error).
func (m *Manager) Shutdown(ctx context.Context) error {
	m.mu.Lock()
	if !m.closed {
		m.closed = true
		close(m.stopReaper)
	}
	all := make([]*deployment, 0, len(m.deployments))
	for id, d := range m.deployments {
		all = append(all, d)
		delete(m.deployments, id)
	}
	parked := make([]*deployment, 0, len(m.parked))
	for id, d := range m.parked {
		parked = append(parked, d)
		delete(m.parked, id)
	}
	m.mu.Unlock()
	var wg sync.WaitGroup
	var forced atomic.Bool
	for _, d := range all {
		wg.Go(func() {
			if !d.terminate(ctx) {
				forced.Store(true)
			}
		})
	}
	for _, d := range parked {
		wg.Go(d.end)
	}
	wg.Wait()
	if forced.Load() {
		return ctx.Err()
	}
	return nil
}

// reapIdle stops deployments that have had no request for IdleTimeout, and the workers beyond the
// first of those still in use that have had none for as long.
func (m *Manager) reapIdle() {
	// Often enough for the shortest idle timeout an app may have (a second) as well as the engine's.
	interval := min(max(m.cfg.IdleTimeout/4, 10*time.Millisecond), 250*time.Millisecond)
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-m.stopReaper:
			return
		case <-ticker.C:
		}
		now := time.Now()
		var idle []*deployment
		m.mu.Lock()
		for id, d := range m.deployments {
			if !d.started() {
				continue
			}
			// inUse first: release stores lastUsed before it lets go, so a zero here means lastUsed is current.
			if d.inUse.Load() == 0 && d.lastUsed.Load() < now.Add(-d.idleTimeout()).UnixNano() {
				delete(m.deployments, id)
				idle = append(idle, d)
				continue
			}
			d.pool.shrink(d.idleTimeout(), now)
		}
		m.mu.Unlock()
		for _, d := range idle {
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), stopGracePeriod)
				defer cancel()
				d.terminate(ctx)
				d.log.Info("deployment scaled to zero", "idle_timeout", d.idleTimeout())
				m.Prewarm(d.app)
			}()
		}
	}
}

// forget removes d from the running deployments and parked starts, unless another start has replaced it already.
func (m *Manager) forget(d *deployment) {
	m.mu.Lock()
	if m.deployments[d.app.key()] == d {
		delete(m.deployments, d.app.key())
	}
	if m.parked[d.app.key()] == d {
		delete(m.parked, d.app.key())
	}
	m.mu.Unlock()
}

// LogPath is the file a deployment's instances print to.
func (m *Manager) LogPath(id string) string { return logPath(m.cfg.LogDir, id) }

// RunningInstances counts the instances with live processes: one per deployment, or per function
// of a deployment of several.
func (m *Manager) RunningInstances() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	n := 0
	for _, d := range m.deployments {
		if d.alive() {
			n++
		}
	}
	return n
}
