package engine_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/client"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine"
)

func randomKey(t *testing.T) []byte {
	t.Helper()
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	return key
}

// The shared key is rotated while a node serves and deploys: a node given the new key (as a
// file) reads every value, with the same digests; no request fails meanwhile; once the old key
// is retired, a node given it refuses to start and says what to do.
func TestKeyRotationWithoutDowntime(t *testing.T) {
	needFlask(t)
	shared := sharedState(t)
	oldKey := base64.StdEncoding.EncodeToString(randomKey(t))
	newKey := randomKey(t)
	newKeyFile := filepath.Join(t.TempDir(), "new.key")
	if err := os.WriteFile(newKeyFile, newKey, 0o600); err != nil {
		t.Fatal(err)
	}
	onOldKey := func(c *engine.Config) { c.SecretKey = oldKey }
	onNewKey := func(c *engine.Config) { c.KeyFile = newKeyFile }

	a, addrA := startEngine(t, shared, onOldKey, func(c *engine.Config) { c.NodeID = "node-a" })
	ctx := context.Background()
	p, err := a.CreateProject(ctx, api.ProjectRequest{Name: "rotated"})
	if err != nil {
		t.Fatal(err)
	}
	v, err := a.CreateEnvVar(ctx, p.ID, api.EnvVarRequest{Key: "GREETING", Value: "hi", Targets: []string{"production"}})
	if err != nil {
		t.Fatal(err)
	}
	if d := deploy(t, a, p.ID, writeApp(t, "1")); d.State != api.StateReady {
		t.Fatalf("deployment: %s %s", d.State, d.ErrorMessage)
	}
	before, err := a.SecretKeys(ctx)
	if err != nil || len(before.Keys) != 1 || !before.Keys[0].InUse {
		t.Fatalf("keys of a new store: %+v, %v", before, err)
	}
	oldFingerprint := before.Keys[0].Fingerprint

	// Load on node a for the whole rotation: app requests, and reads of decrypted values.
	var load steadyLoad
	load.run(func() error {
		status, body, err := tryGet(addrA, p.ProductionURL)
		if err == nil && (status != 200 || !strings.HasSuffix(body, " hi production")) {
			err = fmt.Errorf("app: %d %q", status, body)
		}
		return err
	})
	load.run(func() error {
		vars, err := a.ListEnvVars(ctx, p.ID, true)
		if err == nil && (len(vars) != 1 || vars[0].Value != "hi") {
			err = fmt.Errorf("env: %+v", vars)
		}
		return err
	})
	// Stopped before the test fails: the engines stop then, and the load would fail.
	defer load.stop()

	added, err := a.AddSecretKey(ctx, base64.StdEncoding.EncodeToString(newKey))
	if err != nil || added.InUse || added.Fingerprint == oldFingerprint {
		t.Fatalf("rotate: %+v, %v", added, err)
	}
	again, err := a.AddSecretKey(ctx, base64.StdEncoding.EncodeToString(newKey))
	if err != nil || again.Fingerprint != added.Fingerprint || !again.CreatedAt.Equal(added.CreatedAt) {
		t.Fatalf("rotating to the same key again: %+v, %v; want the key as first added", again, err)
	}

	// Node b, on the new key only, reads every value with the same digest, and deploys.
	b, addrB := startEngine(t, shared, onNewKey, func(c *engine.Config) { c.NodeID = "node-b" })
	vars, err := b.ListEnvVars(ctx, p.ID, true)
	if err != nil || len(vars) != 1 || vars[0].Value != "hi" || vars[0].ValueDigest != v.ValueDigest {
		t.Fatalf("values through the node on the new key: %+v, %v; want hi with digest %s", vars, err, v.ValueDigest)
	}
	if d := deploy(t, b, p.ID, writeApp(t, "2")); d.State != api.StateReady {
		t.Fatalf("deployment through the node on the new key: %s %s", d.State, d.ErrorMessage)
	}
	for _, addr := range []string{addrA, addrB} {
		waitForBody(t, addr, p.ProductionURL, "v2 hi production")
	}

	// The old key is retired through the node on the new one; the node on it refuses.
	if err := a.RetireSecretKey(ctx, oldFingerprint); !client.IsConflict(err) || !strings.Contains(err.Error(), "this engine runs on") {
		t.Fatalf("retiring the key of the engine asked: %v, want a conflict saying so", err)
	}
	if err := b.RetireSecretKey(ctx, "0123456789abcdef0123"); !client.IsNotFound(err) {
		t.Fatalf("retiring an unknown key: %v, want not found", err)
	}
	if err := b.RetireSecretKey(ctx, oldFingerprint); err != nil {
		t.Fatal(err)
	}
	after, err := b.SecretKeys(ctx)
	if err != nil || len(after.Keys) != 1 || after.Keys[0].Fingerprint != added.Fingerprint || !after.Keys[0].InUse {
		t.Fatalf("keys after retiring the old one: %+v, %v", after, err)
	}
	// Node a, still running on what it unwrapped at start, serves on.
	time.Sleep(200 * time.Millisecond)
	load.stop()
	if load.failed.Load() != 0 || load.served.Load() == 0 {
		t.Fatalf("during the rotation: %d answers right, %d wrong (last: %v)", load.served.Load(), load.failed.Load(), load.lastFailure.Load())
	}
	t.Logf("during the rotation: %d answers right, none wrong", load.served.Load())

	// A node given the retired key, or a key of no one, refuses to start and says what to do.
	for name, option := range map[string]func(*engine.Config){
		"retired key": onOldKey,
		"wrong key":   func(c *engine.Config) { c.SecretKey = base64.StdEncoding.EncodeToString(randomKey(t)) },
	} {
		cfg := engine.Config{DataDir: shortDataDir(t), HTTPAddress: "127.0.0.1:0", Python: python, NodeID: "node-c"}
		shared(&cfg)
		option(&cfg)
		e, err := engine.Start(ctx, cfg)
		if err == nil {
			_ = e.Shutdown(ctx)
			t.Fatalf("a node with the %s started", name)
		}
		if msg := err.Error(); !strings.Contains(msg, "is not one of the keys the store's data key is wrapped under") || !strings.Contains(msg, added.Fingerprint) ||
			!strings.Contains(msg, "ferry key rotate") || strings.Contains(msg, oldKey) {
			t.Errorf("a node with the %s: %v; want the store's fingerprints and what to do, and no key", name, err)
		}
	}
}

