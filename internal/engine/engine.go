// Package engine wires the engine's packages into one daemon: the API on a
// unix socket (and optionally TCP with a token), the edge serving apps, the
// build queue and the Python runtime, all over one data dir.
package engine

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/dashboard"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/apiserver"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/artifacts"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/artifacts/localfs"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/artifacts/s3"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/builder"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/certs"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/deploy"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/domains"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/edge"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/gitsource"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/metering"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/plans"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/sandbox"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/secrets"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/secrets/envelope"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store/postgres"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/webhooks"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/workers"
	"github.com/ferryhq/terraform-provider-ferry/internal/version"
)

// Defaults of an engine's settings.
const (
	DefaultHTTPAddress = "127.0.0.1:3080"
	DefaultBaseDomain  = "localhost"
)

// Files of a data dir.
const (
	LockName = "engine.lock"
	KeyName  = "secret.key"
	DBName   = "ferry.db"
	LogName  = "engine.log"
)

// Config is what `serve` was asked to run.
type Config struct {
	DataDir      string
	HTTPAddress  string   // where apps are served
	Python       string   // default interpreter of builds; "" -> builder.DefaultPython()
	ExtraPythons []string // more interpreters projects may ask for (besides PATH and pyenv's)
	BaseDomain   string   // apps are <name>.<BaseDomain>
	APIAddress   string   // optional TCP address of the API; requires Token
	Token        string
	TLSCert      string // optional: serve the TCP API over TLS
	TLSKey       string
	Logger       *slog.Logger

	SandboxMode     string // "" or "auto": per-project uids as root, else a user namespace; see sandbox.Mode
	SandboxFirstUID int    // range of project uids (ModeUIDs); 0 -> sandbox defaults
	SandboxLastUID  int
	MaxLimits       api.Limits         // the most a project may set; zero fields -> apiserver.DefaultMaxLimits
	BuildLimits     deploy.BuildLimits // every build's memory, processes and disk
	// Bounds of one deployment's source; 0 takes deploy.DefaultMaxBytes
	// and deploy.MaxFiles.
	MaxDeploymentBytes int64
	MaxDeploymentFiles int

	// The build queue; zero values mean deploy's defaults.
	NodeID       string        // names this engine in its claims on builds; default: the host name
	BuildWorkers int           // builds run at once
	BuildTimeout time.Duration // deadline of one build
	BuildLease   time.Duration // a claim on a build lapses unless renewed within this; 0 -> deploy.DefaultLease
	// OutputCacheBytes bounds the build outputs a node on a shared artifact store keeps fetched; 0: no bound.
	OutputCacheBytes int64
	MaxQueuedBuilds  int           // deployments allowed to wait for a build; more are refused (429)
	GitTimeout       time.Duration // bounds fetching one git commit; 0 -> deploy.DefaultGitTimeout

	// MaxRequestBody bounds an app's request body (the edge buffers it
	// whole before the app sees it); 0 -> edge.DefaultMaxBodySize.
	MaxRequestBody int64
	// MaxQueue bounds the requests waiting for a deployment's busy instances; more get 503
	// with Retry-After. 0 -> workers.DefaultMaxQueue.
	MaxQueue int
	// TrustedProxies are load balancers in front of the edge whose
	// X-Forwarded-* headers apps may believe; see edge.Config.
	TrustedProxies []netip.Prefix

	// TakeOver: take over from the engine running on DataDir, with its
	// settings and on its sockets, rather than refuse to start beside it
	// (see handover.go). With none running, the engine starts as usual.
	TakeOver bool

	// HTTPSAddress is where apps are served over HTTPS; "" serves none.
	// Certificates come from the local CA of the data dir for names no
	// public CA certifies, and from the ACME CA for the others.
	HTTPSAddress string
	// HTTPSAnyPortIfTaken serves HTTPS on a free port of HTTPSAddress's host
	// when that address is taken: for a default address nobody asked for.
	HTTPSAnyPortIfTaken bool
	ACMEDirectory       string // the ACME CA's directory; "" is Let's Encrypt
	ACMEEmail           string // the ACME account's contact; optional
	ACMECARoots         string // a PEM file of roots to trust the ACME CA's own HTTPS with; "" for the system's
	HSTSMaxAge          time.Duration
	// PublicHTTPPort and PublicHTTPSPort are the ports clients reach the edge on, when a load
	// balancer in front of the nodes listens on others than theirs: URLs, the URL variables of
	// apps and the edge's redirects carry them. "": the listeners' own.
	PublicHTTPPort, PublicHTTPSPort string
	// PublicAddresses are where custom domains' A and AAAA records point;
	// none: the IPs the HTTP and HTTPS listeners are bound to, if specific.
	PublicAddresses []netip.Addr
	// DNSResolvers look custom domains' records up, host:port; none: those of /etc/resolv.conf.
	DNSResolvers        []string
	DomainCheckInterval time.Duration // between looks at unverified domains; 0 -> domains.DefaultInterval
	RenewCheckInterval  time.Duration // between checks of certificates for renewal; 0 -> certmagic's

	// State shared by several engine nodes (see openState). Store is a postgres:// URL of the
	// metadata store, "" for the data dir's SQLite database; Artifacts an s3:// URL of the
	// artifact store, "" for the data dir's files. The key sealing secrets is SecretKey (the
	// base64 of 32 bytes) or the file KeyFile (those bytes); with neither, the data dir's key
	// file, which a store of its own only may use.
	Store     string
	Artifacts string
	SecretKey string
	KeyFile   string

	// Now is the clock of team tokens' expiry and of the audit log; nil: time.Now. Tests move it.
	Now func() time.Time

	// WebhookBackoff spaces the attempts at a webhook delivery; zero: webhooks.DefaultBackoff.
	WebhookBackoff webhooks.Backoff
}

