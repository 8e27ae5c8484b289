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
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/blobs"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/builder"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/deploy"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/edge"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/sandbox"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/secrets"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
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
	SocketName = "engine.sock"
	LockName   = "engine.lock"
	KeyName    = "secret.key"
	DBName     = "ferry.db"
	LogName    = "engine.log"
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

	// MaxRequestBody bounds an app's request body (the edge buffers it
	// whole before the app sees it); 0 -> edge.DefaultMaxBodySize.
	MaxRequestBody int64
}

// ErrLocked means another engine owns the data dir.
var ErrLocked = errors.New("another engine is already running on this data dir")

// Run runs the engine until ctx is done or a client asks it to stop.
func Run(ctx context.Context, cfg Config) error {
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
		return errors.New("build workers, build timeout and max queued builds cannot be negative (leave them 0 for the defaults)")
	}
	if cfg.NodeID == "" {
		host, err := os.Hostname()
		if err != nil {
			return fmt.Errorf("name this node for its build claims (set a node id): %w", err)
		}
		cfg.NodeID = host
	}
	if cfg.APIAddress != "" && cfg.Token == "" {
		return errors.New("an API address on TCP needs a token: set FERRY_TOKEN (or --token-file) so that only its holders can reach the API")
	}
	log := cfg.Logger
	dataDir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return fmt.Errorf("create data dir: %w", err)
	}
	lock := flock.New(filepath.Join(dataDir, LockName))
	locked, err := lock.TryLock()
	if err != nil {
		return fmt.Errorf("lock data dir: %w", err)
	}
	if !locked {
		return fmt.Errorf("%w (%s): stop it first (ferry stop --data-dir %s), or use another data dir", ErrLocked, dataDir, dataDir)
	}
	defer func() {
		if err := lock.Unlock(); err != nil {
			log.Warn("unlocking the data dir", "error", err)
		}
	}()

	mode, err := sandbox.ParseMode(cfg.SandboxMode)
	if err != nil {
		return err
	}
	nameSum := sha256.Sum256([]byte(dataDir))
	jail, err := sandbox.New(sandbox.Config{
		Mode: mode, FirstUID: cfg.SandboxFirstUID, LastUID: cfg.SandboxLastUID,
		Name: hex.EncodeToString(nameSum[:6]), Logger: log,
	})
	if err != nil {
		return err
	}
	defer jail.Close()
	if err := prepareDataDir(dataDir, jail.SeparateIdentities()); err != nil {
		return err
	}

	// SQLite gives its journal files the database's mode: create it the engine's alone.
	if err := createPrivate(filepath.Join(dataDir, DBName)); err != nil {
		return err
	}
	st, err := store.Open(ctx, filepath.Join(dataDir, DBName))
	if err != nil {
		return err
	}
	defer func() {
		if err := st.Close(); err != nil {
			log.Error("closing the metadata store", "error", err)
		}
	}()
	box, err := openSecrets(ctx, filepath.Join(dataDir, KeyName), filepath.Join(dataDir, DBName), st)
	if err != nil {
		return err
	}
	blobStore, err := blobs.Open(filepath.Join(dataDir, "blobs"))
	if err != nil {
		return err
	}

	edgeListener, err := net.Listen("tcp", cfg.HTTPAddress)
	if err != nil {
		return fmt.Errorf("serve apps on %s: %w (set http_address / FERRY_HTTP_ADDRESS to a free address)", cfg.HTTPAddress, err)
	}
	defer func() { _ = edgeListener.Close() }() // for the early returns; the server closes it once serving
	_, port, _ := net.SplitHostPort(edgeListener.Addr().String())
	appURL := func(host string) string {
		if port == "80" {
			return "http://" + host
		}
		return "http://" + host + ":" + port
	}

	rt := workers.New(workers.Config{
		RunDir:  filepath.Join(dataDir, "run"),
		LogDir:  filepath.Join(dataDir, "logs"),
		Sandbox: jail,
		Logger:  log,
	})
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	router := edge.New(edge.Config{
		Store:       st,
		Runtime:     rt,
		App:         runnable(box),
		Logger:      log,
		MaxBodySize: cfg.MaxRequestBody,
		SpillDir:    filepath.Join(dataDir, "tmp"),
	})
	go router.Run(runCtx)
	if err := router.Sync(ctx); err != nil {
		return err
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

	socketPath := filepath.Join(dataDir, SocketName)
	_ = os.Remove(socketPath) // a stale socket of a dead engine; we hold the lock (if it stays, Listen says so)
	socketListener, err := net.Listen("unix", socketPath)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", socketPath, err)
	}
	if err := os.Chmod(socketPath, 0o600); err != nil {
		return err
	}
	defer func() { _ = os.Remove(socketPath) }() // usually gone already: closing the listener unlinks it
	socketListener = jail.GuardListener(socketListener)

	servers := []*http.Server{
		{Handler: apiHandler, ReadHeaderTimeout: 10 * time.Second},
		router.Server(),
	}
	listeners := []net.Listener{socketListener, edgeListener}
	if cfg.APIAddress != "" {
		tcp, err := net.Listen("tcp", cfg.APIAddress)
		if err != nil {
			return fmt.Errorf("listen for the API on %s: %w", cfg.APIAddress, err)
		}
		servers = append(servers, &http.Server{Handler: newTokenGuard(cfg.Token, apiHandler, log), ReadHeaderTimeout: 10 * time.Second})
		listeners = append(listeners, tcp)
		log.Info("API listening on TCP", "address", tcp.Addr().String(), "tls", cfg.TLSCert != "")
		if exposedWithoutTLS(tcp.Addr(), cfg.TLSCert != "") {
			log.Warn("the token API listens on a non-loopback address without TLS: the token and every env var value sent cross the network in the clear; "+
				"give --tls-cert and --tls-key, or listen on 127.0.0.1 behind a proxy that terminates TLS", "address", tcp.Addr().String())
		}
	}

	if err := deployments.Start(runCtx); err != nil {
		return err
	}
	var wg sync.WaitGroup
	wg.Go(func() { keepHouse(runCtx, log, st, blobStore, dataDir) })
	serveErr := make(chan error, len(servers))
	for i, srv := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			if i == 2 && cfg.TLSCert != "" {
				err = srv.ServeTLS(listeners[i], cfg.TLSCert, cfg.TLSKey)
			} else {
				err = srv.Serve(listeners[i])
			}
			if !errors.Is(err, http.ErrServerClosed) {
				serveErr <- err
			}
		}()
	}
	log.Info("engine started", "version", version.String(), "data_dir", dataDir, "socket", socketPath, "http", edgeListener.Addr().String(), "pid", os.Getpid(), "sandbox", jail.Describe())

	var runErr error
	select {
	case <-runCtx.Done():
	case runErr = <-serveErr:
	}
	log.Info("engine stopping")
	stop()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, srv := range servers {
		if err := srv.Shutdown(shutdownCtx); err != nil {
			log.Warn("stopping a server: connections were cut", "error", err)
		}
	}
	wg.Wait()
	deployments.Wait()
	if err := rt.Shutdown(shutdownCtx); err != nil {
		log.Warn("stopping the apps", "error", err)
	}
	log.Info("engine stopped")
	return runErr
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
	def := apiserver.DefaultMaxLimits()
	if set.MemoryMB == 0 {
		set.MemoryMB = def.MemoryMB
	}
	if set.CPU == 0 {
		set.CPU = def.CPU
	}
	if set.Processes == 0 {
		set.Processes = def.Processes
	}
	if set.OpenFiles == 0 {
		set.OpenFiles = def.OpenFiles
	}
	return set
}

// buildMinutes is the engine's build deadline in whole minutes, the most a project may set.
func buildMinutes(timeout time.Duration) int64 {
	if timeout <= 0 {
		timeout = deploy.DefaultBuildTimeout
	}
	return max(int64(timeout/time.Minute), api.MinBuildMinutes)
}

// runnable says how the runtime runs a READY deployment.
func runnable(box *secrets.Box) func(*store.Deployment, store.DeploymentSandbox) (workers.App, error) {
	return func(d *store.Deployment, confined store.DeploymentSandbox) (workers.App, error) {
		frozen, err := deploy.OpenEnv(box, d)
		if err != nil {
			return workers.App{}, err
		}
		venv := filepath.Dir(filepath.Dir(d.Python))
		return workers.App{
			ID:         d.ID,
			Dir:        d.AppDir,
			Python:     d.Python,
			Entrypoint: d.Entrypoint,
			Kind:       d.Kind,
			Env:        builder.ProcessEnv(frozen, venv),
			Root:       filepath.Dir(venv),
			Identity:   sandbox.Identity{UID: confined.UID, GID: confined.UID},
			Limits:     deploy.InstanceLimits(confined.Limits),
		}, nil
	}
}
