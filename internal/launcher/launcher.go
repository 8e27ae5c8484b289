// Package launcher finds the engine that owns a data dir, or starts one from
// the current binary, detached so that it outlives the caller (terraform
// apply ends; the platform keeps serving).
package launcher

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/gofrs/flock"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/client"
)

// Names in a data dir, shared with the engine.
const (
	launchLockName = "launch.lock"
	logName        = "engine.log"
)

// startTimeout bounds how long a started engine may take to become healthy.
const startTimeout = 30 * time.Second

// Options says which engine to find or start.
type Options struct {
	DataDir     string // required; see DefaultDataDir
	HTTPAddress string // where a started engine serves apps; "" for the engine's default
	// HTTPSAddress is where a started engine serves apps over HTTPS; "" for
	// the engine's default, "off" for none.
	HTTPSAddress string
	Python       string // interpreter of a started engine; "" for the engine's default
	Executable   string // binary that runs `serve`; "" for os.Executable()
	Version      string // the caller's version; an engine of another version is refused
}

// Engine is a running, healthy engine.
type Engine struct {
	SocketPath string // unix socket of its API
	Health     api.Health
}

// SystemDataDir is the data dir of an engine run by root: apps run as uids of their own there,
// and must be able to pass through the data dir's parents, which a home directory forbids.
const SystemDataDir = "/var/lib/ferry"

// DefaultDataDir is $XDG_DATA_HOME/ferry, or ~/.local/share/ferry; for root, SystemDataDir.
func DefaultDataDir() (string, error) {
	if os.Geteuid() == 0 {
		return SystemDataDir, nil
	}
	if xdg := os.Getenv("XDG_DATA_HOME"); xdg != "" {
		return filepath.Join(xdg, "ferry"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("cannot find a data dir: set data_dir or FERRY_DATA_DIR (%w)", err)
	}
	return filepath.Join(home, ".local", "share", "ferry"), nil
}

// Ensure returns the healthy engine of opts.DataDir, starting it first if
// none runs. Callers racing on one data dir start one engine: the start is
// serialized by a lock file, and whoever gets it second finds the first's.
func Ensure(ctx context.Context, opts Options) (*Engine, error) {
	dataDir, err := filepath.Abs(opts.DataDir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir %s: %w", dataDir, err)
	}
	socket := filepath.Join(dataDir, api.SocketName)
	if e, err := probe(ctx, socket, opts.Version); e != nil || err != nil {
		return e, err
	}

	lock := flock.New(filepath.Join(dataDir, launchLockName))
	lockCtx, cancel := context.WithTimeout(ctx, startTimeout+10*time.Second)
	defer cancel()
	if _, err := lock.TryLockContext(lockCtx, 50*time.Millisecond); err != nil {
		return nil, fmt.Errorf("wait for another process starting the engine of %s: %w", dataDir, err)
	}
	// Failing to unlock should not fail a start that worked: the lock goes with the process at the latest.
	defer func() { _ = lock.Unlock() }()
	if e, err := probe(ctx, socket, opts.Version); e != nil || err != nil {
		return e, err
	}
	return start(ctx, dataDir, socket, opts)
}

// probe returns the engine on socket if one answers, nil if none runs, and
// an error if one runs but cannot be used.
func probe(ctx context.Context, socket, wantVersion string) (*Engine, error) {
	if _, err := os.Stat(socket); err != nil {
		return nil, nil
	}
	c, err := client.New(client.Config{Endpoint: "unix://" + socket, RetryMax: 1})
	if err != nil {
		return nil, err
	}
	probeCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	h, err := c.Health(probeCtx)
	if err != nil {
		return nil, nil // a stale socket of an engine that is gone
	}
	if h.APIVersion != api.Version || (wantVersion != "" && h.Version != wantVersion) {
		return nil, fmt.Errorf("the engine of %s (pid %d) runs version %s, but this is version %s: stop it with `ferry stop --data-dir %s` (or kill %d); the next run starts an engine of this version, and deployments keep their data",
			h.DataDir, h.PID, h.Version, wantVersion, h.DataDir, h.PID)
	}
	return &Engine{SocketPath: socket, Health: *h}, nil
}

func start(ctx context.Context, dataDir, socket string, opts Options) (*Engine, error) {
	exe := opts.Executable
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			return nil, err
		}
	}
	args := []string{"serve", "--data-dir", dataDir}
	if opts.HTTPAddress != "" {
		args = append(args, "--http-address", opts.HTTPAddress)
	}
	if opts.HTTPSAddress != "" {
		args = append(args, "--https-address", opts.HTTPSAddress)
	}
	if opts.Python != "" {
		args = append(args, "--python", opts.Python)
	}
	logPath := filepath.Join(dataDir, logName)
	logFile, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	defer func() { _ = logFile.Close() }() // the engine writes through its own descriptor
	offset, _ := logFile.Seek(0, 2)

	cmd := exec.Command(exe, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.Dir = dataDir
	// A new session: the engine is not killed with Terraform's process group.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the engine (%s serve): %w", exe, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	deadline := time.NewTimer(startTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case err := <-exited:
			return nil, fmt.Errorf("the engine exited while starting (%v):\n%s\nsee %s", err, logSince(logPath, offset), logPath)
		case <-deadline.C:
			return nil, fmt.Errorf("the engine did not become healthy within %s:\n%s\nsee %s", startTimeout, logSince(logPath, offset), logPath)
		case <-tick.C:
			e, err := probe(ctx, socket, opts.Version)
			if err != nil {
				return nil, err
			}
			if e != nil {
				return e, nil
			}
		}
	}
}

// logSince returns what the engine wrote to its log after offset, at most
// the last 2 KiB.
func logSince(path string, offset int64) string {
	data, err := os.ReadFile(path)
	if err != nil || int64(len(data)) < offset {
		return ""
	}
	data = bytes.TrimSpace(data[offset:])
	if len(data) > 2048 {
		data = data[len(data)-2048:]
	}
	if len(data) == 0 {
		return "(the engine wrote nothing)"
	}
	return string(data)
}

// ErrNotRunning means no engine answers on the data dir.
var ErrNotRunning = errors.New("no engine is running on this data dir")

// Find returns the engine of dataDir without starting one.
func Find(ctx context.Context, dataDir string) (*Engine, error) {
	abs, err := filepath.Abs(dataDir)
	if err != nil {
		return nil, err
	}
	e, err := probe(ctx, filepath.Join(abs, api.SocketName), "")
	if err != nil {
		return nil, err
	}
	if e == nil {
		return nil, fmt.Errorf("%w (%s)", ErrNotRunning, abs)
	}
	return e, nil
}
