// Package launcher finds the engine that owns a data dir, or starts one from
// the current binary, detached so that it outlives the caller (terraform
// apply ends; the platform keeps serving). An engine older than the caller
// is upgraded in place: the new one takes over its sockets and store.
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
	"github.com/ferryhq/terraform-provider-ferry/internal/version"
)

// Names in a data dir, shared with the engine.
const (
	launchLockName = "launch.lock"
	logName        = "engine.log"
)

// How long a started engine may take to become healthy; one taking over
// may first migrate the store.
const (
	startTimeout    = 30 * time.Second
	takeOverTimeout = 2 * time.Minute
)

// Options says which engine to find or start.
type Options struct {
	DataDir     string // required; see DefaultDataDir
	HTTPAddress string // where a started engine serves apps; "" for the engine's default
	// HTTPSAddress is where a started engine serves apps over HTTPS; "" for
	// the engine's default, "off" for none.
	HTTPSAddress string
	Python       string // interpreter of a started engine; "" for the engine's default
	Executable   string // binary that runs `serve`; "" for os.Executable()
	Version      string // the caller's version: an older engine, or another build of it, is upgraded to it
}

// Engine is a running, healthy engine.
type Engine struct {
	SocketPath string // unix socket of its API
	Health     api.Health
	Replaced   *api.Health // the engine it took over from, when this call upgraded one
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
// none runs, or upgrading it in place to opts.Version first if it is older
// (see assess). Callers racing on one data dir start or upgrade once: they
// take turns on a lock file, and whoever comes second finds the first's.
func Ensure(ctx context.Context, opts Options) (*Engine, error) {
	return ensure(ctx, opts, true)
}

// Upgrade upgrades the engine running on opts.DataDir to opts.Version in
// place, as Ensure does, and returns it. Replaced is nil when there was
// nothing to do: it runs this version already, or a newer one.
func Upgrade(ctx context.Context, opts Options) (*Engine, error) {
	return ensure(ctx, opts, false)
}

func ensure(ctx context.Context, opts Options, startIfNone bool) (*Engine, error) {
	detached, err := detachedProcess() // before anything is created: a system that cannot run an engine says so
	if err != nil {
		return nil, err
	}
	dataDir, err := filepath.Abs(opts.DataDir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir %s: %w", dataDir, err)
	}
	socket := filepath.Join(dataDir, api.SocketName)
	if h := probe(ctx, socket); h != nil {
		replace, err := assess(h, opts.Version, dataDir)
		if err != nil || !replace {
			return &Engine{SocketPath: socket, Health: *h}, err
		}
	} else if !startIfNone {
		return nil, fmt.Errorf("%w (%s): start one with `ferry serve --data-dir %s`", ErrNotRunning, dataDir, dataDir)
	}

	lock := flock.New(filepath.Join(dataDir, launchLockName))
	lockCtx, cancel := context.WithTimeout(ctx, takeOverTimeout+10*time.Second)
	defer cancel()
	if _, err := lock.TryLockContext(lockCtx, 50*time.Millisecond); err != nil {
		return nil, fmt.Errorf("wait for another process starting the engine of %s: %w", dataDir, err)
	}
	// Failing to unlock should not fail a start that worked: the lock goes with the process at the latest.
	defer func() { _ = lock.Unlock() }()
	h := probe(ctx, socket)
	if h == nil {
		return start(ctx, dataDir, socket, detached, opts, nil)
	}
	replace, err := assess(h, opts.Version, dataDir)
	if err != nil || !replace {
		return &Engine{SocketPath: socket, Health: *h}, err
	}
	return start(ctx, dataDir, socket, detached, opts, h)
}

// assess decides what becomes of the running engine of h for a caller of
// version mine: it is upgraded when older (or another build of the same
// version, as dev builds are), and used otherwise, if its API serves this
// caller. An engine is never downgraded.
func assess(h *api.Health, mine, dataDir string) (replace bool, err error) {
	order := version.Compare(h.Version, mine)
	older := order < 0 || (order == 0 && h.Version != mine)
	switch {
	case older && int(h.APIVersion) < api.HandoverSince:
		return false, fmt.Errorf("the engine of %s (pid %d) runs version %s, which cannot be upgraded in place (its API version %d predates upgrades in place): "+
			"stop it with `ferry stop --data-dir %s` (or kill %d); the next run starts version %s, and deployments keep their data",
			dataDir, h.PID, h.Version, h.APIVersion, dataDir, h.PID, mine)
	case older:
		return true, nil
	}
	if err := client.Compatible(h); err != nil {
		return false, fmt.Errorf("the engine of %s runs version %s, which is not older than this version (%s), so it is not upgraded, and: %w", dataDir, h.Version, mine, err)
	}
	return false, nil
}

// probe returns the health of the engine on socket, or nil if none answers.
func probe(ctx context.Context, socket string) *api.Health {
	if _, err := os.Stat(socket); err != nil {
		return nil
	}
	c, err := client.New(client.Config{Endpoint: "unix://" + socket, RetryMax: 1})
	if err != nil {
		return nil
	}
	probeCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	h, err := c.Health(probeCtx)
	if err != nil {
		return nil // a stale socket of an engine that is gone, or one busy handing over
	}
	return h
}

// start starts an engine from opts.Executable and waits until it serves.
// With replacing set, the new engine takes over from that one.
func start(ctx context.Context, dataDir, socket string, detached *syscall.SysProcAttr, opts Options, replacing *api.Health) (*Engine, error) {
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
	timeout := startTimeout
	if replacing != nil {
		args = append(args, "--take-over")
		timeout = takeOverTimeout
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
	cmd.SysProcAttr = detached
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the engine (%s serve): %w", exe, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case err := <-exited:
			what := "the engine exited while starting"
			if replacing != nil {
				what = fmt.Sprintf("the engine of version %s exited while taking over from version %s (pid %d), which keeps running", opts.Version, replacing.Version, replacing.PID)
			}
			return nil, fmt.Errorf("%s (%v):\n%s\nsee %s", what, err, logSince(logPath, offset), logPath)
		case <-deadline.C:
			return nil, fmt.Errorf("the engine did not become healthy within %s:\n%s\nsee %s", timeout, logSince(logPath, offset), logPath)
		case <-tick.C:
			// Until the new engine serves, the old one may answer.
			if h := probe(ctx, socket); h != nil && h.PID == cmd.Process.Pid {
				return &Engine{SocketPath: socket, Health: *h, Replaced: replacing}, client.Compatible(h)
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

// Find returns the engine of dataDir without starting one, whatever its version.
func Find(ctx context.Context, dataDir string) (*Engine, error) {
	abs, err := filepath.Abs(dataDir)
	if err != nil {
		return nil, err
	}
	socket := filepath.Join(abs, api.SocketName)
	h := probe(ctx, socket)
	if h == nil {
		return nil, fmt.Errorf("%w (%s)", ErrNotRunning, abs)
	}
	return &Engine{SocketPath: socket, Health: *h}, nil
}