// ErrLocked means another engine owns the data dir.
var ErrLocked = errors.New("another engine is already running on this data dir")

// Engine is a running engine: Start brings it up, Shutdown takes it down.
type Engine struct {
	log         *slog.Logger
	stop        context.CancelFunc // ends the engine's life: Shutdown, the API's shutdown, or a failed server
	done        <-chan struct{}
	servers     []*http.Server
	wg          sync.WaitGroup // the servers
	serveErr    chan error
	deployments *deploy.Service
	runtime     *workers.Manager
	closers     []func() // what Start acquired, in order; released in reverse
	shutdown    sync.Once
	shutdownErr error

	// Writers other than the API: builds and housekeeping (see startWork).
	work        func(context.Context) (done <-chan struct{}, err error)
	workMu      sync.Mutex
	workStopper func() // stops what startWork started; nil when nothing runs
	meter       *metering.Meter

	// What a handover passes on (handover.go).
	dataDir       string
	settings      api.EngineSettings
	slot          string
	store         store.Store
	lock          *os.File
	apiSocket     *net.UnixListener
	edgeListener  net.Listener
	httpsListener net.Listener // nil when the engine serves no HTTPS
	apiTCP        net.Listener
	calls         apiCalls
	handingOver   atomic.Bool
	handedOver    atomic.Bool
	ownsSocket    atomic.Bool // removes the socket's path when it stops
}

// onClose registers release to run when the engine shuts down, or when Start fails after this.
func (e *Engine) onClose(release func()) { e.closers = append(e.closers, release) }

func (e *Engine) releaseAll() {
	for i := len(e.closers) - 1; i >= 0; i-- {
		e.closers[i]()
	}
	e.closers = nil
}

// Run runs the engine until ctx is done or a client asks it to stop.
func Run(ctx context.Context, cfg Config) error {
	e, err := Start(ctx, cfg)
	if err != nil {
		return err
	}
	select {
	case <-ctx.Done():
	case <-e.Done():
	}
	drain := 10 * time.Second
	if e.handedOver.Load() {
		drain = handoverDrain // no hurry: the new engine serves
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), drain)
	defer cancel()
	return e.Shutdown(shutdownCtx)
}

// Done is closed when the engine stops serving: Shutdown was called, a client asked it to stop
// (the API's shutdown), or one of its servers failed.
func (e *Engine) Done() <-chan struct{} { return e.done }

