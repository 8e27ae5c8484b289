// Package edge is the HTTP front of the apps: it routes each request by its
// Host to a deployment (directly by the deployment's own hostname, or through
// an alias such as the production domain) and hands it to the runtime.
//
// The route table is kept by one control loop: whoever changes what is
// served asks for a reload with Sync, which returns once a table at least as
// new as the store's routing state is live. Tables carry the store's routes
// version, so an older table never replaces a newer one.
package edge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/secrets"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/workers"
)

// Defaults of Config.
const (
	DefaultMaxBodySize  = 100 << 20
	DefaultBodyTimeout  = 5 * time.Minute
	DefaultWriteTimeout = 30 * time.Second
)

// Runtime serves a request with a deployment's app.
type Runtime interface {
	ServeHTTP(w http.ResponseWriter, r *http.Request, app workers.App)
}

// prewarmer is a Runtime that can prepare an app's first start ahead of its first request.
type prewarmer interface {
	Prewarm(app workers.App)
}

// Config wires a Router.
type Config struct {
	Store   store.Store
	Runtime Runtime
	// App says how a READY deployment runs (its process env is opened from
	// the deployment's sealed env); deployments are immutable, so it is
	// asked once per deployment.
	App    func(*store.Deployment) (workers.App, error)
	Logger *slog.Logger

	MaxBodySize  int64         // larger request bodies get 413; 0 -> DefaultMaxBodySize
	BodyTimeout  time.Duration // the whole request body must arrive within it; 0 -> DefaultBodyTimeout
	WriteTimeout time.Duration // a client that takes no response data for this long is cut off; 0 -> DefaultWriteTimeout
	SpillDir     string        // large request bodies are buffered in unlinked files here; "" -> os.TempDir()
	// TrustedProxies are the peers whose X-Forwarded-* headers are believed
	// (a load balancer in front of the engine); from anyone else they are replaced.
	TrustedProxies []netip.Prefix

	// HTTPPort and HTTPSPort are the ports clients reach the edge on, for
	// the redirects it makes; HTTPSPort is "" when it serves no HTTPS. Once
	// HTTPS is served, verified custom domains redirect plain HTTP to it.
	HTTPPort, HTTPSPort string
	// HSTSMaxAge, when set, makes custom domains' HTTPS answers tell
	// browsers to use nothing but HTTPS for them for that long.
	HSTSMaxAge time.Duration
	// Certificates hears, after every reload, which verified custom domains
	// to obtain certificates for ahead of their first visitor.
	Certificates interface{ Manage(subjects []string) }
	// PollInterval, when set, has the edge look at the store's routes
	// version that often and reload when it went up: the safety net of an
	// edge whose store other nodes write too, beside a store.RouteWatcher's
	// signals. 0: only Sync and the watcher reload.
	PollInterval time.Duration
	// Observe, when set, hears of every request answered for a deployment, once answered (the
	// access log and the metrics). It must not block.
	Observe func(ServedRequest)
	// Paused, when set, says why a project's apps are not served ("" when they are): its team
	// passed a limit of its plan. Such requests get 429 and a page saying why. It must be quick.
	Paused func(projectID string) string
	// Secrets opens what preview protection keeps sealed (protection.go).
	Secrets secrets.Keeper
}

// route is where one hostname leads.
type route struct {
	kind           string
	project        string             // its name
	projectID      string             // "" where no deployment is routed
	app            *workers.App       // nil: nothing ready to serve there
	deploymentHost string             // the own hostname of the deployment app runs
	domain         *store.RouteDomain // for a custom domain
	guard          *guard             // the project's preview protection; nil for none
}

// table is one version of the routes.
type table struct {
	version int64
	routes  map[string]route
	apps    map[string]*workers.App // by deployment id, carried over to the next table
	guards  map[string]*guard       // by project id, carried over while unchanged
}

// Router maps hostnames to deployments.
type Router struct {
	cfg   Config
	table atomic.Pointer[table]
	wake  chan struct{} // a pending reload request; one is enough for any number of them
	done  chan struct{} // closed when Run returns

	mu      sync.Mutex
	loaded  chan struct{} // closed and replaced after every reload attempt
	lastErr error         // of the last reload attempt

	socketsMu sync.Mutex
	sockets   map[*openSocket]struct{} // WebSockets open on deployments
	failures  failureCounter           // wrong preview passwords, by client address
}

