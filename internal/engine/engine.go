// Package engine wires the engine's packages into one daemon: the API on a
// unix socket (and optionally TCP with a token), the edge serving apps, the
// build queue and the Python runtime, all over one data dir.
package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/gofrs/flock"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/apiserver"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/artifacts/localfs"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/builder"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/deploy"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/edge"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/gitsource"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/sandbox"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/secrets"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store/sqlite"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/workers"
	"github.com/ferryhq/terraform-provider-ferry/internal/version"
)

// Defaults of an engine's settings.
const (
	DefaultHTTPAddress = "127.0.0.1:3080"
	DefaultPython      = "/usr/bin/python3"
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
	DataDir     string
	HTTPAddress string // where apps are served
	Python      string // base interpreter of builds
	BaseDomain  string // apps are <name>.<BaseDomain>
	APIAddress  string // optional TCP address of the API; requires Token
	Token       string
	TLSCert     string // optional: serve the TCP API over TLS
	TLSKey      string
	Logger      *slog.Logger

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
	NodeID          string        // names this engine in its claims on builds; default: the host name
	BuildWorkers    int           // builds run at once
	BuildTimeout    time.Duration // deadline of one build
	MaxQueuedBuilds int           // deployments allowed to wait for a build; more are refused (429)
	GitTimeout      time.Duration // bounds fetching one git commit; 0 -> deploy.DefaultGitTimeout

	// MaxRequestBody bounds an app's request body (the edge buffers it
	// whole before the app sees it); 0 -> edge.DefaultMaxBodySize.
	MaxRequestBody int64
}

// ErrLocked means another engine owns the data dir.
var ErrLocked = errors.New("another engine is already running on this data dir")

