package engine_test

// Acceptance tests of the sandbox (issue 5): a hostile app and a hostile build, deployed through the real
// engine, try what an attacker would (testdata/hostile); these tests assert that each attempt is denied
// or contained, in each sandbox mode.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/client"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine"
	"github.com/ferryhq/terraform-provider-ferry/internal/freeport"
)

const hostileDir = "testdata/hostile"

// Limits of the hostile project.
const (
	hostileMemoryMB  = 128
	hostileCPU       = 0.5
	hostileProcesses = 64
	hostileOpenFiles = 256
)

// sandboxModes are run one after the other; "uids" needs root.
var sandboxModes = []string{"uids", "userns"}

func withSandboxMode(mode string) func(*engine.Config) {
	return func(cfg *engine.Config) { cfg.SandboxMode = mode }
}

func hostileProject(name string, installCommand, buildCommand string) api.ProjectRequest {
	return api.ProjectRequest{Name: name, InstallCommand: &installCommand, BuildCommand: &buildCommand,
		Limits: &api.Limits{MemoryMB: hostileMemoryMB, CPU: hostileCPU, Processes: hostileProcesses, OpenFiles: hostileOpenFiles}}
}

func needSandboxMode(t *testing.T, mode string) {
	t.Helper()
	if mode == "uids" && os.Geteuid() != 0 {
		t.Skip("sandbox mode uids runs each project under a uid of its own, which needs root: run the tests as root (CI does)")
	}
}

// attackNames are the attacks of the hostile app's /attacks; each must be denied.
var attackNames = []string{
	"read_secret_key", "read_store", "list_data_dir", "list_deployments", "read_other_deployment",
	"engine_socket", "engine_environ", "other_project_environ", "see_other_processes",
	"signal_engine", "signal_other_process",
	"write_other_deployment", "write_own_deployment", "replace_own_deployment", "write_data_dir",
	"bind_tcp",
}

func TestSandboxHostileAppAndBuild(t *testing.T) {
	for _, mode := range sandboxModes {
		t.Run(mode, func(t *testing.T) {
			needSandboxMode(t, mode)
			testHostileAppAndBuild(t, mode)
		})
	}
}