var errStopped = errors.New("the edge has stopped")

// New returns a Router with an empty table; Run keeps it current.
func New(cfg Config) *Router {
	if cfg.MaxBodySize <= 0 {
		cfg.MaxBodySize = DefaultMaxBodySize
	}
	if cfg.BodyTimeout <= 0 {
		cfg.BodyTimeout = DefaultBodyTimeout
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = DefaultWriteTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	r := &Router{cfg: cfg, wake: make(chan struct{}, 1), done: make(chan struct{}), loaded: make(chan struct{})}
	r.table.Store(&table{routes: map[string]route{}, apps: map[string]*workers.App{}, guards: map[string]*guard{}})
	r.wake <- struct{}{}
	return r
}

// Server returns the HTTP server of the edge. Its WriteTimeout only bounds
// the time to read a request's head and body; each write to the client gets
// Config.WriteTimeout anew, and none applies while the app works.
func (r *Router) Server() *http.Server {
	return &http.Server{
		Handler:           r,
		ReadHeaderTimeout: 30 * time.Second,
		WriteTimeout:      r.cfg.BodyTimeout + r.cfg.WriteTimeout,
		IdleTimeout:       2 * time.Minute,
	}
}

// Run reloads the table whenever asked, until ctx is done: by Sync, by the
// store if it is a store.RouteWatcher, and by a poll that found the store's
// routes version newer. A failed reload is retried a second later.
func (r *Router) Run(ctx context.Context) {
	defer close(r.done)
	retry := time.NewTimer(0)
	retry.Stop()
	var changed <-chan struct{}
	if w, ok := r.cfg.Store.(store.RouteWatcher); ok {
		changed = w.WatchRoutes(ctx)
	}
	var poll <-chan time.Time
	if r.cfg.PollInterval > 0 {
		ticker := time.NewTicker(r.cfg.PollInterval)
		defer ticker.Stop()
		poll = ticker.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.wake:
		case <-retry.C:
		case _, open := <-changed:
			if !open {
				changed = nil // the store closed: the poll and Sync remain
				continue
			}
		case <-poll:
			if v, err := r.cfg.Store.RoutesVersion(ctx); err == nil && v <= r.table.Load().version {
				continue
			}
		}
		err := r.reload(ctx)
		if err != nil && ctx.Err() == nil {
			r.cfg.Logger.Error("reload routes; retrying in a second", "error", err)
			retry.Reset(time.Second)
		}
		r.mu.Lock()
		r.lastErr = err
		close(r.loaded)
		r.loaded = make(chan struct{})
		r.mu.Unlock()
	}
}

// prewarm prepares the first start of the apps that production and branch hostnames serve
// now and did not before (a new production deployment, a branch's new build, every one at
// start), so that their first visitor finds the interpreter up and the framework imported.
func (r *Router) prewarm(old, next *table) {
	runtime, ok := r.cfg.Runtime.(prewarmer)
	if !ok {
		return
	}
	warmed := map[*workers.App]bool{}
	for host, rt := range next.routes {
		if rt.app == nil || warmed[rt.app] || len(rt.app.Functions) > 0 || (rt.kind != store.HostProduction && rt.kind != store.HostBranch) {
			continue
		}
		if previous, ok := old.routes[host]; ok && previous.app == rt.app {
			continue
		}
		warmed[rt.app] = true
		runtime.Prewarm(*rt.app)
	}
}

// Sync returns once the live table is at least as new as the store's routing
// state when it was called: what was committed before is served. It returns
// the error of a failed reload rather than wait for the retry.
func (r *Router) Sync(ctx context.Context) error {
	want, err := r.cfg.Store.RoutesVersion(ctx)
	if err != nil {
		return err
	}
	for {
		r.mu.Lock()
		loaded := r.loaded
		r.mu.Unlock()
		if r.table.Load().version >= want {
			return nil
		}
		select {
		case r.wake <- struct{}{}:
		default: // a reload is pending already; it will read a version >= want
		}
		select {
		case <-loaded:
		case <-r.done:
			return errStopped
		case <-ctx.Done():
			return ctx.Err()
		}
		r.mu.Lock()
		err := r.lastErr
		r.mu.Unlock()
		if err != nil && r.table.Load().version < want {
			return fmt.Errorf("reload routes: %w", err)
		}
	}
}

