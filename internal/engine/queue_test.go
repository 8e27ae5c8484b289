package engine_test

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/client"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine"
)

// buildProcessesLeft reports whether a process with marker in its command line runs.
func buildProcessesLeft(marker string) bool {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		if cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline")); err == nil && bytes.Contains(cmdline, []byte(marker)) {
			return true
		}
	}
	return false
}

// Through the client: a full queue answers 429, cancel stops a build.
func TestQueueLimitAndCancelThroughTheAPI(t *testing.T) {
	c, _ := startEngine(t, func(cfg *engine.Config) { cfg.BuildWorkers, cfg.MaxQueuedBuilds = 1, 1 })
	ctx := context.Background()
	skip, hang := "true", "sleep 1000.125"
	p, err := c.CreateProject(ctx, api.ProjectRequest{Name: "hang", InstallCommand: &skip, BuildCommand: &hang})
	if err != nil {
		t.Fatal(err)
	}
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "app.py"), []byte("def app(environ, start_response):\n    return []\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	building, err := c.Deploy(ctx, p.ID, src, false)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 600 && !buildProcessesLeft("1000.125"); i++ {
		time.Sleep(50 * time.Millisecond)
	}
	queued, err := c.Deploy(ctx, p.ID, src, false)
	if err != nil {
		t.Fatal(err)
	}
	refused, err := c.Deploy(ctx, p.ID, src, false)
	if e, ok := client.AsError(err); !ok || e.StatusCode != http.StatusTooManyRequests || e.Code != api.CodeQueueFull {
		t.Fatalf("deployment beyond the queue: %+v %v; want 429 %s", refused, err, api.CodeQueueFull)
	}
	if list, _ := c.ListDeployments(ctx, p.ID); len(list) != 2 {
		t.Errorf("%d deployments after the refusal, want 2", len(list))
	}

	for _, d := range []*api.Deployment{building, queued} {
		got, err := c.CancelDeployment(ctx, d.ID)
		if err != nil || got.State != api.StateCanceled {
			t.Fatalf("cancel %s: %+v %v", d.ID, got, err)
		}
	}
	if buildProcessesLeft("1000.125") {
		t.Error("the canceled build's processes still run")
	}
	if got, _ := c.GetDeployment(ctx, queued.ID); got.State != api.StateCanceled {
		t.Errorf("the canceled queued deployment is %s", got.State)
	}
}