func testHostileAppAndBuild(t *testing.T, mode string) {
	c, addr := startEngine(t, withSandboxMode(mode))
	ctx := context.Background()
	health, err := c.Health(ctx)
	if err != nil {
		t.Fatal(err)
	}
	dataDir := health.DataDir
	marker := "ferry" + randomHex(6)
	victimSecret := "victim" + randomHex(8)
	buildTag, orphanTag, canaryTag := sleepTag(), sleepTag(), sleepTag()
	t.Cleanup(func() { killTagged(buildTag, orphanTag) })

	// A process of the host the app must neither see nor signal.
	canary := exec.Command("sleep", "1000", canaryTag)
	if err := canary.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = canary.Process.Kill(); _ = canary.Wait() }) // killed: Wait reports just that

	// Another project, with a secret, running.
	victim, err := c.CreateProject(ctx, api.ProjectRequest{Name: "victim"})
	if err != nil {
		t.Fatal(err)
	}
	mustSetEnv(t, c, victim.ID, map[string]string{"VICTIM_SECRET": victimSecret})
	victimDeployment := deploy(t, c, victim.ID, hostileDir)
	if victimDeployment.State != api.StateReady {
		t.Fatalf("victim: %s %s", victimDeployment.State, victimDeployment.ErrorMessage)
	}
	if status, body := get(t, addr, victimDeployment.URL+"/ping"); status != 200 {
		t.Fatalf("victim /ping: %d %q", status, body)
	}
	victimApp := deploymentFile(t, dataDir, victimDeployment.ID, "app.py")

	key, err := os.ReadFile(filepath.Join(dataDir, engine.KeyName))
	if err != nil {
		t.Fatal(err)
	}
	engineEnviron, err := os.ReadFile("/proc/self/environ") // the engine runs in this process
	if err != nil {
		t.Fatal(err)
	}
	environSum := sha256.Sum256(engineEnviron)

	hostile, err := c.CreateProject(ctx, hostileProject("hostile", "sh hostile_build.sh install", "sh hostile_build.sh build"))
	if err != nil {
		t.Fatal(err)
	}
	mustSetEnv(t, c, hostile.ID, map[string]string{
		"DATA_DIR":               dataDir,
		"MARKER":                 marker,
		"ENGINE_PID":             strconv.Itoa(os.Getpid()),
		"ENGINE_ENVIRON_SHA256":  hex.EncodeToString(environSum[:]),
		"OTHER_PROJECT_ID":       victim.ID,
		"OTHER_APP_PY":           victimApp,
		"VICTIM_SECRET_REVERSED": reverse(victimSecret),
		"CANARY_TAG_REVERSED":    reverse(canaryTag),
		"CANARY_PID":             strconv.Itoa(canary.Process.Pid),
		"BUILD_SLEEP_TAG":        buildTag,
		"ORPHAN_SLEEP_TAG":       orphanTag,
	})
	d := deploy(t, c, hostile.ID, hostileDir)
	if d.State != api.StateReady {
		log, _ := c.DeploymentLog(ctx, d.ID)
		t.Fatalf("hostile deployment: %s %s\n%s", d.State, d.ErrorMessage, log)
	}
	ownApp := deploymentFile(t, dataDir, d.ID, "app.py")
	ownBefore, err := os.ReadFile(ownApp)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("build", func(t *testing.T) {
		log, err := c.DeploymentLog(ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(log, "data dir:") {
			t.Fatalf("the hostile install and build steps did not run; build log:\n%s", log)
		}
		for _, line := range strings.Split(log, "\n") {
			if line != "" && !strings.HasPrefix(line, "ferry:") {
				t.Logf("build log: %s", line) // what the hostile steps printed
			}
		}
		if strings.Contains(log, hex.EncodeToString(key)) {
			t.Error("a build step printed the engine's secret.key into the build log")
		}
		for _, line := range strings.Split(log, "\n") {
			if strings.HasPrefix(line, "data dir: ") && strings.Contains(line, engine.KeyName) {
				t.Errorf("a build step listed the data dir: %s", line)
			}
		}
		for _, step := range []string{"install", "build"} {
			if _, err := os.Stat(filepath.Join(dataDir, "pwned-"+marker+"-"+step)); err == nil {
				t.Errorf("the %s step wrote a file into the data dir", step)
			}
			if content, _ := os.ReadFile(victimApp); bytes.Contains(content, []byte(marker+"-"+step)) {
				t.Errorf("the %s step appended to another deployment's app.py", step)
			}
		}
		err = filepath.WalkDir(dataDir, func(path string, e fs.DirEntry, err error) error {
			if err == nil && !e.IsDir() && strings.HasPrefix(e.Name(), "stolen-key-") {
				if content, _ := os.ReadFile(path); bytes.Contains(content, key) {
					t.Errorf("a build step copied the engine's secret.key to %s", path)
				}
			}
			return nil // the engine changes the tree as we walk: skip what went away
		})
		if err != nil {
			t.Fatal(err)
		}
		if left := waitUntilNoneTagged(5*time.Second, buildTag); len(left) > 0 {
			t.Errorf("processes the build started (setsid, nohup) outlived it:\n%s", strings.Join(left, "\n"))
		}
	})

	t.Run("identity", func(t *testing.T) {
		if mode != "uids" {
			t.Skip("only sandbox mode uids gives each project a uid of its own")
		}
		hostileUID, victimUID := instanceOf(t, addr, d.URL).UID, instanceOf(t, addr, victimDeployment.URL).UID
		t.Logf("uids: engine %d, hostile app %d, other app %d", os.Geteuid(), hostileUID, victimUID)
		if hostileUID == os.Geteuid() || hostileUID == 0 || hostileUID == victimUID {
			t.Errorf("the hostile app runs as uid %d: want a uid of its own, not the engine's (%d) nor another project's (%d)", hostileUID, os.Geteuid(), victimUID)
		}
	})

	t.Run("attacks", func(t *testing.T) {
		status, body := get(t, addr, d.URL+"/attacks")
		if status != 200 {
			t.Fatalf("/attacks: %d %s", status, body)
		}
		var report map[string]struct {
			Denied bool   `json:"denied"`
			Detail string `json:"detail"`
			Port   int    `json:"port"`
		}
		if err := json.Unmarshal([]byte(body), &report); err != nil {
			t.Fatalf("/attacks: %v: %s", err, body)
		}
		for _, name := range attackNames {
			r, ok := report[name]
			switch {
			case !ok:
				t.Errorf("%s: missing from the report", name)
			case r.Denied:
				t.Logf("%s: denied: %s", name, r.Detail)
			case name == "bind_tcp":
				// A listener inside a network namespace of its own is contained, if not denied.
				if reached := dialListener(r.Port, marker+"-bind"); reached {
					t.Errorf("%s: not contained: %s, and the host reaches it", name, r.Detail)
				} else {
					t.Logf("%s: contained: %s, but the host cannot reach it", name, r.Detail)
				}
			default:
				t.Errorf("%s: NOT DENIED: %s", name, r.Detail)
			}
		}
		// What the host sees, whatever the app believed.
		if content, _ := os.ReadFile(victimApp); bytes.Contains(content, []byte(marker+"-app")) {
			t.Error("another deployment's app.py was changed on disk")
		}
		if after, _ := os.ReadFile(ownApp); !bytes.Equal(after, ownBefore) {
			t.Error("the app's own deployment files were changed on disk")
		}
		if _, err := os.Stat(filepath.Join(dataDir, "pwned-"+marker+"-app")); err == nil {
			t.Error("the app wrote a file into the data dir")
		}
	})

	t.Run("processes", func(t *testing.T) {
		var got struct {
			Started int    `json:"started"`
			Error   string `json:"error"`
		}
		getJSON(t, addr, d.URL+"/fork?n=500", &got)
		t.Logf("fork loop of 500: started %d (%s)", got.Started, got.Error)
		if got.Started >= hostileProcesses {
			t.Errorf("a fork loop started %d processes, want it stopped under the project's limit of %d", got.Started, hostileProcesses)
		}
	})

	t.Run("open_files", func(t *testing.T) {
		var got struct {
			Opened int    `json:"opened"`
			Error  string `json:"error"`
		}
		getJSON(t, addr, d.URL+"/files?n=20000", &got)
		t.Logf("opening 20000 files: opened %d (%s)", got.Opened, got.Error)
		if got.Opened >= hostileOpenFiles {
			t.Errorf("the app opened %d files, want it stopped under the project's limit of %d", got.Opened, hostileOpenFiles)
		}
	})

	t.Run("memory", func(t *testing.T) {
		before := instanceOf(t, addr, d.URL)
		began := time.Now()
		status, body := get(t, addr, fmt.Sprintf("%s/alloc?mb=%d", d.URL, 400))
		t.Logf("allocating 400 MB: %d after %v", status, time.Since(began).Round(time.Millisecond))
		if status != http.StatusBadGateway {
			t.Errorf("allocating 400 MB past a %d MB limit: %d %q, want 502", hostileMemoryMB, status, body)
		}
		for _, leak := range []string{"MemoryError", "Traceback", dataDir} {
			if strings.Contains(body, leak) {
				t.Errorf("the 502 is not generic: it shows %q: %s", leak, body)
			}
		}
		began = time.Now()
		after := instanceOf(t, addr, d.URL)
		t.Logf("the next request answered after %v", time.Since(began).Round(time.Millisecond))
		if after.Instance == before.Instance {
			t.Errorf("the next request was served by the same instance (%s, worker pid %d before, %d after), want a fresh one", before.Instance, before.PID, after.PID)
		}
		var line string
		deadline := time.Now().Add(5 * time.Second)
		for line == "" && time.Now().Before(deadline) {
			line = memoryLine(deploymentLogs(t, c, dataDir, d.ID))
			if line == "" {
				time.Sleep(100 * time.Millisecond)
			}
		}
		if line == "" {
			t.Errorf("no log of the deployment says it ran out of memory; they read:\n%s", tail(deploymentLogs(t, c, dataDir, d.ID), 15))
		} else {
			t.Logf("log: %s", line)
		}
	})

	t.Run("cpu", func(t *testing.T) {
		// The quota is what holds a spinning app back, and the CPU time its processes got says
		// whether it held: an assertion on another app's latency would measure the machine's
		// other load as much as the sandbox. That latency is logged, for a reader.
		const spinSeconds = 2
		ping := victimDeployment.URL + "/ping"
		idle := measureLatency(t, addr, ping, 200, time.Time{})
		type spinResult struct {
			Spinning   int     `json:"spinning"`
			CPUSeconds float64 `json:"cpu_seconds"`
		}
		spun := make(chan spinResult, 1)
		spinErr := make(chan error, 1)
		go func() {
			// More spinning processes than cores, as an attacker would: a scheduler that does not
			// group them shares each core among all that are runnable.
			u, _ := url.Parse(fmt.Sprintf("%s/spin?seconds=%d&procs=%d&wait=1", d.URL, spinSeconds, 4*runtime.NumCPU()))
			req, _ := http.NewRequest("GET", "http://"+addr+u.RequestURI(), nil)
			req.Host = u.Host
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				spinErr <- err
				return
			}
			defer func() { _ = resp.Body.Close() }()
			var got spinResult
			if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || resp.StatusCode != 200 {
				spinErr <- fmt.Errorf("/spin: %d, %v", resp.StatusCode, err)
				return
			}
			spun <- got
		}()
		busy := measureLatency(t, addr, ping, 200, time.Now().Add(spinSeconds*time.Second-200*time.Millisecond))
		t.Logf("another app's /ping, %d sequential requests idle: p50 %v p99 %v max %v", len(idle), percentile(idle, 50), percentile(idle, 99), percentile(idle, 100))
		t.Logf("the same while the hostile app spins on every core: %d requests, p50 %v p99 %v max %v", len(busy), percentile(busy, 50), percentile(busy, 99), percentile(busy, 100))
		if len(busy) == 0 {
			t.Errorf("no request to another app completed in %ds of spinning", spinSeconds)
		}
		select {
		case err := <-spinErr:
			t.Fatal(err)
		case got := <-spun:
			// The quota is enforced per 10 ms period: a fifth over it, and 0.2 s, allow for the
			// scheduler's rounding and the children's start and exit.
			allowed := hostileCPU*spinSeconds*1.2 + 0.2
			t.Logf("%d spinning processes got %.2f CPU seconds in %d s under a quota of %.1f cores (at most %.2f allowed)",
				got.Spinning, got.CPUSeconds, spinSeconds, hostileCPU, allowed)
			if got.CPUSeconds > allowed {
				t.Errorf("the spinning app got %.2f CPU seconds in %d s: more than its quota of %.1f cores allows (%.2f)", got.CPUSeconds, spinSeconds, hostileCPU, allowed)
			}
			if got.CPUSeconds < 0.05 {
				t.Errorf("the spinning app got %.2f CPU seconds: its processes did not spin, so nothing was tested", got.CPUSeconds)
			}
		case <-time.After(time.Minute):
			t.Fatal("/spin?wait=1 did not answer within a minute")
		}
	})

	t.Run("orphan", func(t *testing.T) {
		if status, body := get(t, addr, d.URL+"/orphan"); status != 200 {
			t.Logf("/orphan: %d %s", status, body)
		}
		if started := waitUntilTagged(5*time.Second, orphanTag); !started {
			t.Log("the app's setsid child never appeared (refused by the sandbox?)")
		}
		if err := c.DeleteDeployment(ctx, d.ID); err != nil {
			t.Fatal(err)
		}
		if left := waitUntilNoneTagged(5*time.Second, orphanTag); len(left) > 0 {
			t.Errorf("after its deployment was deleted, a setsid child of the app is still running:\n%s", strings.Join(left, "\n"))
		}
	})
}