// reload reads one snapshot of the routes and makes it live, unless the
// live table is as new.
func (r *Router) reload(ctx context.Context) error {
	snapshot, err := r.cfg.Store.ReadRoutes(ctx)
	if err != nil {
		return err
	}
	old := r.table.Load()
	if snapshot.Version <= old.version {
		return nil
	}
	next := &table{version: snapshot.Version, routes: make(map[string]route, len(snapshot.Routes)), apps: map[string]*workers.App{}, guards: map[string]*guard{}}
	for _, rt := range snapshot.Routes {
		entry := route{kind: rt.Kind, project: rt.ProjectName, domain: rt.Domain}
		if p := rt.Protection; p != nil && rt.Kind != store.HostProduction {
			entry.guard = next.guards[p.ProjectID]
			if entry.guard == nil {
				entry.guard = old.guards[p.ProjectID]
			}
			if entry.guard == nil || entry.guard.digests != p.PasswordDigest+" "+p.BypassDigest {
				entry.guard = r.newGuard(ctx, p)
			}
			next.guards[p.ProjectID] = entry.guard
		}
		if d := rt.Deployment; d != nil {
			entry.projectID = d.ProjectID
			app := next.apps[d.ID]
			if app == nil {
				app = old.apps[d.ID]
			}
			if app == nil {
				a, err := r.cfg.App(d)
				if err != nil {
					r.cfg.Logger.Error("a deployment cannot run; it will not be served", "deployment", d.ID, "error", err)
					continue
				}
				app = &a
			}
			next.apps[d.ID] = app
			entry.app = app
			entry.deploymentHost = d.Hostname
		}
		next.routes[rt.Hostname] = entry
	}
	r.table.Store(next)
	r.endReplacedSockets(next)
	r.prewarm(old, next)
	if r.cfg.Certificates != nil {
		var verified []string
		for host, rt := range next.routes {
			if rt.domain != nil && rt.domain.Verified {
				verified = append(verified, host)
			}
		}
		r.cfg.Certificates.Manage(verified)
	}
	return nil
}

// lookup finds the route of host: its own, or that of a wildcard domain
// (*.parent) it falls under. It returns the name the route is kept under.
func (t *table) lookup(host string) (route, string, bool) {
	if rt, ok := t.routes[host]; ok {
		return rt, host, true
	}
	if _, parent, ok := strings.Cut(host, "."); ok {
		wildcard := "*." + parent
		if rt, ok := t.routes[wildcard]; ok && rt.domain != nil {
			return rt, wildcard, true
		}
	}
	return route{}, "", false
}

// Permit says whether the edge serves name, and the subject whose
// certificate serves it (a wildcard domain's name for the names under it).
// Deployments' and projects' own hosts qualify; custom domains once verified.
// It is the check every TLS handshake passes before any certificate is
// looked for or requested, so it reads the live table and nothing else.
func (r *Router) Permit(name string) (string, bool) {
	rt, subject, ok := r.table.Load().lookup(name)
	if !ok || (rt.domain != nil && !rt.domain.Verified) {
		return "", false
	}
	return subject, true
}

