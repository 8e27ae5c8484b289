package engine_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/client"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/artifacts/s3/s3test"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store/postgres"
	"github.com/ferryhq/terraform-provider-ferry/internal/freeport"
	"github.com/ferryhq/terraform-provider-ferry/internal/pgtest"
)

// Stores named wrongly are refused before anything is served, and the
// messages never repeat a password.
func TestSharedStateRefusesBadAddresses(t *testing.T) {
	const secret = "hunter2-secret"
	for _, tc := range []struct {
		name string
		set  func(*engine.Config)
		want string
	}{
		{"not PostgreSQL", func(c *engine.Config) { c.Store = "mysql://ferry:" + secret + "@db/ferry" }, "give a postgres:// URL"},
		{"bad artifacts URL", func(c *engine.Config) { c.Artifacts = "s3://KEY:" + secret + "@Not_A_Bucket" }, "is not a bucket name"},
		{"shared store without a shared key", func(c *engine.Config) { c.Store = "postgres://ferry:" + secret + "@127.0.0.1:1/ferry" }, "must share its key"},
		{"bad key", func(c *engine.Config) { c.SecretKey = secret }, "FERRY_SECRET_KEY"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := engine.Config{DataDir: shortDataDir(t), HTTPAddress: "127.0.0.1:0", Python: python, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
			tc.set(&cfg)
			e, err := engine.Start(context.Background(), cfg)
			if err == nil {
				_ = e.Shutdown(context.Background())
				t.Fatal("started")
			}
			if !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), secret) {
				t.Fatalf("%v; want %q and no password", err, tc.want)
			}
		})
	}
}

// sharedState starts a PostgreSQL and an S3 server for the test, and returns the option that
// has an engine node use them (a key is the test's to give).
func sharedState(t *testing.T) func(*engine.Config) {
	t.Helper()
	db := pgtest.Start(t)
	db.Exec(t, "postgres", "CREATE DATABASE ferry")
	dsn, err := url.Parse(db.DirectURL())
	if err != nil {
		t.Fatal(err)
	}
	dsn.Path = "/ferry"
	objects := s3test.Start(t)
	bucket := objects.Bucket(t)
	return func(c *engine.Config) { c.Store, c.Artifacts = dsn.String(), objects.URL(bucket, "ferry") }
}

// Two nodes on one PostgreSQL and one S3 store: what one is told, the other
// knows, and the routes a build changes reach the other node's edge with
// nobody asking it to reload.
func TestTwoNodesShareState(t *testing.T) {
	needFlask(t)
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	state := sharedState(t)
	shared := func(c *engine.Config) {
		state(c)
		c.SecretKey = base64.StdEncoding.EncodeToString(key)
	}
	a, addrA := startEngine(t, shared, func(c *engine.Config) { c.NodeID = "node-a" })
	b, addrB := startEngine(t, shared, func(c *engine.Config) { c.NodeID = "node-b" })
	ctx := context.Background()
	if h, err := b.Health(ctx); err != nil {
		t.Fatal(err)
	} else if h.SchemaVersion != postgres.SchemaVersion() {
		t.Errorf("a node on PostgreSQL reports schema %d, want PostgreSQL's %d", h.SchemaVersion, postgres.SchemaVersion())
	}

	p, err := a.CreateProject(ctx, api.ProjectRequest{Name: "hello"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.CreateProject(ctx, api.ProjectRequest{Name: "hello"}); err == nil {
		t.Fatal("the second node created a project of a name the first holds")
	}
	if _, err := a.CreateEnvVar(ctx, p.ID, api.EnvVarRequest{Key: "GREETING", Value: "hi", Targets: []string{"production"}}); err != nil {
		t.Fatal(err)
	}
	// The second node learns of the project by a notification (or its poll): it routes the
	// project's host, which has nothing to serve yet.
	status, body := get(t, addrB, p.ProductionURL)
	for deadline := time.Now().Add(30 * time.Second); strings.Contains(body, "no deployment or domain is named") && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
		status, body = get(t, addrB, p.ProductionURL)
	}
	if status != 404 || !strings.Contains(body, "no ready production deployment") {
		t.Fatalf("the second node before any deployment: %d %q", status, body)
	}

	// Deployed through node a, built by whichever node claims it (its files come from S3).
	d := deploy(t, a, p.ID, writeApp(t, "1"))
	if d.State != api.StateReady {
		t.Fatalf("deployment: %s %s", d.State, d.ErrorMessage)
	}
	seen, err := b.GetDeployment(ctx, d.ID)
	if err != nil || seen.State != api.StateReady {
		t.Fatalf("the deployment through the second node: %+v %v", seen, err)
	}
	// Both edges route the production host to it without a Sync on node b, and both serve it:
	// the node that did not build it fetches the build output from S3 before its first start.
	for _, addr := range []string{addrA, addrB} {
		deadline := time.Now().Add(30 * time.Second)
		status, body := get(t, addr, p.ProductionURL)
		for strings.Contains(body, "no ready production deployment") && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
			status, body = get(t, addr, p.ProductionURL)
		}
		if status != 200 || body != "v1 hi production" {
			t.Fatalf("%s: %d %q, want the app's answer", addr, status, body)
		}
	}
	// Each node lists both, from their heartbeats.
	for name, node := range map[string]*client.Client{"node-a": a, "node-b": b} {
		list, err := node.Nodes(ctx)
		if err != nil || list.Self != name || len(list.Nodes) != 2 || list.Nodes[0].ID != "node-a" || list.Nodes[1].ID != "node-b" ||
			list.Nodes[0].Lost || list.Nodes[1].Lost || list.Nodes[0].HTTPAddress != addrA {
			t.Errorf("the nodes through %s: %+v, %v", name, list, err)
		}
	}
	// Either node shows the build log, whichever built it.
	for name, node := range map[string]*client.Client{"node-a": a, "node-b": b} {
		log, err := node.DeploymentLog(ctx, d.ID)
		if err != nil || !strings.Contains(log, "storing the build output for the other nodes") {
			t.Errorf("the build log through %s: %v %q", name, err, log)
		}
	}
}