// Start brings up an engine on cfg.DataDir and returns once it serves. A failure half-way releases
// everything started until then. ctx bounds the start only, not the engine's life.
func Start(ctx context.Context, cfg Config) (_ *Engine, err error) {
	if cfg.HTTPAddress == "" {
		cfg.HTTPAddress = DefaultHTTPAddress
	}
	if cfg.Python == "" {
		cfg.Python = builder.DefaultPython()
	}
	if cfg.BaseDomain == "" {
		cfg.BaseDomain = DefaultBaseDomain
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.BuildWorkers < 0 || cfg.BuildTimeout < 0 || cfg.MaxQueuedBuilds < 0 {
		return nil, errors.New("build workers, build timeout and max queued builds cannot be negative (leave them 0 for the defaults)")
	}
	if cfg.NodeID == "" {
		host, err := os.Hostname()
		if err != nil {
			return nil, fmt.Errorf("name this node for its build claims (set a node id): %w", err)
		}
		cfg.NodeID = host
	}
	if cfg.APIAddress != "" && cfg.Token == "" {
		return nil, errors.New("an API address on TCP needs a token: set FERRY_TOKEN (or --token-file) so that only its holders can reach the API")
	}
	log := cfg.Logger
	runCtx, stop := context.WithCancel(context.Background())
	e := &Engine{log: log, stop: stop, done: runCtx.Done()}
	e.onClose(stop)
	defer func() {
		if err != nil {
			e.releaseAll()
		}
	}()
	dataDir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	e.dataDir, e.slot = dataDir, slotA
	var from *predecessor
	if cfg.TakeOver {
		if from, err = takeOver(ctx, dataDir); err != nil {
			return nil, err
		}
	}
	if from != nil {
		e.onClose(from.close)
		adopt(&cfg, from.state.Settings, from.state.APIVersion)
		e.lock, e.slot = from.lock, from.slot()
		log.Info("taking over from the running engine", "version", from.state.Version, "schema", from.state.SchemaVersion)
	} else if e.lock, err = lockDataDir(dataDir); err != nil {
		return nil, err
	}
	// Closing the descriptor is what releases the lock: after a handover the new engine holds it still.
	e.onClose(func() { _ = e.lock.Close() })
	e.settings = settingsOf(cfg)

	mode, err := sandbox.ParseMode(cfg.SandboxMode)
	if err != nil {
		return nil, err
	}
	nameSum := sha256.Sum256([]byte(dataDir))
	jail, err := sandbox.New(sandbox.Config{
		Mode: mode, FirstUID: cfg.SandboxFirstUID, LastUID: cfg.SandboxLastUID,
		Name: hex.EncodeToString(nameSum[:6]) + "-" + e.slot, Logger: log,
		DataDir: dataDir, APISocket: filepath.Join(dataDir, api.SocketName),
	})
	if err != nil {
		return nil, err
	}
	e.onClose(jail.Close)
	if err := prepareDataDir(dataDir, jail.SeparateIdentities()); err != nil {
		return nil, err
	}

	if from != nil {
		if err := from.releaseStore(ctx); err != nil {
			return nil, err
		}
	}
	st, box, blobStore, err := openState(ctx, cfg, dataDir, log)
	if err != nil {
		return nil, err
	}
	e.store = st
	e.onClose(func() {
		if err := st.Close(); err != nil {
			log.Error("closing the metadata store", "error", err)
		}
	})

	edgeListener, err := listen(from, api.DescriptorEdge, "tcp", cfg.HTTPAddress)
	if err != nil {
		return nil, fmt.Errorf("serve apps on %s: %w (set http_address / FERRY_HTTP_ADDRESS to a free address)", cfg.HTTPAddress, err)
	}
	e.edgeListener = edgeListener
	e.onClose(func() { _ = edgeListener.Close() }) // for a failed start; the server closes it once serving
	_, port, _ := net.SplitHostPort(edgeListener.Addr().String())
	if cfg.PublicHTTPPort != "" {
		port = cfg.PublicHTTPPort
	}
	appURL := func(host string) string {
		if port == "80" {
			return "http://" + host
		}
		return "http://" + host + ":" + port
	}
	var httpsListener net.Listener
	httpsAddress, httpsPort := "", ""
	if cfg.HTTPSAddress != "" {
		httpsListener, err = listen(from, api.DescriptorEdgeTLS, "tcp", cfg.HTTPSAddress)
		if host, _, splitErr := net.SplitHostPort(cfg.HTTPSAddress); errors.Is(err, syscall.EADDRINUSE) && cfg.HTTPSAnyPortIfTaken && splitErr == nil {
			httpsListener, err = net.Listen("tcp", net.JoinHostPort(host, "0"))
			if err == nil {
				log.Warn("the default HTTPS address is taken: serving HTTPS on another port (ferry status shows it; --https-address chooses one)",
					"default", cfg.HTTPSAddress, "https", httpsListener.Addr().String())
			}
		}
		if err != nil {
			return nil, fmt.Errorf("serve apps over HTTPS on %s: %w (set https_address / FERRY_HTTPS_ADDRESS to a free address)", cfg.HTTPSAddress, err)
		}
		e.httpsListener = httpsListener
		e.onClose(func() { _ = httpsListener.Close() }) // for a failed start; the server closes it once serving
		httpsAddress = httpsListener.Addr().String()
		_, httpsPort, _ = net.SplitHostPort(httpsAddress)
		if cfg.PublicHTTPSPort != "" {
			httpsPort = cfg.PublicHTTPSPort
		}
	}
	httpsURL := func(host string) string {
		if httpsPort == "443" {
			return "https://" + host
		}
		return "https://" + host + ":" + httpsPort
	}
	publicAddresses := cfg.PublicAddresses
	if len(publicAddresses) == 0 {
		publicAddresses = listenerAddresses(edgeListener, httpsListener)
	}
	publicAddressList := make([]string, len(publicAddresses))
	for i, a := range publicAddresses {
		publicAddressList[i] = a.String()
	}
	// Apps write "https://" + $VERCEL_URL: the URL variables carry the HTTPS port, unless it
	// is https's own (or, without HTTPS, the edge's port).
	urlHost := func(host string) string {
		urlPort := port
		if httpsPort != "" {
			urlPort = httpsPort
		}
		if urlPort == "443" {
			return host
		}
		return net.JoinHostPort(host, urlPort)
	}

	rt := workers.New(workers.Config{
		RunDir:   filepath.Join(dataDir, "run", e.slot),
		LogDir:   filepath.Join(dataDir, "logs"),
		MaxQueue: cfg.MaxQueue,
		Sandbox:  jail,
		Logger:   log,
	})
	e.runtime = rt
	observed := newObservability(dataDir, log, st, rt)
	e.meter = observed.meter
	hooks := webhooks.New(webhooks.Config{Store: st, Secrets: box, Logger: log, NodeID: cfg.NodeID, URL: appURL, Backoff: cfg.WebhookBackoff})
	enforcer := plans.New(plans.Config{Store: st, Logger: log, Events: hooks})
	e.onClose(observed.access.Close)                            // after the edge and the builds have stopped: closers run in reverse
	e.onClose(func() { _ = rt.Shutdown(context.Background()) }) // after a failed start; a no-op after Shutdown
	// The certificate manager asks the edge which names it serves, and the
	// edge tells it which domains to certify ahead of their first visitor.
	var router *edge.Router
	var certificates *certs.Manager
	dashboardHost := api.DashboardHostLabel + "." + cfg.BaseDomain
	if httpsListener != nil {
		if certificates, err = newCertificates(cfg, dataDir, edgeListener, httpsListener, publicAddresses, st,
			func(name string) (string, bool) {
				if name == dashboardHost {
					return name, true
				}
				return router.Permit(name)
			}); err != nil {
			return nil, err
		}
		e.onClose(certificates.Close)
	}
	// The edge starts deployments the deployer may have to fetch first.
	var deployments *deploy.Service
	edgeCfg := edge.Config{
		Store:   st,
		Runtime: rt,
		Secrets: box,
		App: runnable(box, filepath.Join(dataDir, "deployments"), func(ctx context.Context, d *store.Deployment) error {
			return deployments.Fetch(ctx, d)
		}),
		Logger:         log,
		MaxBodySize:    cfg.MaxRequestBody,
		SpillDir:       filepath.Join(dataDir, "tmp"),
		TrustedProxies: cfg.TrustedProxies,
		HTTPPort:       port,
		HTTPSPort:      httpsPort,
		HSTSMaxAge:     cfg.HSTSMaxAge,
		Observe:        observed.served,
		Paused:         enforcer.Blocked,
	}
	if cfg.Store != "" {
		edgeCfg.PollInterval = sharedRoutesPoll
	}
	if certificates != nil {
		edgeCfg.Certificates = certificates
	}
	router = edge.New(edgeCfg)
	deployments = deploy.New(deploy.Config{
		Store:          st,
		Blobs:          blobStore,
		Secrets:        box,
		Hosts:          deploy.Hostnames{Base: cfg.BaseDomain},
		DeploymentsDir: filepath.Join(dataDir, "deployments"),
		Python:         cfg.Python,
		ExtraPythons:   cfg.ExtraPythons,
		BuildCacheDir:  filepath.Join(dataDir, "build-cache"),
		MaxLimits:      maxLimits(cfg.MaxLimits, buildMinutes(cfg.BuildTimeout)),
		Logger:         log,
		StopRuntime: func(id string) {
			rt.Remove(id)
			observed.forget(id)
		},
		BuildEnded: observed.buildEnded,
		DeploymentEvent: func(eventType string, d *store.Deployment) {
			hooks.Deployment(context.Background(), eventType, d, "")
		},
		Sandbox:          jail,
		BuildLimits:      cfg.BuildLimits,
		Limits:           deploy.Limits{MaxFiles: cfg.MaxDeploymentFiles, MaxBytes: cfg.MaxDeploymentBytes},
		Git:              gitsource.New(filepath.Join(dataDir, "git")),
		GitTimeout:       cfg.GitTimeout,
		URLHost:          urlHost,
		SyncRoutes:       router.Sync,
		NodeID:           cfg.NodeID,
		BuildWorkers:     cfg.BuildWorkers,
		BuildCaps:        plans.BuildCaps(),
		BuildTimeout:     cfg.BuildTimeout,
		Lease:            cfg.BuildLease,
		MaxQueuedBuilds:  cfg.MaxQueuedBuilds,
		ShareOutputs:     cfg.Artifacts != "",
		OutputCacheBytes: cfg.OutputCacheBytes,
	})
	// Before the edge reads its first routes: each one runs in the sandbox recorded for it.
	if err := deployments.ConfineUnconfined(ctx); err != nil {
		return nil, err
	}
	go router.Run(runCtx)
	if err := router.Sync(ctx); err != nil {
		return nil, err
	}

	resolvers := cfg.DNSResolvers
	if len(resolvers) == 0 {
		if resolvers, err = domains.SystemResolvers(); err != nil {
			log.Warn("no DNS resolvers to verify custom domains with (set --dns-resolvers)", "error", err)
		}
	}
	verifier := domains.New(domains.Config{
		Store: st, Resolvers: resolvers, BaseDomain: cfg.BaseDomain, PublicAddresses: publicAddresses,
		Interval: cfg.DomainCheckInterval, Logger: log, SyncRoutes: router.Sync,
	})

	// The store's own schema: SQLite's and PostgreSQL's migrations are numbered apart.
	schema, err := st.SchemaVersion(ctx)
	if err != nil {
		return nil, err
	}
	startedAt := time.Now().UTC()
	apiHandler := apiserver.New(apiserver.Config{
		Store:    st,
		Blobs:    blobStore,
		Secrets:  box,
		Keys:     box,
		Deploy:   deployments,
		Hosts:    deploy.Hostnames{Base: cfg.BaseDomain},
		URL:      appURL,
		HTTPSURL: httpsURL,
		Domains:  verifier,
		Health: func() api.Health {
			return api.Health{
				Status: "ok", Version: version.String(), APIVersion: api.Version, APIOldestVersion: api.OldestVersion,
				SchemaVersion: schema, PID: os.Getpid(),
				DataDir: dataDir, HTTPAddress: edgeListener.Addr().String(), HTTPSAddress: httpsAddress,
				BaseDomain: cfg.BaseDomain, PublicAddresses: publicAddressList, StartedAt: startedAt,
			}
		},
		Shutdown:   stop,
		Logger:     log,
		MaxLimits:  maxLimits(cfg.MaxLimits, buildMinutes(cfg.BuildTimeout)),
		SyncRoutes: router.Sync,
		Now:        cfg.Now,
		NodeID:     cfg.NodeID, NodeLostAfter: nodeLostAfter,
		FlushUsage: observed.meter.Flush,
		Plans:      enforcer,
		Webhooks:   hooks,
		Observe: apiserver.Observability{
			RuntimeLogPath: rt.LogPath, AccessLog: observed.access.Read,
			Series: observed.metrics.Series, Metrics: observed.metrics.Handler(), Stopping: runCtx.Done(),
		},
	})

	socketPath := filepath.Join(dataDir, api.SocketName)
	if from == nil {
		_ = os.Remove(socketPath) // a stale socket of a dead engine; we hold the lock (if it stays, Listen says so)
	}
	socketListener, err := listen(from, api.DescriptorAPISocket, "unix", socketPath)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", socketPath, err)
	}
	unixListener, ok := socketListener.(*net.UnixListener)
	if !ok {
		_ = socketListener.Close()
		return nil, fmt.Errorf("listen on %s: got a %T, not a unix socket", socketPath, socketListener)
	}
	e.apiSocket = unixListener
	// A socket handed over keeps its path: it stays the old engine's until this one serves.
	e.ownsSocket.Store(from == nil)
	e.onClose(func() {
		_ = socketListener.Close() // for a failed start; the server closes it once serving
		if e.ownsSocket.Load() {
			_ = os.Remove(socketPath) // usually gone already: closing a listener this engine made unlinks it
		}
	})
	if err := os.Chmod(socketPath, 0o600); err != nil {
		return nil, err
	}
	socketListener = jail.GuardListener(socketListener)

	// The API as clients reach it: with the token, when the engine has one.
	clientAPI := e.calls.track(apiHandler)
	if cfg.Token != "" {
		guard := newTokenGuard(cfg.Token, clientAPI, log)
		guard.teamToken = apiHandler.Authenticate
		clientAPI = guard
	}
	dash := dashboard.New(dashboard.Config{API: clientAPI, Token: cfg.Token, Logger: log})
	dashboardURL := appURL(dashboardHost)
	if httpsListener != nil && !api.LocalOnly(cfg.BaseDomain) {
		dashboardURL = httpsURL(dashboardHost)
	}

	// Only the unix socket, reached by the engine's own user, may hand the engine over, or
	// give out links that log a browser into the dashboard.
	unixAPI := http.NewServeMux()
	unixAPI.HandleFunc("POST "+api.PathHandover, e.handOver)
	unixAPI.HandleFunc("POST "+api.PathDashboardLoginLink, loginLinkHandler(dash, dashboardURL))
	unixAPI.Handle("/", e.calls.track(apiHandler))
	edgeServer := router.Server()
	var edgeDashboard http.Handler = dash
	if dashboardURL != appURL(dashboardHost) {
		edgeDashboard = httpsOnly(dashboardURL, dash)
	}
	edgeServer.Handler = e.closeAfterHandover(dashboardAt(dashboardHost, edgeDashboard, edgeServer.Handler))
	var toServe []listening
	// API clients move too: a keep-alive connection left idle on the old engine would be closed
	// when it stops, under a POST its client may be sending just then.
	toServe = append(toServe, listening{&http.Server{Handler: e.closeAfterHandover(unixAPI), ReadHeaderTimeout: 10 * time.Second}, socketListener, false})
	if certificates != nil {
		// The CA's HTTP-01 challenges are answered before the apps see the request.
		edgeServer.Handler = certificates.HTTPChallengeHandler(edgeServer.Handler)
		httpsServer := router.Server()
		httpsServer.Handler = e.closeAfterHandover(dashboardAt(dashboardHost, dash, httpsServer.Handler))
		httpsServer.TLSConfig = certificates.TLSConfig()
		httpsServer.ErrorLog = newServerErrorLog(log)
		toServe = append(toServe, listening{httpsServer, httpsListener, true})
	}
	toServe = append(toServe, listening{edgeServer, edgeListener, false})
	if cfg.APIAddress != "" {
		tcp, err := listen(from, api.DescriptorAPITCP, "tcp", cfg.APIAddress)
		if err != nil {
			return nil, fmt.Errorf("listen for the API on %s: %w", cfg.APIAddress, err)
		}
		e.apiTCP = tcp
		e.onClose(func() { _ = tcp.Close() }) // for a failed start; the server closes it once serving
		tokenAPI := &http.Server{Handler: e.closeAfterHandover(apiOrDashboard(clientAPI, dash)), ReadHeaderTimeout: 10 * time.Second}
		if cfg.TLSCert != "" {
			certificate, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
			if err != nil {
				return nil, fmt.Errorf("the TCP API's certificate: %w", err)
			}
			tokenAPI.TLSConfig = &tls.Config{Certificates: []tls.Certificate{certificate}, MinVersion: tls.VersionTLS12}
		}
		toServe = append(toServe, listening{tokenAPI, tcp, cfg.TLSCert != ""})
		log.Info("API listening on TCP", "address", tcp.Addr().String(), "tls", cfg.TLSCert != "")
		if exposedWithoutTLS(tcp.Addr(), cfg.TLSCert != "") {
			log.Warn("the token API listens on a non-loopback address without TLS: the token and every env var value sent cross the network in the clear; "+
				"give --tls-cert and --tls-key, or listen on 127.0.0.1 behind a proxy that terminates TLS", "address", tcp.Addr().String())
		}
	}

	e.deployments = deployments
	self := store.Node{ID: cfg.NodeID, Version: version.String(), HTTPAddress: edgeListener.Addr().String(), StartedAt: startedAt}
	if e.apiTCP != nil {
		self.APIAddress = e.apiTCP.Addr().String()
	}
	e.work = func(ctx context.Context) (<-chan struct{}, error) {
		if err := deployments.Start(ctx); err != nil {
			return nil, err
		}
		var workers sync.WaitGroup
		workers.Go(func() { keepHouse(ctx, log, st, blobStore, deployments, dataDir, rt.Holding) })
		workers.Go(func() { verifier.Run(ctx) })
		workers.Go(func() { hooks.Run(ctx) })
		workers.Go(func() { observed.meter.Run(ctx) }) // writes too: it stops, with a last flush, when the store is handed over
		workers.Go(func() { enforcer.Run(ctx) })
		workers.Go(func() {
			heartbeat(ctx, log, st, self, func() (int, int) { return rt.RunningInstances(), deployments.Building() })
		})
		done := make(chan struct{})
		go func() {
			workers.Wait()
			close(done)
		}()
		return done, nil
	}
	if err := e.startWork(); err != nil {
		return nil, err
	}
	e.onClose(e.stopWork) // after a failed start; a no-op after Shutdown
	e.serveErr = make(chan error, len(toServe))
	for _, s := range toServe {
		e.servers = append(e.servers, s.server)
		e.wg.Go(func() {
			var err error
			if s.tls {
				err = s.server.ServeTLS(s.listener, "", "")
			} else {
				err = s.server.Serve(s.listener)
			}
			if !errors.Is(err, http.ErrServerClosed) {
				e.serveErr <- err
				stop()
			}
		})
	}
	if from != nil {
		if err := from.serving(); err != nil {
			log.Warn("could not tell the previous engine that this one serves; it resumes too", "error", err)
		}
		e.ownsSocket.Store(true)
	}
	log.Info("engine started", "version", version.String(), "data_dir", dataDir, "socket", socketPath, "http", edgeListener.Addr().String(),
		"https", httpsAddress, "public_addresses", publicAddressList, "pid", os.Getpid(), "python", cfg.Python, "sandbox", jail.Describe())
	return e, nil
}

