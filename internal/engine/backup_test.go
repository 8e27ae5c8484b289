package engine_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/client"
	"github.com/ferryhq/terraform-provider-ferry/internal/freeport"
)

// greetingApp answers with its deployment and the GREETING env var.
const greetingApp = `import os


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [(os.environ["VERCEL_DEPLOYMENT_ID"] + " " + os.environ["GREETING"]).encode()]
`

// ferry runs a command of the CLI, as a process of its own (see TestMain).
func ferry(t *testing.T, args ...string) (string, error) {
	t.Helper()
	out, err := exec.Command(os.Args[0], args...).CombinedOutput()
	return string(out), err
}

// waitForState polls a deployment until it is in state.
func waitForState(t *testing.T, c *client.Client, id, state string) {
	t.Helper()
	for i := 0; ; i++ {
		d, err := c.GetDeployment(context.Background(), id)
		if err == nil && d.State == state {
			return
		}
		if i > 600 {
			t.Fatalf("deployment %s never got %s: %+v, %v", id, state, d, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestBackupWhileBuildingThenRestore backs a data dir up while builds run
// and restores it into a new data dir, where an engine serves everything:
// the ready deployments with their env, the production alias, and the
// builds that were running, built again.
func TestBackupWhileBuildingThenRestore(t *testing.T) {
	dataDir, addr := shortDataDir(t), freeport.Loopback(t)
	work := t.TempDir()
	_, c := engineProcess(t, dataDir, addr, filepath.Join(work, "engine.log"))
	ctx := context.Background()
	src := t.TempDir()
	writeFile(t, filepath.Join(src, "app.py"), greetingApp)

	p, err := c.CreateProject(ctx, api.ProjectRequest{Name: "keep"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateEnvVar(ctx, p.ID, api.EnvVarRequest{Key: "GREETING", Value: "restored", Targets: []string{"production"}}); err != nil {
		t.Fatal(err)
	}
	ready := deploy(t, c, p.ID, src)
	skip, slow := "true", "sleep 3"
	sp, err := c.CreateProject(ctx, api.ProjectRequest{Name: "slow", InstallCommand: &skip, BuildCommand: &slow})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateEnvVar(ctx, sp.ID, api.EnvVarRequest{Key: "GREETING", Value: "rebuilt", Targets: []string{"production"}}); err != nil {
		t.Fatal(err)
	}
	building, err := c.Deploy(ctx, sp.ID, src, true)
	if err != nil {
		t.Fatal(err)
	}
	waitForState(t, c, building.ID, api.StateBuilding)

	archive := filepath.Join(work, "ferry-backup.tar.gz")
	out, err := ferry(t, "backup", "--data-dir", dataDir, archive)
	if err != nil || !strings.Contains(out, "1 deployments with their files, 1 to build again") {
		t.Fatalf("ferry backup: %s %v", out, err)
	}
	if info, err := os.Stat(archive); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("the backup's mode: %v, %v; want 0600, as it holds the key", info, err)
	}
	if out, err := ferry(t, "backup", "--data-dir", dataDir, archive); err == nil || !strings.Contains(out, "never overwrites") {
		t.Errorf("a second backup to the same file: %s %v", out, err)
	}

	restored, restoredAddr := shortDataDir(t), freeport.Loopback(t)
	if out, err := ferry(t, "restore", "--data-dir", restored, archive); err != nil || !strings.Contains(out, "ferry serve --data-dir "+restored) {
		t.Fatalf("ferry restore: %s %v", out, err)
	}
	if out, err := ferry(t, "restore", "--data-dir", restored, archive); err == nil || !strings.Contains(out, "holds a store already") {
		t.Errorf("restoring over a store: %s %v", out, err)
	}
	_, rc := engineProcess(t, restored, restoredAddr, filepath.Join(work, "restored.log"))
	projects, err := rc.ListProjects(ctx)
	if err != nil || len(projects) != 2 {
		t.Fatalf("projects restored: %+v, %v", projects, err)
	}
	vars, err := rc.ListEnvVars(ctx, "keep", true)
	if err != nil || len(vars) != 1 || vars[0].Value != "restored" {
		t.Errorf("env vars restored: %+v, %v", vars, err)
	}
	restoredURL := func(hostURL string) string {
		return strings.Replace(hostURL, addr[strings.LastIndex(addr, ":"):], restoredAddr[strings.LastIndex(restoredAddr, ":"):], 1)
	}
	for _, u := range []string{ready.URL, p.ProductionURL} {
		if status, body := get(t, restoredAddr, restoredURL(u)); status != 200 || body != ready.ID+" restored" {
			t.Errorf("%s in the restored data dir: %d %q", u, status, body)
		}
	}
	waitCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	rebuilt, err := rc.WaitDeployment(waitCtx, building.ID, 100*time.Millisecond)
	if err != nil || rebuilt.State != api.StateReady {
		t.Fatalf("the deployment that was building: %+v, %v", rebuilt, err)
	}
	if status, body := get(t, restoredAddr, restoredURL(sp.ProductionURL)); status != 200 || body != building.ID+" rebuilt" {
		t.Errorf("the rebuilt deployment serves %d %q", status, body)
	}
}

func TestRestoreRefusesWhatIsNotABackup(t *testing.T) {
	notABackup := filepath.Join(t.TempDir(), "notes.tar.gz")
	writeFile(t, notABackup, "just text")
	out, err := ferry(t, "restore", "--data-dir", shortDataDir(t), notABackup)
	if err == nil || !strings.Contains(out, "not a ferry backup") {
		t.Errorf("restoring a text file: %s %v", out, err)
	}
	if out, err := ferry(t, "backup", "--data-dir", shortDataDir(t)); err == nil || !strings.Contains(out, "takes one file") {
		t.Errorf("backup without a file: %s %v", out, err)
	}
}