// A node on PostgreSQL and S3 is upgraded in place under load: the new engine, started with
// --take-over and nothing else, runs on the old one's store, artifacts, key and settings, no
// request fails, and it builds.
func TestTakeOverOfANodeOnSharedState(t *testing.T) {
	needFlask(t)
	db := pgtest.Start(t)
	db.Exec(t, "postgres", "CREATE DATABASE ferry")
	dsn, err := url.Parse(db.DirectURL())
	if err != nil {
		t.Fatal(err)
	}
	dsn.Path = "/ferry"
	objects := s3test.Start(t)
	keyFile := filepath.Join(t.TempDir(), "cluster.key")
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	if err := os.WriteFile(keyFile, key, 0o600); err != nil {
		t.Fatal(err)
	}
	dataDir, addr, work := shortDataDir(t), freeport.Loopback(t), t.TempDir()
	oldLog, newLog := filepath.Join(work, "old.log"), filepath.Join(work, "new.log")
	old, c := engineProcess(t, dataDir, addr, oldLog, "--store", dsn.String(), "--artifacts", objects.URL(objects.Bucket(t), "ferry"),
		"--key-file", keyFile, "--node-id", "node-a", "--build-lease", "7s")
	ctx := context.Background()
	p, err := c.CreateProject(ctx, api.ProjectRequest{Name: "api"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateEnvVar(ctx, p.ID, api.EnvVarRequest{Key: "GREETING", Value: "sealed under the cluster key", Targets: []string{"production"}}); err != nil {
		t.Fatal(err)
	}
	src := t.TempDir()
	writeFile(t, filepath.Join(src, "app.py"), whoAmIApp)
	d := deploy(t, c, p.ID, src)
	l := startLoad(t, addr, c, "api", map[string]string{d.Hostname: d.ID + " " + p.ID}, 4)
	time.Sleep(time.Second)

	successor, _ := engineProcess(t, dataDir, addr, newLog, "--take-over")
	waitForPID(t, c, successor.Process.Pid, newLog)
	if err := old.Wait(); err != nil {
		t.Errorf("the old engine exited with %v", err)
	}
	time.Sleep(500 * time.Millisecond)
	l.end(t)
	t.Logf("%d requests, %d failed", l.sent.Load(), l.failed.Load())

	nodes, err := c.Nodes(ctx)
	if err != nil || nodes.Self != "node-a" {
		t.Fatalf("the new engine is node %q (%v), want the old one's id node-a", nodes.Self, err)
	}
	if h, err := c.Health(ctx); err != nil || h.SchemaVersion != postgres.SchemaVersion() {
		t.Fatalf("the new engine's store: %+v, %v; want PostgreSQL's schema %d", h, err, postgres.SchemaVersion())
	}
	// The key came along: the sealed value opens, and a new deployment gets it.
	writeFile(t, filepath.Join(src, "app.py"), `import os


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [os.environ["GREETING"].encode()]
`)
	if again := deploy(t, c, p.ID, src); again.State != api.StateReady {
		t.Fatalf("a deployment after the take-over: %+v", again)
	} else if problem := getApp(http.DefaultClient, addr, again.Hostname, "sealed under the cluster key"); problem != "" {
		t.Error(problem)
	}
	if text, _ := os.ReadFile(newLog); strings.Contains(string(text), dsn.String()) {
		t.Error("the new engine logged the store's URL, password and all")
	}
}