// ServeHTTP routes one request.
func (r *Router) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	began := time.Now()
	requestID := workers.NewRequestID()
	w.Header().Set(workers.RequestIDHeader, requestID)
	host := strings.ToLower(req.Host)
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(host, ".")
	rt, _, ok := r.table.Load().lookup(host)
	if ok && rt.domain != nil && r.serveDomainRules(w, req, host, rt.domain) {
		return
	}
	switch {
	case !ok:
		http.Error(w, fmt.Sprintf("ferry: no deployment or domain is named %q on this engine", host), http.StatusNotFound)
		return
	case rt.app == nil && rt.kind == store.HostProduction:
		http.Error(w, fmt.Sprintf("ferry: project %q has no ready production deployment yet", rt.project), http.StatusNotFound)
		return
	case rt.app == nil:
		http.Error(w, fmt.Sprintf("ferry: the deployment at %q is not ready", host), http.StatusNotFound)
		return
	}

	if rt.guard != nil && !r.admit(w, req, host, rt.guard) {
		return
	}
	stripProtection(req)
	if r.cfg.Paused != nil {
		if why := r.cfg.Paused(rt.projectID); why != "" {
			w.Header().Set("Retry-After", "3600")
			http.Error(w, "ferry: this app is paused: "+why+". Its owners can ask the engine's operator for a larger plan.", http.StatusTooManyRequests)
			return
		}
	}
	r.setForwarded(req, requestID, rt.deploymentHost)
	if rt.kind != store.HostProduction {
		// Deployment URLs (and later previews' branch URLs) are not for search engines, as on Vercel.
		w.Header().Set("X-Robots-Tag", "noindex")
	}

	rc := http.NewResponseController(w)
	// A response gets no deadline while the app works; each write then
	// gets WriteTimeout, and so does the final flush after we return.
	_ = rc.SetWriteDeadline(time.Time{})
	defer func() { _ = rc.SetWriteDeadline(time.Now().Add(r.cfg.WriteTimeout)) }()

	out := &observedWriter{ResponseWriter: w, rc: rc, timeout: r.cfg.WriteTimeout}
	if r.cfg.Observe != nil {
		// A handler that panics to abort a broken response is recorded too.
		defer r.observe(req, rt, host, began, out)
	}
	body, status := r.bufferBody(req, rc)
	if status != 0 {
		http.Error(out, "ferry: "+http.StatusText(status)+bodyAdvice(status, r.cfg.MaxBodySize), status)
		return
	}
	defer func() { _ = body.Close() }() // in memory, or an unlinked file only read
	if workers.IsWebSocketUpgrade(req) {
		var forget func()
		req, forget = r.trackSocket(req, host, rt.app)
		defer forget()
	}
	r.cfg.Runtime.ServeHTTP(out, req, *rt.app)
}

// serveDomainRules answers what a custom domain answers before its app
// does, and says whether it did: a domain not verified yet is not served;
// plain HTTP goes to HTTPS once the edge serves it (the CA's challenges
// excepted); a redirect domain redirects. HTTPS answers get HSTS if set.
func (r *Router) serveDomainRules(w http.ResponseWriter, req *http.Request, host string, domain *store.RouteDomain) bool {
	if !domain.Verified {
		http.Error(w, fmt.Sprintf("ferry: the domain %q is not verified yet: create the DNS records its ferry_domain lists; it is served once they are found", host), http.StatusNotFound)
		return true
	}
	secure := r.scheme(req) == "https"
	challenge := strings.HasPrefix(req.URL.Path, "/.well-known/acme-challenge/")
	switch {
	case domain.Redirect != "" && !challenge:
		http.Redirect(w, req, r.url(domain.Redirect, req), domain.RedirectStatus)
		return true
	case !secure && r.cfg.HTTPSPort != "" && !challenge:
		http.Redirect(w, req, r.url(host, req), http.StatusPermanentRedirect)
		return true
	case secure && r.cfg.HSTSMaxAge > 0:
		w.Header().Set("Strict-Transport-Security", fmt.Sprintf("max-age=%d", int64(r.cfg.HSTSMaxAge/time.Second)))
	}
	return false
}

// url is req's path and query on host, over HTTPS when the edge serves it.
func (r *Router) url(host string, req *http.Request) string {
	scheme, port, standard := "https", r.cfg.HTTPSPort, "443"
	if port == "" {
		scheme, port, standard = "http", r.cfg.HTTPPort, "80"
	}
	if port != "" && port != standard {
		host = net.JoinHostPort(host, port)
	}
	return scheme + "://" + host + req.URL.RequestURI()
}

func bodyAdvice(status int, limit int64) string {
	switch status {
	case http.StatusRequestEntityTooLarge:
		return fmt.Sprintf(": the request body is larger than this engine's limit of %d bytes", limit)
	case http.StatusRequestTimeout:
		return ": the request body did not arrive in time"
	}
	return ""
}
