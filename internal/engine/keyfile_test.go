package engine_test

import (
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/client"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine"
	"github.com/ferryhq/terraform-provider-ferry/internal/freeport"
)

// dataDirWithSecret returns a stopped engine's data dir whose store holds
// one env var, and a free address to serve apps on.
func dataDirWithSecret(t *testing.T) (dataDir, httpAddress string) {
	t.Helper()
	dataDir = shortDataDir(t)
	httpAddress = freeport.Loopback(t)
	c, stop := runEngine(t, dataDir, httpAddress)
	ctx := context.Background()
	p, err := c.CreateProject(ctx, api.ProjectRequest{Name: "keyed"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateEnvVar(ctx, p.ID, api.EnvVarRequest{Key: "API_KEY", Value: "s3cret", Targets: []string{"production"}}); err != nil {
		t.Fatal(err)
	}
	stop()
	return dataDir, httpAddress
}

// runOnce starts an engine on dataDir and stops it once it is healthy,
// returning its error, or the error that kept it from starting.
func runOnce(dataDir, httpAddress string) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- engine.Run(ctx, engine.Config{DataDir: dataDir, HTTPAddress: httpAddress, Python: python,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	}()
	c, err := client.New(client.Config{Endpoint: "unix://" + filepath.Join(dataDir, api.SocketName), RetryMax: 1})
	if err != nil {
		return err
	}
	for {
		select {
		case err := <-done:
			return err
		case <-time.After(20 * time.Millisecond):
		}
		if _, err := c.Health(ctx); err == nil {
			cancel()
			return <-done
		}
	}
}

func TestMissingKeyWithSealedValuesRefusesToStart(t *testing.T) {
	dataDir, addr := dataDirWithSecret(t)
	keyPath := filepath.Join(dataDir, engine.KeyName)
	if err := os.Remove(keyPath); err != nil {
		t.Fatal(err)
	}
	err := runOnce(dataDir, addr)
	if err == nil || !strings.Contains(err.Error(), keyPath+" is missing") || !strings.Contains(err.Error(), "Restore") {
		t.Fatalf("start without the key: %v; want an error naming %s and saying what to do", err, keyPath)
	}
	if _, err := os.Stat(keyPath); !os.IsNotExist(err) {
		t.Error("the engine made a new key next to values sealed with the old one")
	}
}

func TestWrongKeyRefusesToStart(t *testing.T) {
	dataDir, addr := dataDirWithSecret(t)
	keyPath := filepath.Join(dataDir, engine.KeyName)
	original, err := os.ReadFile(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	other := make([]byte, len(original))
	rand.Read(other)
	if err := os.WriteFile(keyPath, other, 0o600); err != nil {
		t.Fatal(err)
	}
	err = runOnce(dataDir, addr)
	if err == nil || !strings.Contains(err.Error(), keyPath+" does not match") {
		t.Fatalf("start with another key: %v; want an error naming %s", err, keyPath)
	}
	if got, _ := os.ReadFile(keyPath); string(got) != string(other) {
		t.Error("the engine replaced the key file")
	}

	// The right key put back: the engine starts and the value reads back.
	if err := os.WriteFile(keyPath, original, 0o600); err != nil {
		t.Fatal(err)
	}
	c, stop := runEngine(t, dataDir, addr)
	defer stop()
	vars, err := c.ListEnvVars(context.Background(), "keyed", true)
	if err != nil || len(vars) != 1 || vars[0].Value != "s3cret" {
		t.Fatalf("after restoring the key: %+v, %v", vars, err)
	}
}

func TestMissingKeyWithNothingSealedIsCreated(t *testing.T) {
	dataDir := shortDataDir(t)
	if err := runOnce(dataDir, "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dataDir, engine.KeyName)); err != nil {
		t.Fatal(err)
	}
	if err := runOnce(dataDir, "127.0.0.1:0"); err != nil {
		t.Fatalf("a data dir with nothing sealed: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dataDir, engine.KeyName)); err != nil {
		t.Errorf("no key created: %v", err)
	}
}