// steadyLoad runs requests in a loop, each in a goroutine of its own, until stopped, and
// counts the right and wrong answers.
type steadyLoad struct {
	served, failed atomic.Int64
	lastFailure    atomic.Value
	done           chan struct{}
	wg             sync.WaitGroup
	stopOnce       sync.Once
}

func (l *steadyLoad) run(request func() error) {
	if l.done == nil {
		l.done = make(chan struct{})
	}
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		for {
			select {
			case <-l.done:
				return
			default:
			}
			if err := request(); err != nil {
				l.failed.Add(1)
				l.lastFailure.Store(err.Error())
			} else {
				l.served.Add(1)
			}
		}
	}()
}

// stop ends the load and waits for its requests; it may be called again.
func (l *steadyLoad) stop() {
	l.stopOnce.Do(func() { close(l.done) })
	l.wg.Wait()
}

// tryGet is get for goroutines other than the test's: it returns the error.
func tryGet(httpAddress, rawURL string) (int, string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return 0, "", err
	}
	req, _ := http.NewRequest("GET", "http://"+httpAddress+u.RequestURI(), nil)
	req.Host = u.Host
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}

// waitForBody waits until addr answers rawURL with want.
func waitForBody(t *testing.T, addr, rawURL, want string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	status, body := get(t, addr, rawURL)
	for body != want && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		status, body = get(t, addr, rawURL)
	}
	if status != 200 || body != want {
		t.Fatalf("%s %s: %d %q, want %q", addr, rawURL, status, body, want)
	}
}