// listen returns the listener the predecessor handed over under name, or
// a new one on address.
func listen(from *predecessor, name, network, address string) (net.Listener, error) {
	if from != nil && from.listeners[name] != nil {
		l := from.listeners[name]
		from.listeners[name] = nil // ours now
		return l, nil
	}
	return net.Listen(network, address)
}

// startWork starts the writers besides the API: the build workers and the housekeeping.
func (e *Engine) startWork() error {
	e.workMu.Lock()
	defer e.workMu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	done, err := e.work(ctx)
	if err != nil {
		cancel()
		return err
	}
	e.workStopper = func() {
		cancel()
		e.deployments.Wait()
		<-done
	}
	return nil
}

// stopWork stops the build workers, which put the builds they had back in the
// queue, and the housekeeping, and returns once they have.
func (e *Engine) stopWork() {
	e.workMu.Lock()
	defer e.workMu.Unlock()
	if e.workStopper != nil {
		e.workStopper()
		e.workStopper = nil
	}
}

// listening is a server with its listener, and whether it serves TLS (its TLSConfig says how).
type listening struct {
	server   *http.Server
	listener net.Listener
	tls      bool
}

// newCertificates opens the data dir's local CA and the certificate manager of the HTTPS listener.
func newCertificates(cfg Config, dataDir string, httpListener, httpsListener net.Listener, publicAddresses []netip.Addr,
	st store.Store, permit certs.Permit) (*certs.Manager, error) {
	ca, err := certs.OpenLocalCA(filepath.Join(dataDir, CADirName))
	if err != nil {
		return nil, fmt.Errorf("the local CA: %w", err)
	}
	acme := certs.ACME{Directory: cfg.ACMEDirectory, Email: cfg.ACMEEmail}
	if cfg.ACMECARoots != "" {
		if acme.Roots, err = readCertPool(cfg.ACMECARoots); err != nil {
			return nil, fmt.Errorf("the ACME CA's roots: %w", err)
		}
	}
	return certs.New(certs.Config{
		StorageDir:         filepath.Join(dataDir, CertificatesDirName),
		LocalCA:            ca,
		ACME:               acme,
		HTTPAddress:        httpListener.Addr().String(),
		HTTPSAddress:       httpsListener.Addr().String(),
		Permit:             permit,
		IPs:                append(listenerAddresses(httpsListener), publicAddresses...),
		OnStatus:           certificateRecorder(st, cfg.Logger),
		RenewCheckInterval: cfg.RenewCheckInterval,
		Logger:             cfg.Logger,
	})
}

