package deploy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/artifacts"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
)

// wsgiApp is an app the builder accepts without any package installed.
const wsgiApp = "def app(environ, start_response):\n    start_response('200 OK', [])\n    return [b'ok']\n"

// createProject stores a project that skips the install step and runs
// buildCommand as its build.
func createProject(t *testing.T, st store.Store, name, buildCommand string) string {
	t.Helper()
	skip := "true"
	id := "prj_" + name
	if err := st.CreateProject(context.Background(), &store.Project{ID: id, Name: name, Framework: "auto", RootDirectory: ".",
		InstallCommand: &skip, BuildCommand: &buildCommand}, name+".localhost"); err != nil {
		t.Fatal(err)
	}
	return id
}

func deployApp(t *testing.T, svc *Service, bl artifacts.Store, projectID string) *store.Deployment {
	t.Helper()
	f := upload(t, bl, wsgiApp)
	f.Path = "app.py"
	d, err := svc.Create(context.Background(), api.DeploymentRequest{ProjectID: projectID, Files: []api.File{f}})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// sleepArgument is a duration for a build's sleep that no other process on the machine has on
// its command line (another run of these tests, say), so that processesWith finds this test's.
func sleepArgument() string {
	return fmt.Sprintf("1000.%09d", rand.IntN(1e9))
}

// processesWith returns the pids of processes whose command line holds marker.
func processesWith(t *testing.T, marker string) []string {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Skipf("no /proc to look for processes: %v", err)
	}
	var pids []string
	for _, e := range entries {
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && bytes.Contains(cmdline, []byte(marker)) {
			pids = append(pids, e.Name())
		}
	}
	return pids
}

func waitNoProcessWith(t *testing.T, marker string) {
	t.Helper()
	for i := 0; i < 100 && len(processesWith(t, marker)) > 0; i++ {
		time.Sleep(50 * time.Millisecond)
	}
	if pids := processesWith(t, marker); len(pids) > 0 {
		t.Errorf("processes of the stopped build still run: %v", pids)
	}
}

func TestQueueFullIsRefusedAndLeavesNothing(t *testing.T) {
	svc, st, bl := newStoppedService(t, func(c *Config) { c.MaxQueuedBuilds = 2 })
	ctx := context.Background()
	projectID := createProject(t, st, "busy", "true")
	deployApp(t, svc, bl, projectID)
	deployApp(t, svc, bl, projectID)

	f := upload(t, bl, wsgiApp)
	f.Path = "app.py"
	d, err := svc.Create(ctx, api.DeploymentRequest{ProjectID: projectID, Files: []api.File{f}})
	var refused *InputError
	if !errors.As(err, &refused) || refused.Code != api.CodeQueueFull || !strings.Contains(refused.Message, "limit is 2") {
		t.Fatalf("third deployment with room for 2: %+v, %v; want %s naming the limit", d, err, api.CodeQueueFull)
	}
	if list, _ := st.ListDeployments(ctx, projectID); len(list) != 2 {
		t.Errorf("%d deployments stored, want the 2 accepted", len(list))
	}
	if entries, _ := os.ReadDir(svc.cfg.DeploymentsDir); len(entries) != 0 {
		t.Errorf("directories left in %s: %d", svc.cfg.DeploymentsDir, len(entries))
	}
}

// With two workers, two builds run at once (each waits for the other), and
// a hung build does not stall the next one; it fails at the deadline.
func TestWorkersBuildConcurrentlyAndAHungBuildHitsItsDeadline(t *testing.T) {
	const deadline = 12 * time.Second
	svc, st, bl := newService(t, func(c *Config) { c.BuildWorkers = 2; c.BuildTimeout = deadline })
	meet := t.TempDir()
	// Each build leaves a mark and waits for the other's: both succeed only when they run at the same time.
	rendezvous := func(mine, theirs string) string {
		return fmt.Sprintf("touch %s/%s; for i in $(seq 100); do [ -e %s/%s ] && exit 0; sleep 0.1; done; echo never met; exit 1", meet, mine, meet, theirs)
	}
	a := deployApp(t, svc, bl, createProject(t, st, "alpha", rendezvous("a", "b")))
	b := deployApp(t, svc, bl, createProject(t, st, "beta", rendezvous("b", "a")))
	for _, d := range []*store.Deployment{a, b} {
		if got := waitState(t, st, d.ID, api.StateReady, api.StateError); got.State != api.StateReady {
			t.Fatalf("%s: %s %q", d.ID, got.State, got.ErrorMessage)
		}
	}

	hang := sleepArgument()
	hung := deployApp(t, svc, bl, createProject(t, st, "hung", "sleep "+hang))
	waitState(t, st, hung.ID, api.StateBuilding)
	next := deployApp(t, svc, bl, createProject(t, st, "next", "true"))
	if got := waitState(t, st, next.ID, api.StateReady, api.StateError); got.State != api.StateReady {
		t.Fatalf("the build after a hung one: %s %q", got.State, got.ErrorMessage)
	}
	if got, _ := st.GetDeployment(context.Background(), hung.ID); got.State != api.StateBuilding {
		t.Fatalf("the hung build is %s before its deadline", got.State)
	}
	got := waitState(t, st, hung.ID, api.StateReady, api.StateError)
	if got.State != api.StateError || !strings.Contains(got.ErrorMessage, "did not finish within "+deadline.String()) {
		t.Fatalf("hung build: %s %q; want ERROR about the deadline", got.State, got.ErrorMessage)
	}
	waitNoProcessWith(t, hang)
}

