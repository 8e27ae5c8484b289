package workers

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/sandbox"
)

// parkedApp imports a dependency from outside its directory; both record the pid that imported them.
const parkedApp = `
import os
import fakedep

with open(os.environ["IMPORT_LOG"], "a") as log:
    log.write("%d\n" % os.getpid())

def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"%d" % os.getppid()]
`

const fakeDependency = `
import os

with open(os.environ["DEP_LOG"], "a") as log:
    log.write("%d\n" % os.getpid())
`

type parkHarness struct {
	*harness
	importLog, depLog string
}

func newParkHarness(t *testing.T, cfg Config) parkHarness {
	requirePython(t)
	deps := writeApp(t, map[string]string{"fakedep.py": fakeDependency})
	logs := t.TempDir()
	h := parkHarness{importLog: filepath.Join(logs, "imports"), depLog: filepath.Join(logs, "deps")}
	h.harness = newHarness(t, cfg, App{
		Dir: writeApp(t, map[string]string{"app.py": parkedApp}),
		Env: []string{"PYTHONPATH=" + deps, "IMPORT_LOG=" + h.importLog, "DEP_LOG=" + h.depLog},
	})
	return h
}

// pids are the pids a log recorded, in order.
func pids(t *testing.T, path string) []int {
	t.Helper()
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []int
	for _, line := range strings.Fields(string(data)) {
		pid, err := strconv.Atoi(line)
		if err != nil {
			t.Fatalf("%s: %q", path, data)
		}
		out = append(out, pid)
	}
	return out
}

func (m *Manager) isParked(id string) bool {
	m.mu.RLock()
	d := m.parked[instanceKey{id: id}]
	m.mu.RUnlock()
	return d != nil && d.isParked()
}

func (h parkHarness) awaitParked(t *testing.T) {
	t.Helper()
	eventually(t, "the deployment's start is parked", func() bool { return h.manager.isParked(h.app.ID) })
}

// parkedWorkers is how many workers a parked start prepares: the one a start runs until requests
// need more.
const parkedWorkers = 1

func TestParkedStartImportsDependenciesOnlyThenServes(t *testing.T) {
	h := newParkHarness(t, Config{})
	h.manager.Prewarm(h.app)
	h.awaitParked(t)

	deps := pids(t, h.depLog)
	if len(deps) != parkedWorkers {
		t.Fatalf("the dependency was imported by %v, want once by each of %d parked workers", deps, parkedWorkers)
	}
	if imports := pids(t, h.importLog); len(imports) != 0 {
		t.Fatalf("a parked start ran the app's own code (imported by %v)", imports)
	}
	if running := h.manager.Running(); len(running) != 0 {
		t.Fatalf("a parked start counts as running: %v", running)
	}

	resp, body := h.get(t, "/")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	eventually(t, "the parked worker imports the app", func() bool { return len(pids(t, h.importLog)) == parkedWorkers })
	if imports := pids(t, h.importLog); !sameSet(imports, deps) {
		t.Errorf("the app was imported by %v, want the parked workers %v", imports, deps)
	}
	if got := pids(t, h.depLog); !slices.Equal(got, deps) {
		t.Errorf("the dependency was imported again: %v", got)
	}
	for _, worker := range deps {
		if parent := parentPID(t, worker); strconv.Itoa(parent) != string(body) {
			t.Errorf("parked worker %d has parent %d; the request was served by a worker of %s", worker, parent, body)
		}
	}
	if h.manager.isParked(h.app.ID) {
		t.Error("the parked start is still parked after serving")
	}
	h.manager.Prewarm(h.app) // running: nothing to prepare
	if h.manager.isParked(h.app.ID) || len(pids(t, h.depLog)) != parkedWorkers {
		t.Error("Prewarm prepared a start for a running deployment")
	}
}

func sameSet(a, b []int) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func parentPID(t *testing.T, pid int) int {
	t.Helper()
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	parent, err := strconv.Atoi(fields[1])
	if err != nil {
		t.Fatal(err)
	}
	return parent
}

func TestScaleToZeroLeavesAParkedStart(t *testing.T) {
	h := newParkHarness(t, Config{IdleTimeout: 300 * time.Millisecond})
	if resp, body := h.get(t, "/"); resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	eventually(t, "the idle deployment stops", func() bool { return len(h.manager.Running()) == 0 })
	h.awaitParked(t)
	deps := pids(t, h.depLog)
	if len(deps) != 2*parkedWorkers {
		t.Fatalf("dependency imports %v: want the first start's workers' and the parked ones'", deps)
	}
	first := pids(t, h.importLog)
	if resp, body := h.get(t, "/"); resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	eventually(t, "the parked workers import the app", func() bool {
		return len(pids(t, h.importLog)) == len(first)+parkedWorkers
	})
	if parked := pids(t, h.importLog)[len(first):]; !sameSet(parked, deps[parkedWorkers:]) {
		t.Errorf("the app was imported by %v after scaling to zero, want the parked workers %v", parked, deps[parkedWorkers:])
	}
}

func TestStopAndRemoveEndParkedStarts(t *testing.T) {
	h := newParkHarness(t, Config{})
	h.manager.Prewarm(h.app)
	h.awaitParked(t)
	parked := pids(t, h.depLog)
	h.manager.Remove(h.app.ID)
	if alive := slices.IndexFunc(parked, processAlive); alive >= 0 {
		t.Errorf("the parked worker %d outlived Remove", parked[alive])
	}
	h.manager.Prewarm(h.app)
	time.Sleep(300 * time.Millisecond) // time enough to launch, if Prewarm wrongly did
	if len(pids(t, h.depLog)) != len(parked) {
		t.Error("Prewarm started a deleted deployment")
	}
}

