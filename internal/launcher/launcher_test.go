// The embedded engine these tests start needs Linux or macOS.

//go:build !windows

package launcher_test

import (
	"context"
	"errors"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ferryhq/terraform-provider-ferry/internal/cli"
	"github.com/ferryhq/terraform-provider-ferry/internal/client"
	"github.com/ferryhq/terraform-provider-ferry/internal/freeport"
	"github.com/ferryhq/terraform-provider-ferry/internal/launcher"
	"github.com/ferryhq/terraform-provider-ferry/internal/version"
)

// TestMain lets this test binary be the engine the launcher starts.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "serve" {
		os.Exit(cli.Run(os.Args[1:]))
	}
	os.Exit(m.Run())
}

func shortDataDir(t *testing.T) string {
	t.Helper()
	// Not t.TempDir(): apps running as uids of their own must pass through
	// the data dir's parents, and t.TempDir()'s parent is 0700.
	dir, err := os.MkdirTemp("", "ferry-launch") //nolint:usetesting // t.TempDir() is not enterable by the apps' uids
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := os.RemoveAll(dir); err != nil {
			t.Error(err)
		}
	})
	return dir
}

func stopEngine(t *testing.T, e *launcher.Engine) {
	t.Helper()
	c, err := client.New(client.Config{Endpoint: "unix://" + e.SocketPath})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Shutdown(context.Background()); err != nil {
		t.Errorf("shutdown: %v", err)
	}
	for i := 0; i < 200; i++ {
		if _, err := os.Stat(e.SocketPath); err != nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Errorf("engine pid %d did not stop", e.Health.PID)
}

func TestConcurrentEnsureStartsOneEngine(t *testing.T) {
	opts := launcher.Options{DataDir: shortDataDir(t), HTTPAddress: freeport.Loopback(t), Version: version.String()}
	var wg sync.WaitGroup
	pids := make([]int, 4)
	errs := make([]error, 4)
	for i := range pids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e, err := launcher.Ensure(context.Background(), opts)
			errs[i] = err
			if e != nil {
				pids[i] = e.Health.PID
			}
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Ensure %d: %v", i, err)
		}
	}
	for _, pid := range pids[1:] {
		if pid != pids[0] {
			t.Fatalf("two engines started: pids %v", pids)
		}
	}
	if pids[0] == os.Getpid() {
		t.Fatal("the engine runs in the caller's process, not detached")
	}
	e, err := launcher.Find(context.Background(), opts.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	if e.Health.HTTPAddress != opts.HTTPAddress {
		t.Errorf("engine serves apps on %s, asked for %s", e.Health.HTTPAddress, opts.HTTPAddress)
	}
	stopEngine(t, e)
	if _, err := launcher.Find(context.Background(), opts.DataDir); err == nil {
		t.Error("engine still found after stop")
	}
}

// TestOlderEngineIsUpgradedInPlace finds an engine older than the caller: a
// new one takes over, and the old one exits.
func TestOlderEngineIsUpgradedInPlace(t *testing.T) {
	opts := launcher.Options{DataDir: shortDataDir(t), HTTPAddress: freeport.Loopback(t), Version: version.String()}
	old, err := launcher.Ensure(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	opts.Version = "9.9.9" // the caller is newer; the engine it starts is this test binary
	e, err := launcher.Ensure(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer stopEngine(t, e)
	if e.Replaced == nil || e.Replaced.PID != old.Health.PID || e.Health.PID == old.Health.PID {
		t.Fatalf("Ensure by a newer caller: engine %+v replaced %+v; want a new engine replacing pid %d", e.Health, e.Replaced, old.Health.PID)
	}
	if e.Health.HTTPAddress != opts.HTTPAddress {
		t.Errorf("the new engine serves apps on %s, the old one did on %s", e.Health.HTTPAddress, opts.HTTPAddress)
	}
	// It finishes its requests for handoverGrace (2 s), then stops: 30 s leaves room for a busy machine.
	for i := 0; unix.Kill(old.Health.PID, 0) == nil; i++ {
		if i > 600 {
			t.Fatalf("the old engine, pid %d, still runs 30 s after the handover", old.Health.PID)
		}
		time.Sleep(50 * time.Millisecond)
	}
	opts.Version = e.Health.Version
	again, err := launcher.Upgrade(context.Background(), opts)
	if err != nil || again.Replaced != nil || again.Health.PID != e.Health.PID {
		t.Errorf("upgrading an engine of the caller's version: %+v, %v; want nothing done", again, err)
	}
}

func TestUpgradeWithoutAnEngineSaysHowToStartOne(t *testing.T) {
	dataDir := shortDataDir(t)
	_, err := launcher.Upgrade(context.Background(), launcher.Options{DataDir: dataDir, Version: version.String()})
	if !errors.Is(err, launcher.ErrNotRunning) || !strings.Contains(err.Error(), "ferry serve --data-dir "+dataDir) {
		t.Errorf("Upgrade with no engine: %v", err)
	}
}

func TestEngineThatCannotStartSaysWhy(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = busy.Close() }()
	_, err = launcher.Ensure(context.Background(), launcher.Options{DataDir: shortDataDir(t), HTTPAddress: busy.Addr().String(), Version: version.String()})
	if err == nil || !strings.Contains(err.Error(), "http_address") {
		t.Fatalf("want the engine's own reason (address in use, set http_address), got %v", err)
	}
}