// Shutdown stops the engine: the servers (requests in progress may finish until ctx ends), the
// builds (an interrupted one resumes at the next start), the apps, then what Start acquired. It
// returns the error of a server that failed, if one did. Later calls return the same.
func (e *Engine) Shutdown(ctx context.Context) error {
	e.shutdown.Do(func() {
		e.log.Info("engine stopping")
		e.stop()
		for _, srv := range e.servers {
			if err := srv.Shutdown(ctx); err != nil {
				e.log.Warn("stopping a server: connections were cut", "error", err)
			}
		}
		e.wg.Wait()
		e.stopWork()
		if err := e.runtime.Shutdown(ctx); err != nil {
			e.log.Warn("stopping the apps", "error", err)
		}
		if !e.handedOver.Load() {
			// The time the instances took to stop; after a handover the store is the successor's.
			if err := e.meter.Flush(context.WithoutCancel(ctx)); err != nil {
				e.log.Error("metering: the last usage could not be stored", "error", err)
			}
		}
		e.releaseAll()
		select {
		case e.shutdownErr = <-e.serveErr:
		default:
		}
		e.log.Info("engine stopped")
	})
	return e.shutdownErr
}

// prepareDataDir creates the data dir and its subdirectories. When apps run as uids of their own,
// they must be able to pass through the data dir (but not list it) to reach their deployment
// and run directories; everything else in it stays the engine's alone.
func prepareDataDir(dataDir string, separateIdentities bool) error {
	passable := fs.FileMode(0o700)
	if separateIdentities {
		passable = 0o711
		for dir := filepath.Dir(dataDir); ; dir = filepath.Dir(dir) {
			info, err := os.Stat(dir)
			if err != nil {
				return err
			}
			if info.Mode().Perm()&0o001 == 0 {
				return fmt.Errorf("the data dir %s is inside %s, which other users cannot enter (mode %o), so apps running as their own users could not reach their files: use a data dir outside it, such as /var/lib/ferry", dataDir, dir, info.Mode().Perm())
			}
			if dir == filepath.Dir(dir) {
				break
			}
		}
	}
	if err := os.Chmod(dataDir, passable); err != nil {
		return err
	}
	dirs := map[string]fs.FileMode{"run": passable, "deployments": passable, "logs": 0o700, "tmp": 0o700}
	for _, slot := range []string{slotA, slotB} {
		dirs[filepath.Join("run", slot)] = passable
	}
	for name, mode := range dirs {
		dir := filepath.Join(dataDir, name)
		if err := os.MkdirAll(dir, mode); err != nil {
			return err
		}
		if err := os.Chmod(dir, mode); err != nil {
			return err
		}
	}
	return nil
}

