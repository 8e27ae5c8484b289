package examples_test

import (
	"context"
	"crypto/rand"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/client"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/artifacts/s3/s3test"
	"github.com/ferryhq/terraform-provider-ferry/internal/pgtest"
)

// clusterToken is the API token every node of the test's cluster shares.
const clusterToken = "cluster-test-token-0123456789abcdef"

// clusterHost is the production host of examples/cluster's app.
const clusterHost = "cluster-app.localhost"

// TestCluster runs examples/cluster: three `ferry serve` nodes on one PostgreSQL and one S3 server
// (versitygw), HAProxy in front of them with its haproxy.cfg, and the example applied through
// the load balancer by the Terraform CLI. Every node serves the app; a node killed with SIGKILL
// under load costs only the requests it was answering, and the build it had claimed completes
// on another node; a rollback through ferry_alias reaches every node; the killed node restarts
// and serves again.
func TestCluster(t *testing.T) {
	requireTerraform(t, 5)
	bin := ferryBinary(t)
	haproxy, err := exec.LookPath("haproxy")
	if err != nil {
		t.Skip("no haproxy: make deps installs it")
	}

	db := pgtest.Start(t)
	db.Exec(t, "postgres", "CREATE DATABASE ferry")
	dsn, err := url.Parse(db.DirectURL())
	if err != nil {
		t.Fatal(err)
	}
	dsn.Path = "/ferry"
	objects := s3test.Start(t)
	shared := newDataDir(t)
	t.Cleanup(func() { _ = os.RemoveAll(shared) })
	keyFile, tokenFile := filepath.Join(shared, "ferry.key"), filepath.Join(shared, "token")
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	if err := os.WriteFile(keyFile, key, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tokenFile, []byte(clusterToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	lbHTTP, lbAPI := "127.0.0.1:"+freePort(t), "127.0.0.1:"+freePort(t)
	_, lbHTTPPort, _ := net.SplitHostPort(lbHTTP)
	settings := []string{"--public-http-port", lbHTTPPort,
		"--store", dsn.String(), "--artifacts", objects.URL(objects.Bucket(t), "cluster"), "--key-file", keyFile,
		"--token-file", tokenFile, "--https-address", "off", "--python", testPython,
	}
	nodes := map[string]*clusterNode{}
	for _, name := range []string{"node-a", "node-b", "node-c"} {
		nodes[name] = &clusterNode{name: name, bin: bin, settings: settings, dir: newDataDir(t), httpPort: freePort(t), apiPort: freePort(t)}
		t.Cleanup(nodes[name].stop(t))
	}
	// The first node migrates the database; the others start together.
	nodes["node-a"].start(t)
	nodes["node-b"].start(t)
	nodes["node-c"].start(t)
	for _, n := range nodes {
		n.waitHealthy(t)
	}
	startHAProxy(t, haproxy, nodes, lbHTTP, lbAPI)

	root := workCopy(t, "examples/cluster")
	dir := filepath.Join(root, "examples/cluster")
	env := []string{"FERRY_ENDPOINT=http://" + lbAPI, "FERRY_TOKEN=" + clusterToken}
	terraform(t, dir, env, "init", "-input=false")
	terraform(t, dir, env, "apply", "-auto-approve", "-input=false")
	first := output(t, dir, env, "deployment_id")
	if url := output(t, dir, env, "production_url"); url != "http://"+clusterHost+":"+lbHTTPPort {
		t.Errorf("production_url %s, want the load balancer's port", url)
	}

	// Every node serves the app, through the load balancer and on its own.
	seen := map[string]int{}
	for range 30 {
		body, node := clusterGet(t, lbHTTP)
		if body != "release 1\n" {
			t.Fatalf("through the load balancer: %q from %s", body, node)
		}
		seen[node]++
	}
	if len(seen) != 3 {
		t.Fatalf("the load balancer reached %v, want all three nodes", seen)
	}

	// Release 2 builds slowly; the node that claims its build is killed with SIGKILL while a load
	// runs through the load balancer.
	if err := os.WriteFile(filepath.Join(dir, "slow_build_override.tf"), []byte(`resource "ferry_project" "app" {
  build_command = "sleep 4"
}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	editFile(t, filepath.Join(dir, "app", "app.py"), `RELEASE = "1"`, `RELEASE = "2"`)
	load := startLoad(lbHTTP, 4)
	applied := make(chan error, 1)
	var applyOut string
	go func() {
		var err error
		applyOut, err = terraformErr(dir, env, "apply", "-auto-approve", "-input=false")
		applied <- err
	}()
	builder := waitForBuilder(t, dsn.String(), applied, &applyOut)
	time.Sleep(time.Second) // the load runs on all three nodes before one dies
	killed := nodes[builder]
	killed.kill(t)
	t.Logf("killed %s, which was building release 2", builder)
	time.Sleep(3 * time.Second) // the load goes on without it
	ok, failed := load.stop()
	t.Logf("load through the load balancer while %s was killed: %d requests served, %d failed", builder, ok, failed)
	if ok == 0 || failed > 4 {
		t.Errorf("%d requests failed (4 were in flight at most), %d served", failed, ok)
	}
	// Its build's lease lapses and another node builds release 2.
	select {
	case err := <-applied:
		if err != nil {
			t.Fatalf("the apply of release 2: %v\n%s", err, applyOut)
		}
	case <-time.After(5 * time.Minute):
		t.Fatal("the apply of release 2 did not end")
	}
	second := output(t, dir, env, "deployment_id")
	lb, err := client.New(client.Config{Endpoint: "http://" + lbAPI, Token: clusterToken})
	if err != nil {
		t.Fatal(err)
	}
	// The build took over a minute (the killed node's lease): its heartbeats are long overdue.
	if list, err := lb.Nodes(context.Background()); err != nil || len(list.Nodes) != 3 || !lost(list.Nodes, builder) {
		t.Errorf("the nodes after %s was killed: %+v, %v; want it listed as lost", builder, list, err)
	}
	for range 10 {
		if body, node := clusterGet(t, lbHTTP); body != "release 2\n" || node == builder {
			t.Fatalf("after release 2: %q from %s", body, node)
		}
	}

	// Rollback through ferry_alias: every live node serves release 1 at once.
	terraform(t, dir, env, "apply", "-auto-approve", "-input=false", "-var", "production_deployment_id="+first)
	returned := time.Now()
	for name, n := range nodes {
		if n == killed {
			continue
		}
		for body := nodeGet(t, n); body != "release 1\n"; body = nodeGet(t, n) {
			if time.Since(returned) > 5*time.Second {
				t.Fatalf("%s still serves %q after the rollback", name, body)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	measureRollback(t, nodes, killed, first, second)

	// The killed node starts again and serves what production is now.
	killed.start(t)
	killed.waitHealthy(t)
	if body := nodeGet(t, killed); body != "release 1\n" {
		t.Fatalf("%s after its restart: %q", builder, body)
	}
	if list, err := lb.Nodes(context.Background()); err != nil || len(list.Nodes) != 3 || lost(list.Nodes, builder) {
		t.Errorf("the nodes after %s restarted: %+v, %v", builder, list, err)
	}
}

// lost says whether the node named id is listed as lost.
func lost(nodes []api.Node, id string) bool {
	for _, n := range nodes {
		if n.ID == id {
			return n.Lost
		}
	}
	return false
}

// measureRollback moves production back and forth through one node's API and reports how long
// the other live nodes take to serve the move: what a rollback costs on a cluster.
func measureRollback(t *testing.T, nodes map[string]*clusterNode, killed *clusterNode, first, second string) {
	t.Helper()
	var via *clusterNode
	var others []*clusterNode
	for _, n := range nodes {
		switch {
		case n == killed:
		case via == nil:
			via = n
		default:
			others = append(others, n)
		}
	}
	c, err := client.New(client.Config{Endpoint: "http://127.0.0.1:" + via.apiPort, Token: clusterToken, RetryMax: 1})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var took, after []time.Duration
	for i := range 10 {
		target, want := second, "release 2\n"
		if i%2 == 1 {
			target, want = first, "release 1\n"
		}
		began := time.Now()
		if _, err := c.PinAlias(ctx, "cluster-app", "", target); err != nil {
			t.Fatal(err)
		}
		answered := time.Now()
		for _, n := range others {
			for nodeGet(t, n) != want {
				if time.Since(began) > 5*time.Second {
					t.Fatalf("%s did not serve the move within 5 s", n.name)
				}
			}
		}
		took, after = append(took, time.Since(began)), append(after, time.Since(answered))
	}
	slices.Sort(took)
	slices.Sort(after)
	t.Logf("a production move through %s's API, until every other live node serves it: p50 %s, max %s from the request; "+
		"p50 %s, max %s from its answer (10 moves)", via.name, took[len(took)/2].Round(time.Millisecond), took[len(took)-1].Round(time.Millisecond),
		after[len(after)/2].Round(time.Millisecond), after[len(after)-1].Round(time.Millisecond))
}

// clusterNode is one `ferry serve` process of the cluster.
type clusterNode struct {
	name, bin, dir    string
	settings          []string
	httpPort, apiPort string
	cmd               *exec.Cmd
	exited            chan error
	logFile           *os.File
}

func (n *clusterNode) start(t *testing.T) {
	t.Helper()
	logFile, err := os.OpenFile(filepath.Join(n.dir, "serve.log"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	n.logFile = logFile
	n.cmd = exec.Command(n.bin, append([]string{"serve", "--node-id", n.name, "--data-dir", filepath.Join(n.dir, "data"),
		"--http-address", "127.0.0.1:" + n.httpPort, "--api-address", "127.0.0.1:" + n.apiPort}, n.settings...)...)
	n.cmd.Stdout, n.cmd.Stderr = logFile, logFile
	if err := n.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	n.exited = make(chan error, 1)
	go func(cmd *exec.Cmd, exited chan<- error) { exited <- cmd.Wait() }(n.cmd, n.exited)
}

func (n *clusterNode) waitHealthy(t *testing.T) {
	t.Helper()
	c, err := client.New(client.Config{Endpoint: "http://127.0.0.1:" + n.apiPort, Token: clusterToken, RetryMax: 1})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if _, err := c.Health(context.Background()); err == nil {
			return
		}
		select {
		case err := <-n.exited:
			log, _ := os.ReadFile(n.logFile.Name())
			t.Fatalf("%s exited: %v\n%s", n.name, err, log)
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not become healthy", n.name)
		}
	}
}

// kill ends the node with SIGKILL: no handover, no release of its build's lease.
func (n *clusterNode) kill(t *testing.T) {
	t.Helper()
	if err := n.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: %v", n.name, <-n.exited)
	n.cmd = nil
	_ = n.logFile.Close()
}

// stop returns the cleanup of a node: SIGTERM, then its data dir is removed unless the test failed.
func (n *clusterNode) stop(t *testing.T) func() {
	return func() {
		if n.cmd != nil {
			_ = n.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case err := <-n.exited:
				t.Logf("%s stopped: %v", n.name, err)
			case <-time.After(30 * time.Second):
				_ = n.cmd.Process.Kill()
				t.Logf("%s did not stop within 30 s and was killed: %v", n.name, <-n.exited)
			}
			_ = n.logFile.Close()
		}
		if t.Failed() {
			t.Logf("%s's data dir kept: %s (serve.log)", n.name, n.dir)
			return
		}
		_ = os.RemoveAll(n.dir)
	}
}

// startHAProxy runs HAProxy with examples/cluster/haproxy.cfg in front of the nodes, and waits
// until it finds all three healthy.
func startHAProxy(t *testing.T, haproxy string, nodes map[string]*clusterNode, lbHTTP, lbAPI string) {
	t.Helper()
	cmd := exec.Command(haproxy, "-db", "-f", filepath.Join(repoRoot, "examples/cluster/haproxy.cfg"))
	cmd.Env = append(os.Environ(), "FERRY_LB_HTTP="+lbHTTP, "FERRY_LB_API="+lbAPI, "FERRY_TOKEN="+clusterToken)
	for name, n := range nodes {
		prefix := "FERRY_NODE_" + strings.ToUpper(strings.TrimPrefix(name, "node-"))
		cmd.Env = append(cmd.Env, prefix+"_HTTP=127.0.0.1:"+n.httpPort, prefix+"_API_HOST=127.0.0.1", prefix+"_API_PORT="+n.apiPort)
	}
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("haproxy:\n%s", out.String())
		}
	})
	// Round robin over healthy nodes: all three answer once they are all up.
	deadline := time.Now().Add(time.Minute)
	for {
		seen := map[string]bool{}
		for range 6 {
			if node, err := lbNode(lbHTTP); err == nil {
				seen[node] = true
			}
		}
		if len(seen) == 3 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("haproxy did not reach the three nodes (%v):\n%s", seen, out.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// lbNode asks the load balancer for the app's host and returns which node answered.
func lbNode(lbHTTP string) (string, error) {
	resp, err := hostGet(lbHTTP)
	if err != nil {
		return "", err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.Header.Get("X-Ferry-Node"), nil
}

var clusterClient = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}

// hostGet asks addr for the app's production host.
func hostGet(addr string) (*http.Response, error) {
	req, err := http.NewRequest(http.MethodGet, "http://"+addr+"/", nil)
	if err != nil {
		return nil, err
	}
	req.Host = clusterHost
	return clusterClient.Do(req)
}

// clusterGet returns the app's answer through the load balancer and the node that gave it.
func clusterGet(t *testing.T, lbHTTP string) (body, node string) {
	t.Helper()
	resp, err := hostGet(lbHTTP)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("through the load balancer: %d %q", resp.StatusCode, b)
	}
	return string(b), resp.Header.Get("X-Ferry-Node")
}

// nodeGet returns what one node's own edge answers for the app's host.
func nodeGet(t *testing.T, n *clusterNode) string {
	t.Helper()
	resp, err := hostGet(net.JoinHostPort("127.0.0.1", n.httpPort))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// load sends requests without pause from a few goroutines and counts the answers.
type load struct {
	ok, failed atomic.Int64
	stopped    atomic.Bool
	wg         sync.WaitGroup
}

func startLoad(addr string, workers int) *load {
	l := &load{}
	for range workers {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for !l.stopped.Load() {
				resp, err := hostGet(addr)
				if err != nil {
					l.failed.Add(1)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					l.ok.Add(1)
				} else {
					l.failed.Add(1)
				}
			}
		}()
	}
	return l
}

func (l *load) stop() (ok, failed int64) {
	l.stopped.Store(true)
	l.wg.Wait()
	return l.ok.Load(), l.failed.Load()
}

// waitForBuilder returns the node that claimed the build in progress, from the store.
func waitForBuilder(t *testing.T, dsn string, applied <-chan error, applyOut *string) string {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		select {
		case err := <-applied:
			t.Fatalf("the apply ended before any node claimed the build: %v\n%s", err, *applyOut)
		default:
		}
		out, err := exec.Command("psql", "-XAtq", dsn,
			"-c", "SELECT claimed_by FROM deployments WHERE state = 'BUILDING' AND claimed_by <> ''").CombinedOutput()
		if err != nil {
			t.Fatalf("psql: %v\n%s", err, out)
		}
		if builders := strings.Fields(string(out)); len(builders) > 0 {
			sort.Strings(builders)
			return builders[0]
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("no node claimed the build of release 2")
	return ""
}

// ferryBinary is the `ferry` this tree builds (make install builds it).
func ferryBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(repoRoot, "bin", "ferry")
	if _, err := os.Stat(bin); err != nil {
		t.Skipf("no %s: run make build first", bin)
	}
	return bin
}

// editFile replaces from by to in the file at path.
func editFile(t *testing.T, path, from, to string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), from) {
		t.Fatalf("%s does not contain %q", path, from)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(b), from, to, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}