func TestParkedStartsAreBounded(t *testing.T) {
	h := newParkHarness(t, Config{MaxParked: 1})
	h.manager.Prewarm(h.app)
	h.awaitParked(t)
	first := pids(t, h.depLog)[0]

	other := h.app
	other.ID = "dpl_other"
	h.manager.Prewarm(other)
	eventually(t, "the other deployment's start is parked", func() bool { return h.manager.isParked(other.ID) })
	eventually(t, "the oldest parked process exits", func() bool { return !processAlive(first) })
	if h.manager.isParked(h.app.ID) {
		t.Error("more parked starts than MaxParked")
	}
	// Without its parked start the deployment still starts in full.
	if resp, body := h.get(t, "/"); resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
}

func TestParkedStartOfABrokenAppReportsTheImportError(t *testing.T) {
	requirePython(t)
	h := newHarness(t, Config{}, App{Dir: writeApp(t, map[string]string{"app.py": "import json\nraise RuntimeError('broken at import')\n"})})
	h.manager.Prewarm(h.app)
	eventually(t, "the deployment's start is parked", func() bool { return h.manager.isParked(h.app.ID) })
	h.expectStartFailure(t, "broken at import")
}

// confinementApp reports what confines it: its parent's pid (1 in a PID namespace of its own), its uid, and
// whether it can read a file outside its deployment that the file's permissions let anyone read.
const confinementApp = `
import json, os

def app(environ, start_response):
    try:
        with open(%q) as outside:
            read = outside.read()
    except OSError as exc:
        read = type(exc).__name__
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps({"ppid": os.getppid(), "uid": os.getuid(), "read": read}).encode()]
`

// A parked start is the instance's own parent process, launched in the instance's sandbox: it must be
// confined exactly as a full start is.
func TestParkedStartIsConfinedAsAFullStart(t *testing.T) {
	requirePython(t)
	if runtime.GOOS != "linux" {
		t.Skip("checks Linux's confinement")
	}
	sb, err := sandbox.New(sandbox.Config{Name: "park-test-" + strconv.Itoa(os.Getpid())})
	if err != nil {
		t.Skipf("no sandbox here: %v", err)
	}
	t.Cleanup(sb.Close)
	secretDir := t.TempDir()
	if err := os.Chmod(secretDir, 0o755); err != nil {
		t.Fatal(err)
	}
	secret := filepath.Join(secretDir, "secret")
	if err := os.WriteFile(secret, []byte("not for apps"), 0o644); err != nil {
		t.Fatal(err)
	}
	h := benchHarness(t, sb, fmt.Sprintf(confinementApp, secret))

	type report struct {
		PPID, UID int
		Read      string
	}
	observe := func(parked bool) report {
		h.manager.Stop(h.app.ID)
		if parked {
			h.manager.Prewarm(h.app)
			eventually(t, "the deployment's start is parked", func() bool { return h.manager.isParked(h.app.ID) })
		}
		resp, body := h.get(t, "/")
		var r report
		if err := json.Unmarshal(body, &r); resp.StatusCode != http.StatusOK || err != nil {
			t.Fatalf("parked=%v: %d %s", parked, resp.StatusCode, body)
		}
		return r
	}
	full, parked := observe(false), observe(true)
	if full != parked {
		t.Errorf("a parked start is confined differently: %+v, a full start %+v", parked, full)
	}
	if parked.Read != "PermissionError" {
		t.Errorf("the parked start's instance read a file outside its deployment: %q", parked.Read)
	}
	if sb.Mode() != sandbox.ModeLandlock && parked.PPID != 1 {
		t.Errorf("the parked start's parent has pid %d, want 1 in a PID namespace of its own", parked.PPID)
	}
	if sb.SeparateIdentities() && parked.UID != h.app.Identity.UID {
		t.Errorf("the parked start runs as uid %d, want the project's %d", parked.UID, h.app.Identity.UID)
	}
}

// An app whose own code runs before an import may set what the imported module reads at import: a parked
// start must not import that module ahead of it.
func TestParkedStartImportsNothingThatAppCodePrecedes(t *testing.T) {
	requirePython(t)
	const app = `
import os
import json
os.environ["SET_BY_APP"] = "yes"
import envdep

def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [envdep.seen.encode()]
`
	const envDependency = `
import os

seen = os.environ.get("SET_BY_APP", "unset")
with open(os.environ["DEP_LOG"], "a") as log:
    log.write("%d\n" % os.getpid())
`
	deps := writeApp(t, map[string]string{"envdep.py": envDependency})
	depLog := filepath.Join(t.TempDir(), "deps")
	h := newHarness(t, Config{}, App{
		Dir: writeApp(t, map[string]string{"app.py": app}),
		Env: []string{"PYTHONPATH=" + deps, "DEP_LOG=" + depLog},
	})
	h.manager.Prewarm(h.app)
	eventually(t, "the deployment's start is parked", func() bool { return h.manager.isParked(h.app.ID) })
	if imported := pids(t, depLog); len(imported) != 0 {
		t.Fatalf("the parked start imported a module the app's own code precedes (by %v)", imported)
	}
	if resp, body := h.get(t, "/"); resp.StatusCode != http.StatusOK || string(body) != "yes" {
		t.Fatalf("%d %q: the module did not see what the app set before importing it", resp.StatusCode, body)
	}
}