func TestCancelStopsTheBuild(t *testing.T) {
	svc, st, bl := newService(t, func(c *Config) { c.BuildWorkers = 1 })
	ctx := context.Background()
	hang := sleepArgument()
	projectID := createProject(t, st, "slow", "sleep "+hang)
	building := deployApp(t, svc, bl, projectID)
	queued := deployApp(t, svc, bl, projectID)
	waitState(t, st, building.ID, api.StateBuilding)
	for i := 0; i < 200 && len(processesWith(t, hang)) == 0; i++ {
		time.Sleep(50 * time.Millisecond)
	}
	if len(processesWith(t, hang)) == 0 {
		t.Fatal("the build command never started")
	}

	// The queued one first: it must never be built.
	for _, d := range []*store.Deployment{queued, building} {
		got, err := svc.Cancel(ctx, d.ID)
		if err != nil || got.State != api.StateCanceled {
			t.Fatalf("cancel %s: %+v %v", d.ID, got, err)
		}
	}
	if pids := processesWith(t, hang); len(pids) > 0 {
		t.Errorf("build processes left after cancel returned: %v", pids)
	}
	for _, d := range []*store.Deployment{queued, building} {
		if got, _ := st.GetDeployment(ctx, d.ID); got.State != api.StateCanceled {
			t.Errorf("%s is %s after cancel", d.ID, got.State)
		}
	}
	// Canceling again answers the same; a finished deployment cannot be canceled.
	if got, err := svc.Cancel(ctx, building.ID); err != nil || got.State != api.StateCanceled {
		t.Errorf("second cancel: %+v %v", got, err)
	}
	done := deployApp(t, svc, bl, createProject(t, st, "quick", "true"))
	waitState(t, st, done.ID, api.StateReady)
	var conflict *InputError
	if _, err := svc.Cancel(ctx, done.ID); !errors.As(err, &conflict) || conflict.Code != api.CodeConflict {
		t.Errorf("cancel of a READY deployment: %v, want %s", err, api.CodeConflict)
	}
	if _, err := svc.Cancel(ctx, "dpl_missing"); !errors.As(err, &conflict) || conflict.Code != api.CodeNotFound {
		t.Errorf("cancel of a missing deployment: %v, want %s", err, api.CodeNotFound)
	}
}

// A build whose claim was lost (here: taken over after its lease lapsed)
// stops, and its outcome is not recorded over the new holder's.
func TestLostLeaseStopsTheBuild(t *testing.T) {
	svc, st, bl := newService(t, func(c *Config) { c.BuildWorkers = 1; c.Lease = 600 * time.Millisecond })
	ctx := context.Background()
	hang := sleepArgument()
	d := deployApp(t, svc, bl, createProject(t, st, "taken", "sleep "+hang))
	waitState(t, st, d.ID, api.StateBuilding)
	if _, _, err := st.CancelDeployment(ctx, d.ID); err != nil { // as another node's API would
		t.Fatal(err)
	}
	waitNoProcessWith(t, hang)
	if got, _ := st.GetDeployment(ctx, d.ID); got.State != api.StateCanceled {
		t.Errorf("state %s after the claim was lost, want it left CANCELED", got.State)
	}
}

func TestProjectBuildDeadlineIsAtMostTheEngines(t *testing.T) {
	svc, st, _ := newStoppedService(t, func(c *Config) { c.BuildTimeout = 10 * time.Minute })
	ctx := context.Background()
	id := createProject(t, st, "deadline", "")
	for _, tc := range []struct {
		set  *api.Limits
		want time.Duration
	}{
		{nil, 10 * time.Minute},
		{&api.Limits{MemoryMB: 512}, 10 * time.Minute},
		{&api.Limits{BuildMinutes: 3}, 3 * time.Minute},
		{&api.Limits{BuildMinutes: 45}, 10 * time.Minute},
	} {
		if err := st.SetProjectLimits(ctx, id, tc.set); err != nil {
			t.Fatal(err)
		}
		if got, err := svc.buildTimeout(ctx, id); err != nil || got != tc.want {
			t.Errorf("limits %+v: deadline %s, %v; want %s", tc.set, got, err, tc.want)
		}
	}
}