// TestSandboxEngineKilledMidBuild kills -9 an engine (a process of its own) while a hostile build runs:
// nothing the build started may be left running.
func TestSandboxEngineKilledMidBuild(t *testing.T) {
	for _, mode := range sandboxModes {
		t.Run(mode, func(t *testing.T) {
			needSandboxMode(t, mode)
			testEngineKilledMidBuild(t, mode)
		})
	}
}

func testEngineKilledMidBuild(t *testing.T, mode string) {
	dataDir := shortDataDir(t)
	addr := freeport.Loopback(t)
	tag := sleepTag()
	t.Cleanup(func() { killTagged(tag) })

	logPath := filepath.Join(t.TempDir(), "engine.log")
	cmd, c := engineProcess(t, dataDir, addr, logPath, "--sandbox", mode)
	engineOutput := func() string {
		out, _ := os.ReadFile(logPath)
		return string(out)
	}
	ctx := context.Background()
	p, err := c.CreateProject(ctx, hostileProject("killed", "true", "sh hostile_build.sh build block"))
	if err != nil {
		t.Fatal(err)
	}
	mustSetEnv(t, c, p.ID, map[string]string{
		"DATA_DIR": dataDir, "MARKER": "ferry" + randomHex(6), "BUILD_SLEEP_TAG": tag,
		"OTHER_APP_PY": filepath.Join(dataDir, "nonexistent", "app.py"),
	})
	d, err := c.Deploy(ctx, p.ID, hostileDir, true)
	if err != nil {
		t.Fatal(err)
	}
	// The build is running once its three sleeps are: setsid, nohup, and the one it waits for. Only
	// processes that are sleep count: setsid and nohup carry the tag too until they exec it.
	sleeps := func() int {
		n := 0
		for _, p := range tagged(tag) {
			if _, cmdline, _ := strings.Cut(p, ": "); strings.HasPrefix(cmdline, "sleep ") {
				n++
			}
		}
		return n
	}
	deadline := time.Now().Add(30 * time.Second)
	for sleeps() < 3 && time.Now().Before(deadline) {
		if d, err = c.GetDeployment(ctx, d.ID); err == nil && client.Terminal(d.State) {
			log, _ := c.DeploymentLog(ctx, d.ID)
			t.Fatalf("the hostile build ended (%s %s) instead of blocking:\n%s", d.State, d.ErrorMessage, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if running := sleeps(); running < 3 {
		t.Fatalf("the hostile build did not start its 3 sleeps (%d running: %q); engine output:\n%s", running, tagged(tag), engineOutput())
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait() // killed: its exit status says only that
	if left := waitUntilNoneTagged(5*time.Second, tag); len(left) > 0 {
		t.Errorf("after kill -9 of the engine mid-build, processes of the build are still running:\n%s", strings.Join(left, "\n"))
	}
}

func mustSetEnv(t *testing.T, c *client.Client, projectID string, vars map[string]string) {
	t.Helper()
	for key, value := range vars {
		req := api.EnvVarRequest{Key: key, Value: value, Targets: []string{api.TargetProduction, api.TargetPreview}}
		if _, err := c.CreateEnvVar(context.Background(), projectID, req); err != nil {
			t.Fatalf("env %s: %v", key, err)
		}
	}
}

// deploymentFile finds a file of a deployment's source on the host, wherever the engine keeps it in the
// data dir (the shortest path under a directory named by the deployment's id, outside its venv).
func deploymentFile(t *testing.T, dataDir, deploymentID, name string) string {
	t.Helper()
	var found string
	err := filepath.WalkDir(dataDir, func(path string, e fs.DirEntry, err error) error {
		// An error: the engine changes the tree as we walk; skip what went away.
		if err == nil && e.IsDir() && e.Name() == "venv" {
			return filepath.SkipDir
		}
		if err == nil && !e.IsDir() && e.Name() == name && slices.Contains(strings.Split(path, string(filepath.Separator)), deploymentID) &&
			(found == "" || len(path) < len(found)) {
			found = path
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if found == "" {
		t.Fatalf("no %s of deployment %s under %s", name, deploymentID, dataDir)
	}
	return found
}

// deploymentLogs is everything logged about a deployment: its log through the API and the log files
// of the data dir named by its id.
func deploymentLogs(t *testing.T, c *client.Client, dataDir, deploymentID string) string {
	t.Helper()
	var all strings.Builder
	if log, err := c.DeploymentLog(context.Background(), deploymentID); err == nil {
		all.WriteString(log)
	}
	err := filepath.WalkDir(dataDir, func(path string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() && strings.HasSuffix(path, ".log") && strings.Contains(path, deploymentID) {
			if content, err := os.ReadFile(path); err == nil {
				all.WriteString("\n")
				all.Write(content)
			}
		}
		return nil // the engine changes the tree as we walk: skip what went away
	})
	if err != nil {
		t.Fatal(err)
	}
	return all.String()
}

var memoryWords = regexp.MustCompile(`(?i)memory|oom`)

// memoryLine is a line of the logs that says the app ran out of memory, other than Python's own
// MemoryError (what an rlimit gives: the app survives it, nobody killed it).
func memoryLine(logs string) string {
	for _, line := range strings.Split(logs, "\n") {
		if memoryWords.MatchString(line) && !strings.Contains(line, "MemoryError") {
			return line
		}
	}
	return ""
}

type instanceInfo struct {
	Instance string `json:"instance"`
	PID      int    `json:"pid"`
	UID      int    `json:"uid"`
}

// instanceOf asks the app which instance serves it, retrying while the instance (re)starts.
func instanceOf(t *testing.T, addr, deploymentURL string) instanceInfo {
	t.Helper()
	var last string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		status, body := get(t, addr, deploymentURL+"/instance")
		if status == 200 {
			var info instanceInfo
			if err := json.Unmarshal([]byte(body), &info); err != nil {
				t.Fatalf("/instance: %v: %s", err, body)
			}
			return info
		}
		last = fmt.Sprintf("%d %s", status, body)
	}
	t.Fatalf("/instance did not answer: %s", last)
	return instanceInfo{}
}

func getJSON(t *testing.T, addr, rawURL string, out any) {
	t.Helper()
	status, body := get(t, addr, rawURL)
	if status != 200 {
		t.Fatalf("GET %s: %d %s", rawURL, status, body)
	}
	if err := json.Unmarshal([]byte(body), out); err != nil {
		t.Fatalf("GET %s: %v: %s", rawURL, err, body)
	}
}

// measureLatency times up to n sequential GETs of rawURL on one kept-alive connection, stopping early
// at until (if set).
func measureLatency(t *testing.T, addr, rawURL string, n int, until time.Time) []time.Duration {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	httpClient := &http.Client{Timeout: 10 * time.Second}
	var took []time.Duration
	for i := 0; i < n && (until.IsZero() || time.Now().Before(until)); i++ {
		req, _ := http.NewRequest("GET", "http://"+addr+u.RequestURI(), nil)
		req.Host = u.Host
		began := time.Now()
		resp, err := httpClient.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", rawURL, err)
		}
		_, err = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if err != nil {
			t.Fatalf("GET %s: %v", rawURL, err)
		}
		took = append(took, time.Since(began))
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d", rawURL, resp.StatusCode)
		}
	}
	return took
}

// percentile p (1-100) of durations, nearest rank.
func percentile(durations []time.Duration, p int) time.Duration {
	if len(durations) == 0 {
		return 0
	}
	sorted := slices.Clone(durations)
	slices.Sort(sorted)
	rank := (p*len(sorted) + 99) / 100
	return sorted[max(rank, 1)-1].Round(10 * time.Microsecond)
}

// dialListener reports whether the host reaches a listener of the app on 127.0.0.1:port (it answers
// with want).
func dialListener(port int, want string) bool {
	conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 2*time.Second)
	if err != nil {
		return false
	}
	defer func() { _ = conn.Close() }()
	if err := conn.SetReadDeadline(time.Now().Add(2 * time.Second)); err != nil {
		return false
	}
	line, _ := bufio.NewReader(conn).ReadString('\n')
	return strings.Contains(line, want)
}

// sleepTag is an argument of `sleep` that names the processes of one test: a number, since sleep adds
// up its arguments, of a few picoseconds.
func sleepTag() string { return fmt.Sprintf("0.000%012d", rand.Int64N(1e12)) }

// tagged lists the processes of the host with tag among their arguments, as "pid: cmdline".
func tagged(tag string) []string {
	var found []string
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
		if slices.Contains(args, tag) {
			found = append(found, fmt.Sprintf("pid %d: %s", pid, strings.Join(args, " ")))
		}
	}
	return found
}

func waitUntilTagged(timeout time.Duration, tag string) bool {
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if len(tagged(tag)) > 0 {
			return true
		}
	}
	return false
}

// waitUntilNoneTagged polls until no process has tag, and returns those left at the timeout.
func waitUntilNoneTagged(timeout time.Duration, tag string) []string {
	deadline := time.Now().Add(timeout)
	for {
		left := tagged(tag)
		if len(left) == 0 || time.Now().After(deadline) {
			return left
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// killTagged kills what a test left running: processes it started, named by its own tags.
func killTagged(tags ...string) {
	for _, tag := range tags {
		for _, p := range tagged(tag) {
			var pid int
			if _, err := fmt.Sscanf(p, "pid %d:", &pid); err == nil {
				_ = syscall.Kill(pid, syscall.SIGKILL) // best effort: it may have exited already
			}
		}
	}
}

func tail(text string, lines int) string {
	all := strings.Split(strings.TrimRight(text, "\n"), "\n")
	return strings.Join(all[max(len(all)-lines, 0):], "\n")
}

func randomHex(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rand.IntN(256))
	}
	return hex.EncodeToString(b)
}

func reverse(s string) string {
	r := []rune(s)
	slices.Reverse(r)
	return string(r)
}
