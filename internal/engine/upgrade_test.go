package engine_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/client"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store/sqlite"
	"github.com/ferryhq/terraform-provider-ferry/internal/freeport"
)

// The store fixtures: a store of every schema version as an engine of that
// schema left it, with data, and the key its values are sealed with.
const fixtureDir = "store/sqlite/testdata"

// fixtureApp is the app of every ready deployment of the fixtures.
const fixtureApp = `import os


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [(os.environ["FERRY_DEPLOYMENT_ID"] + " " + os.environ["GREETING"]).encode()]
`

// fixtureReady are the ready deployments of the fixtures, by their hosts.
var fixtureReady = map[string]string{
	"hello.localhost":           "dpl_hproductionaaaaaaaaa", // the production alias
	"hello-hproducti.localhost": "dpl_hproductionaaaaaaaaa",
	"hello-holdproda.localhost": "dpl_holdprodaaaaaaaaaaaa",
	"hello-hpreviewa.localhost": "dpl_hpreviewaaaaaaaaaaaa",
}

// fixtureDataDir makes a data dir whose store is the fixture of schema k, with
// the files of its ready deployments.
func fixtureDataDir(t *testing.T, k int) string {
	t.Helper()
	dataDir := shortDataDir(t)
	dump, err := os.ReadFile(filepath.Join(fixtureDir, fmt.Sprintf("schema-%d.sql", k)))
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dataDir, engine.DBName))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(context.Background(), string(dump)); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	key, err := os.ReadFile(filepath.Join(fixtureDir, "secret.key"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dataDir, engine.KeyName), string(key))
	for _, id := range fixtureReady {
		root := filepath.Join(dataDir, "deployments", id)
		writeFile(t, filepath.Join(root, "src", "app.py"), fixtureApp)
		if err := os.MkdirAll(filepath.Join(root, "venv", "bin"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(python, filepath.Join(root, "venv", "bin", "python")); err != nil && !os.IsExist(err) {
			t.Fatal(err)
		}
	}
	return dataDir
}

// load sends requests to an engine's apps and API from several clients until
// stopped, and counts those that fail.
type load struct {
	addr   string
	client *client.Client
	stop   chan struct{}
	wg     sync.WaitGroup

	sent, failed atomic.Int64
	mu           sync.Mutex
	failures     []string
	created      []string // env var keys the API accepted
}

// startLoad sends GETs to every host of want (host -> a part of the body) on
// keep-alive connections, from appClients at once, and creates env vars on
// project through the API.
func startLoad(t *testing.T, addr string, c *client.Client, project string, want map[string]string, appClients int) *load {
	t.Helper()
	l := &load{addr: addr, client: c, stop: make(chan struct{})}
	var hosts []string
	for host := range want {
		hosts = append(hosts, host)
	}
	slices.Sort(hosts)
	transport := &http.Transport{MaxIdleConnsPerHost: appClients}
	t.Cleanup(transport.CloseIdleConnections)
	httpClient := &http.Client{Transport: transport, Timeout: 30 * time.Second}
	for i := range appClients {
		l.wg.Go(func() {
			for n := i; !l.stopped(); n++ {
				host := hosts[n%len(hosts)]
				l.sent.Add(1)
				if problem := getApp(httpClient, addr, host, want[host]); problem != "" {
					l.fail(problem)
				}
			}
		})
	}
	l.wg.Go(func() {
		for n := 0; !l.stopped(); n++ {
			key := fmt.Sprintf("LOAD_%d", n)
			l.sent.Add(1)
			_, err := c.CreateEnvVar(context.Background(), project, api.EnvVarRequest{Key: key, Value: "v", Targets: []string{"preview"}})
			if err != nil {
				l.fail("create env var " + key + ": " + err.Error())
				continue
			}
			l.mu.Lock()
			l.created = append(l.created, key)
			l.mu.Unlock()
			l.sent.Add(1)
			if _, err := c.ListProjects(context.Background()); err != nil {
				l.fail("list projects: " + err.Error())
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
	return l
}

func (l *load) stopped() bool {
	select {
	case <-l.stop:
		return true
	default:
		return false
	}
}

func (l *load) fail(problem string) {
	l.failed.Add(1)
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.failures) < 10 {
		l.failures = append(l.failures, time.Now().Format("15:04:05.000")+" "+problem)
	}
}

// end stops the load and fails the test if any request failed.
func (l *load) end(t *testing.T) {
	t.Helper()
	if problem := l.finish(); problem != "" {
		t.Error(problem)
	}
}

// finish stops the load and says how many requests failed, if any did.
func (l *load) finish() string {
	close(l.stop)
	l.wg.Wait()
	if l.failed.Load() == 0 {
		return ""
	}
	return fmt.Sprintf("%d of %d requests failed; the first:\n%s", l.failed.Load(), l.sent.Load(), strings.Join(l.failures, "\n"))
}

func getApp(c *http.Client, addr, host, want string) string {
	req, err := http.NewRequest("GET", "http://"+addr+"/", nil)
	if err != nil {
		return err.Error()
	}
	req.Host = host
	resp, err := c.Do(req)
	if err != nil {
		return host + ": " + err.Error()
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 || !strings.Contains(string(body), want) {
		return fmt.Sprintf("%s: %d %q %v", host, resp.StatusCode, body, err)
	}
	return ""
}

// waitForPID waits until the engine answering c is the process pid.
func waitForPID(t *testing.T, c *client.Client, pid int, logPath string) {
	t.Helper()
	for i := 0; ; i++ {
		if h, err := c.Health(context.Background()); err == nil && h.PID == pid {
			return
		}
		if i > 600 {
			log, _ := os.ReadFile(logPath)
			t.Fatalf("engine pid %d never answered; its log:\n%s", pid, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestUpgradeInPlaceUnderLoad runs an engine on the oldest store fixture,
// which it migrates forward, then has a new engine take over while clients
// keep using its apps and its API: no request fails, the old engine exits, and
// every project, env var, deployment and alias is there afterwards. The
// handover does not depend on the schema the store started at: that every
// fixture migrates is TestEveryStoreSchemaMigrates's.
func TestUpgradeInPlaceUnderLoad(t *testing.T) {
	const schema = 1
	dataDir := fixtureDataDir(t, schema)
	addr := freeport.Loopback(t)
	work := t.TempDir()
	oldLog, newLog := filepath.Join(work, "old.log"), filepath.Join(work, "new.log")
	old, c := engineProcess(t, dataDir, addr, oldLog)

	var problems []string
	if problem := migrationBackupProblem(dataDir, schema); problem != "" {
		problems = append(problems, problem)
	}
	want := map[string]string{}
	for host, id := range fixtureReady {
		want[host] = id + " hello from the fixture"
	}
	l := startLoad(t, addr, c, "api", want, 8)
	time.Sleep(time.Second)

	began := time.Now()
	successor, _ := engineProcess(t, dataDir, addr, newLog, "--take-over")
	waitForPID(t, c, successor.Process.Pid, newLog)
	tookOver := time.Since(began)
	exited := make(chan error, 1)
	go func() { exited <- old.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			problems = append(problems, fmt.Sprintf("the old engine exited with %v", err))
		}
	case <-time.After(30 * time.Second):
		problems = append(problems, "the old engine is still running 30s after the handover")
	}
	time.Sleep(500 * time.Millisecond)
	if problem := l.finish(); problem != "" {
		problems = append(problems, problem)
	}
	t.Logf("the new engine served %s after it started; %d requests, %d failed", tookOver.Round(time.Millisecond), l.sent.Load(), l.failed.Load())
	if len(problems) > 0 {
		// The logs first: a test's output is often read from its end.
		logFailedHandover(t, oldLog, newLog, filepath.Join(dataDir, "logs"))
		t.Error(strings.Join(problems, "\n"))
	}

	l.mu.Lock()
	created := slices.Clone(l.created)
	l.mu.Unlock()
	checkFixtureServed(t, c, addr, append(created, "API_TOKEN"))
	if err := c.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := successor.Wait(); err != nil {
		t.Errorf("the new engine after shutdown: %v", err)
	}
}

// TestEveryStoreSchemaMigrates starts an engine on the store fixture of every
// schema version: it copies the store before migrating it, then serves every
// project, env var, deployment and alias the fixture holds.
func TestEveryStoreSchemaMigrates(t *testing.T) {
	for k := 1; k <= sqlite.SchemaVersion(); k++ {
		t.Run(fmt.Sprintf("schema-%d", k), func(t *testing.T) {
			dataDir := fixtureDataDir(t, k)
			addr := freeport.Loopback(t)
			logPath := filepath.Join(t.TempDir(), "engine.log")
			cmd, c := engineProcess(t, dataDir, addr, logPath)
			if problem := migrationBackupProblem(dataDir, k); problem != "" {
				t.Error(problem)
			}
			checkFixtureServed(t, c, addr, []string{"API_TOKEN"})
			if t.Failed() {
				text, _ := os.ReadFile(logPath)
				t.Logf("the engine's log:\n%s", text)
			}
			if err := c.Shutdown(context.Background()); err != nil {
				t.Fatal(err)
			}
			if err := cmd.Wait(); err != nil {
				t.Errorf("the engine after shutdown: %v", err)
			}
		})
	}
}

// migrationBackupProblem says what is wrong with the copy an engine makes of
// a store of an older schema before migrating it ("" if nothing).
func migrationBackupProblem(dataDir string, schema int) string {
	if schema == sqlite.SchemaVersion() {
		return ""
	}
	copies, _ := filepath.Glob(filepath.Join(dataDir, engine.BackupsDir, fmt.Sprintf("schema-%d-*", schema), engine.DBName))
	if len(copies) != 1 {
		return fmt.Sprintf("no copy of the store of schema %d before its migration: %v", schema, copies)
	}
	return ""
}

// checkFixtureServed checks that the engine at c and addr has every project,
// env var and deployment of the store fixtures, serves each ready deployment
// at its hosts, and has the api project's env vars named apiKeys.
func checkFixtureServed(t *testing.T, c *client.Client, addr string, apiKeys []string) {
	t.Helper()
	ctx := context.Background()
	projects, err := c.ListProjects(ctx)
	if err != nil || len(projects) != 2 {
		t.Fatalf("projects: %+v, %v", projects, err)
	}
	vars, err := c.ListEnvVars(ctx, "hello", true)
	if err != nil || len(vars) != 2 {
		t.Errorf("hello's env vars: %+v, %v", vars, err)
	}
	for _, v := range vars {
		if (v.Key == "GREETING" && v.Value != "hello from the fixture") || (v.Key == "FEATURE" && (v.Value != "on" || v.GitBranch != "feature-x")) {
			t.Errorf("env var: %+v", v)
		}
	}
	apiVars, err := c.ListEnvVars(ctx, "api", false)
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	for _, v := range apiVars {
		keys[v.Key] = true
	}
	for _, key := range apiKeys {
		if !keys[key] {
			t.Errorf("env var %s of the api project, accepted before or during the upgrade, is gone", key)
		}
	}
	states := map[string]string{}
	for _, p := range projects {
		list, err := c.ListDeployments(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range list {
			states[d.ID] = d.State
		}
	}
	wantStates := map[string]string{
		"dpl_holdprodaaaaaaaaaaaa": api.StateReady, "dpl_hproductionaaaaaaaaa": api.StateReady, "dpl_hpreviewaaaaaaaaaaaa": api.StateReady,
		"dpl_aerroraaaaaaaaaaaaaa": api.StateError, "dpl_acanceledaaaaaaaaaaa": api.StateCanceled,
	}
	if fmt.Sprint(states) != fmt.Sprint(wantStates) {
		t.Errorf("deployments: %v, want %v", states, wantStates)
	}
	for host, id := range fixtureReady {
		if problem := getApp(http.DefaultClient, addr, host, id+" hello from the fixture"); problem != "" {
			t.Error(problem)
		}
	}
}

// logFailedHandover logs both engines' logs and the end of each app's.
func logFailedHandover(t *testing.T, oldLog, newLog, appLogDir string) {
	t.Helper()
	oldText, _ := os.ReadFile(oldLog)
	newText, _ := os.ReadFile(newLog)
	t.Logf("old engine's log:\n%s\nnew engine's log:\n%s", oldText, newText)
	appLogs, _ := filepath.Glob(filepath.Join(appLogDir, "*.log"))
	for _, path := range appLogs {
		text, _ := os.ReadFile(path)
		lines := strings.Split(strings.TrimSpace(string(text)), "\n")
		t.Logf("%s, its last %d lines:\n%s", filepath.Base(path), min(len(lines), 10), strings.Join(lines[max(0, len(lines)-10):], "\n"))
	}
}

// TestFailedTakeOverLeavesTheOldEngineInCharge has a new engine fail after
// the old one gave up the store (its key is missing): the old engine
// resumes, and neither its apps nor its API fail a request meanwhile.
func TestFailedTakeOverLeavesTheOldEngineInCharge(t *testing.T) {
	dataDir := fixtureDataDir(t, sqlite.SchemaVersion())
	addr := freeport.Loopback(t)
	work := t.TempDir()
	old, c := engineProcess(t, dataDir, addr, filepath.Join(work, "old.log"))
	want := map[string]string{"hello.localhost": "dpl_hproductionaaaaaaaaa hello from the fixture"}
	l := startLoad(t, addr, c, "api", want, 4)
	time.Sleep(500 * time.Millisecond)

	keyPath := filepath.Join(dataDir, engine.KeyName)
	if err := os.Rename(keyPath, keyPath+".away"); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "serve", "--data-dir", dataDir, "--take-over")
	out, err := cmd.CombinedOutput()
	// It fails opening the secrets, after the old engine released the store.
	if err == nil || !strings.Contains(string(out), "the key file") {
		t.Errorf("the new engine without a key: %v\n%s", err, out)
	}
	time.Sleep(500 * time.Millisecond)
	if oldLog, _ := os.ReadFile(filepath.Join(work, "old.log")); !strings.Contains(string(oldLog), "handover failed; this engine stays in charge") {
		t.Errorf("the old engine does not say it resumed; its log:\n%s", oldLog)
	}
	if h, err := c.Health(context.Background()); err != nil || h.PID != old.Process.Pid {
		t.Errorf("after the failed handover the engine is %+v, %v; want the old one, pid %d", h, err, old.Process.Pid)
	}
	if err := os.Rename(keyPath+".away", keyPath); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	l.end(t)
	t.Logf("%d requests, %d failed", l.sent.Load(), l.failed.Load())

	// It builds again (its build workers resumed): a new deployment gets ready.
	p, err := c.CreateProject(context.Background(), api.ProjectRequest{Name: "after"})
	if err != nil {
		t.Fatal(err)
	}
	src := t.TempDir()
	writeFile(t, filepath.Join(src, "app.py"), whoAmIApp)
	d := deploy(t, c, p.ID, src)
	if d.State != api.StateReady {
		t.Errorf("a deployment after the failed handover: %+v", d)
	}
}

// TestHandoverToAnEngineThatDoesNotKnowTheSchemaIsRefused offers to take
// over with an older schema than the store's.
func TestHandoverToAnEngineThatDoesNotKnowTheSchemaIsRefused(t *testing.T) {
	_, _, dataDir := startEngineWithDataDir(t)
	httpClient := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", filepath.Join(dataDir, api.SocketName))
		},
	}}
	offer := fmt.Sprintf(`{"version": "0.0.1", "schema_version": %d}`, sqlite.SchemaVersion()-1)
	req, err := http.NewRequest("POST", "http://ferry"+api.PathHandover, strings.NewReader(offer))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", api.HandoverProtocol)
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusConflict || !strings.Contains(string(body), fmt.Sprintf("schema version %d", sqlite.SchemaVersion())) {
		t.Errorf("offer of an older schema: %d %s", resp.StatusCode, body)
	}
}