// Engine is a running engine: Start brings it up, Shutdown takes it down.
type Engine struct {
	log         *slog.Logger
	stop        context.CancelFunc // ends the engine's life: Shutdown, the API's shutdown, or a failed server
	done        <-chan struct{}
	servers     []*http.Server
	wg          sync.WaitGroup // the servers and the housekeeping
	serveErr    chan error
	deployments *deploy.Service
	runtime     *workers.Manager
	closers     []func() // what Start acquired, in order; released in reverse
	shutdown    sync.Once
	shutdownErr error
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
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
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
		cfg.Python = DefaultPython
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
	lock := flock.New(filepath.Join(dataDir, LockName))
	locked, err := lock.TryLock()
	if err != nil {
		return nil, fmt.Errorf("lock data dir: %w", err)
	}
	if !locked {
		return nil, fmt.Errorf("%w (%s): stop it first (ferry stop --data-dir %s), or use another data dir", ErrLocked, dataDir, dataDir)
	}
	e.onClose(func() {
		if err := lock.Unlock(); err != nil {
			log.Warn("unlocking the data dir", "error", err)
		}
	})

	mode, err := sandbox.ParseMode(cfg.SandboxMode)
	if err != nil {
		return nil, err
	}
	nameSum := sha256.Sum256([]byte(dataDir))
	jail, err := sandbox.New(sandbox.Config{
		Mode: mode, FirstUID: cfg.SandboxFirstUID, LastUID: cfg.SandboxLastUID,
		Name: hex.EncodeToString(nameSum[:6]), Logger: log,
	})
	if err != nil {
		return nil, err
	}
	e.onClose(jail.Close)
	if err := prepareDataDir(dataDir, jail.SeparateIdentities()); err != nil {
		return nil, err
	}

	// SQLite gives its journal files the database's mode: create it the engine's alone.
	if err := createPrivate(filepath.Join(dataDir, DBName)); err != nil {
		return nil, err
	}
	st, err := sqlite.Open(ctx, filepath.Join(dataDir, DBName))
	if err != nil {
		return nil, err
	}
	e.onClose(func() {
		if err := st.Close(); err != nil {
			log.Error("closing the metadata store", "error", err)
		}
	})
	box, err := openSecrets(ctx, filepath.Join(dataDir, KeyName), filepath.Join(dataDir, DBName), st)
	if err != nil {
		return nil, err
	}
	blobStore, err := localfs.Open(filepath.Join(dataDir, "blobs"))
	if err != nil {
		return nil, err
	}

	edgeListener, err := net.Listen("tcp", cfg.HTTPAddress)
	if err != nil {
		return nil, fmt.Errorf("serve apps on %s: %w (set http_address / FERRY_HTTP_ADDRESS to a free address)", cfg.HTTPAddress, err)
	}
	e.onClose(func() { _ = edgeListener.Close() }) // for a failed start; the server closes it once serving
	_, port, _ := net.SplitHostPort(edgeListener.Addr().String())
	appURL := func(host string) string {
		if port == "80" {
			return "http://" + host
		}
		return "http://" + host + ":" + port
	}
	// Apps write "https://" + $VERCEL_URL: the URL variables carry the port, which answers
	// TLS as well as plain HTTP (see edge.ServeTLSToo), unless it is https's own.
	urlHost := func(host string) string {
		if port == "443" {
			return host
		}
		return net.JoinHostPort(host, port)
	}

	rt := workers.New(workers.Config{
		RunDir:  filepath.Join(dataDir, "run"),
		LogDir:  filepath.Join(dataDir, "logs"),
		Sandbox: jail,
		Logger:  log,
	})
	e.runtime = rt
	e.onClose(func() { _ = rt.Shutdown(context.Background()) }) // after a failed start; a no-op after Shutdown
	router := edge.New(edge.Config{
		Store:       st,
		Runtime:     rt,
		App:         runnable(box, filepath.Join(dataDir, "deployments")),
		Logger:      log,
		MaxBodySize: cfg.MaxRequestBody,
		SpillDir:    filepath.Join(dataDir, "tmp"),
	})
	go router.Run(runCtx)
	if err := router.Sync(ctx); err != nil {
		return nil, err
	}
	deployments := deploy.New(deploy.Config{
		Store:           st,
		Blobs:           blobStore,
		Secrets:         box,
		Hosts:           deploy.Hostnames{Base: cfg.BaseDomain},
		DeploymentsDir:  filepath.Join(dataDir, "deployments"),
		Python:          cfg.Python,
		Logger:          log,
		StopRuntime:     rt.Remove,
		Sandbox:         jail,
		BuildLimits:     cfg.BuildLimits,
		Limits:          deploy.Limits{MaxFiles: cfg.MaxDeploymentFiles, MaxBytes: cfg.MaxDeploymentBytes},
		Git:             gitsource.New(filepath.Join(dataDir, "git")),
		GitTimeout:      cfg.GitTimeout,
		URLHost:         urlHost,
		SyncRoutes:      router.Sync,
		NodeID:          cfg.NodeID,
		BuildWorkers:    cfg.BuildWorkers,
		BuildTimeout:    cfg.BuildTimeout,
		MaxQueuedBuilds: cfg.MaxQueuedBuilds,
	})

	startedAt := time.Now().UTC()
	apiHandler := apiserver.New(apiserver.Config{
		Store:   st,
		Blobs:   blobStore,
		Secrets: box,
		Deploy:  deployments,
		Hosts:   deploy.Hostnames{Base: cfg.BaseDomain},
		URL:     appURL,
		Health: func() api.Health {
			return api.Health{
				Status: "ok", Version: version.String(), APIVersion: api.Version, PID: os.Getpid(),
				DataDir: dataDir, HTTPAddress: edgeListener.Addr().String(), BaseDomain: cfg.BaseDomain, StartedAt: startedAt,
			}
		},
		Shutdown:   stop,
		Logger:     log,
		MaxLimits:  maxLimits(cfg.MaxLimits, buildMinutes(cfg.BuildTimeout)),
		SyncRoutes: router.Sync,
	})

	socketPath := filepath.Join(dataDir, api.SocketName)
	_ = os.Remove(socketPath) // a stale socket of a dead engine; we hold the lock (if it stays, Listen says so)
	socketListener, err := net.Listen("unix", socketPath)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", socketPath, err)
	}
	e.onClose(func() {
		_ = socketListener.Close() // for a failed start; the server closes it once serving
		_ = os.Remove(socketPath)  // usually gone already: closing the listener unlinks it
	})
	if err := os.Chmod(socketPath, 0o600); err != nil {
		return nil, err
	}
	socketListener = jail.GuardListener(socketListener)

	servers := []*http.Server{
		{Handler: apiHandler, ReadHeaderTimeout: 10 * time.Second},
		router.Server(),
	}
	ca, err := edge.LoadOrCreateCA(filepath.Join(dataDir, "tls"))
	if err != nil {
		return nil, err
	}
	listeners := []net.Listener{socketListener, router.ServeTLSToo(edgeListener, ca)}
	if cfg.APIAddress != "" {
		tcp, err := net.Listen("tcp", cfg.APIAddress)
		if err != nil {
			return nil, fmt.Errorf("listen for the API on %s: %w", cfg.APIAddress, err)
		}
		e.onClose(func() { _ = tcp.Close() }) // for a failed start; the server closes it once serving
		servers = append(servers, &http.Server{Handler: newTokenGuard(cfg.Token, apiHandler, log), ReadHeaderTimeout: 10 * time.Second})
		listeners = append(listeners, tcp)
		log.Info("API listening on TCP", "address", tcp.Addr().String(), "tls", cfg.TLSCert != "")
		if exposedWithoutTLS(tcp.Addr(), cfg.TLSCert != "") {
			log.Warn("the token API listens on a non-loopback address without TLS: the token and every env var value sent cross the network in the clear; "+
				"give --tls-cert and --tls-key, or listen on 127.0.0.1 behind a proxy that terminates TLS", "address", tcp.Addr().String())
		}
	}

	if err := deployments.Start(runCtx); err != nil {
		return nil, err
	}
	e.deployments = deployments
	e.servers = servers
	e.wg.Go(func() { keepHouse(runCtx, log, st, blobStore, deployments, dataDir) })
	e.serveErr = make(chan error, len(servers))
	for i, srv := range servers {
		e.wg.Go(func() {
			var err error
			if i == 2 && cfg.TLSCert != "" {
				err = srv.ServeTLS(listeners[i], cfg.TLSCert, cfg.TLSKey)
			} else {
				err = srv.Serve(listeners[i])
			}
			if !errors.Is(err, http.ErrServerClosed) {
				e.serveErr <- err
				stop()
			}
		})
	}
	log.Info("engine started", "version", version.String(), "data_dir", dataDir, "socket", socketPath, "http", edgeListener.Addr().String(), "pid", os.Getpid(), "sandbox", jail.Describe(),
		"https_authority", filepath.Join(dataDir, "tls", edge.CACertName))
	return e, nil
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
		e.deployments.Wait()
		if err := e.runtime.Shutdown(ctx); err != nil {
			e.log.Warn("stopping the apps", "error", err)
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
	for name, mode := range map[string]fs.FileMode{"run": passable, "deployments": passable, "logs": 0o700, "tmp": 0o700} {
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
func runnable(keeper secrets.Keeper, deploymentsDir string) func(*store.Deployment) (workers.App, error) {
	return func(d *store.Deployment) (workers.App, error) {
		if d.Run == nil {
			return workers.App{}, fmt.Errorf("deployment %s has no run spec", d.ID)
		}
		run := d.Run
		if err := run.Validate(); err != nil {
			return workers.App{}, err
		}
		frozen, err := deploy.OpenEnv(context.Background(), keeper, d)
		if err != nil {
			return workers.App{}, err
		}
		// The spec's paths are relative to the directory of the deployment whose build
		// output it serves: its own, or, for a redeploy, that of the one that built it.
		root := filepath.Join(deploymentsDir, d.OutputOwner())
		python := filepath.Join(root, run.Python)
		return workers.App{
			ID:         d.ID,
			Dir:        filepath.Join(root, run.AppDir),
			Python:     python,
			Entrypoint: run.Entrypoint,
			Kind:       run.Kind,
			Env:        builder.ProcessEnv(frozen, filepath.Dir(filepath.Dir(python))),
			Root:       root,
			Identity:   sandbox.Identity{UID: run.UID, GID: run.UID},
			Limits:     deploy.InstanceLimits(run.Limits),
		}, nil
	}
}