// createPrivate creates path if missing and makes it readable by the engine only.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Chmod(path, 0o600)
}

// maxLimits fills the maximums the engine was not given; a build's deadline is the engine's.
func maxLimits(set api.Limits, buildMinutes int64) api.Limits {
	set.BuildMinutes = buildMinutes
	return deploy.FillLimits(set, apiserver.DefaultMaxLimits())
}

// buildMinutes is the engine's build deadline in whole minutes, the most a project may set.
func buildMinutes(timeout time.Duration) int64 {
	if timeout <= 0 {
		timeout = deploy.DefaultBuildTimeout
	}
	return max(int64(timeout/time.Minute), api.MinBuildMinutes)
}

// runnable says how the runtime runs a READY deployment, from its run spec.
func runnable(keeper secrets.Keeper, deploymentsDir string, fetch func(context.Context, *store.Deployment) error) func(*store.Deployment) (workers.App, error) {
	return func(d *store.Deployment) (workers.App, error) {
		if d.Run == nil {
			return workers.App{}, fmt.Errorf("deployment %s has no run spec", d.ID)
		}
		run := d.Run
		if err := run.Validate(); err != nil {
			return workers.App{}, err
		}
		limits := deploy.InstanceLimits(run.Limits)
		frozen, err := deploy.OpenEnv(context.Background(), keeper, d)
		if err != nil {
			return workers.App{}, err
		}
		// The spec's paths are relative to the directory of the deployment whose build
		// output it serves: its own, or, for a redeploy, that of the one that built it.
		root := filepath.Join(deploymentsDir, d.OutputOwner())
		python := filepath.Join(root, run.Python)
		var fetchOutput func(context.Context) error
		if run.Output != "" {
			fetchOutput = func(ctx context.Context) error { return fetch(ctx, d) }
		}
		return workers.App{
			Fetch:       fetchOutput,
			ID:          d.ID,
			Dir:         filepath.Join(root, run.AppDir),
			Python:      python,
			Entrypoint:  run.Entrypoint,
			Kind:        run.Kind,
			Env:         builder.ProcessEnv(frozen, filepath.Dir(filepath.Dir(python))),
			Root:        root,
			Identity:    sandbox.Identity{UID: run.UID, GID: run.UID},
			Limits:      limits,
			MaxDuration: runMaxDuration(run),
			IdleTimeout: time.Duration(run.Limits.IdleTimeoutSeconds) * time.Second,
			Workers:     int(run.Limits.MaxInstances),
			Threads:     int(run.Limits.Concurrency),
			Functions:   run.Functions,

			WebSocketIdleTimeout: time.Duration(run.Limits.WebSocketIdleTimeoutSeconds) * time.Second,
			WebSocketMaxMessage:  run.Limits.WebSocketMaxMessageBytes,
		}, nil
	}
}

// sharedRoutesPoll is how often the edge of a node on a shared store looks
// for route changes it was not told of: PostgreSQL's notifications, which
// tell it at once, are lost while its connection is down.
const sharedRoutesPoll = 2 * time.Second

// openState opens the metadata store, the secret keeper and the artifact
// store cfg names: PostgreSQL, the given key and S3 for nodes that share
// them, otherwise those of the data dir. On failure nothing stays open.
func openState(ctx context.Context, cfg Config, dataDir string, log *slog.Logger) (st store.Store, box *envelope.Ring, blobs artifacts.Store, err error) {
	// What can be told without a connection is told first.
	if cfg.Store != "" && !strings.HasPrefix(cfg.Store, "postgres://") && !strings.HasPrefix(cfg.Store, "postgresql://") {
		return nil, nil, nil, fmt.Errorf("--store %s: give a postgres:// URL, such as postgres://ferry:PASSWORD@db.internal:5432/ferry?sslmode=verify-full", postgres.Redact(cfg.Store))
	}
	if cfg.Store != "" && cfg.SecretKey == "" && cfg.KeyFile == "" {
		return nil, nil, nil, errors.New("nodes that share a store must share its key: give every node the same key with --key-file (FERRY_KEY_FILE) or FERRY_SECRET_KEY; " +
			"make it once with `head -c32 /dev/urandom > FILE` (or `| base64` for FERRY_SECRET_KEY)")
	}
	if cfg.Artifacts != "" {
		if _, err := s3.ParseURL(cfg.Artifacts); err != nil {
			return nil, nil, nil, err
		}
	}
	storeName := filepath.Join(dataDir, DBName)
	if cfg.Store == "" {
		st, err = openStore(ctx, dataDir, log)
	} else {
		storeName = postgres.Redact(cfg.Store)
		st, err = postgres.Open(ctx, cfg.Store)
	}
	if err != nil {
		return nil, nil, nil, err
	}
	opened := st // the results are nil by the time a failure's deferred close runs
	defer func() {
		if err != nil {
			_ = opened.Close() // the error that stopped the start is the one to report
		}
	}()
	if cfg.SecretKey != "" || cfg.KeyFile != "" {
		box, err = openGivenKey(ctx, cfg, storeName, st)
	} else {
		box, err = openSecrets(ctx, filepath.Join(dataDir, KeyName), storeName, st)
	}
	if err != nil {
		return nil, nil, nil, err
	}
	if cfg.Artifacts == "" {
		blobs, err = localfs.Open(filepath.Join(dataDir, "blobs"))
	} else {
		blobs, err = s3.OpenURL(ctx, cfg.Artifacts)
	}
	if err != nil {
		return nil, nil, nil, err
	}
	log.Info("state", "store", storeName, "artifacts", artifactsName(cfg, dataDir))
	return st, box, blobs, nil
}

// artifactsName names the artifact store in logs, without its secret.
func artifactsName(cfg Config, dataDir string) string {
	if cfg.Artifacts == "" {
		return filepath.Join(dataDir, "blobs")
	}
	parsed, err := s3.ParseURL(cfg.Artifacts)
	if err != nil {
		return "s3://..."
	}
	return parsed.String()
}
