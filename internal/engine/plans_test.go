package engine_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/client"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store/sqlite"
)

// A team on hobby past its bandwidth has its apps answer 429 with a page saying why, its new
// deployments refused once past its build minutes; on pro it is served, with the overage in
// its plan's status; nothing deployed is lost; deleting a project does not reset the month.
func TestPlanLimitsThroughTheEngine(t *testing.T) {
	needFlask(t)
	c, addr, dataDir := startEngineWithDataDir(t)
	ctx := context.Background()
	if _, err := c.CreateTeam(ctx, api.TeamRequest{Name: "small"}); err != nil {
		t.Fatal(err)
	}
	p, err := c.CreateProject(ctx, api.ProjectRequest{Name: "busy", Team: "small"})
	if err != nil {
		t.Fatal(err)
	}
	src := t.TempDir()
	writeFile(t, filepath.Join(src, "app.py"), sizedApp)
	d := deploy(t, c, p.ID, src)

	// What the meters of the engine would have stored after a busy month.
	st, err := sqlite.Open(ctx, filepath.Join(dataDir, engine.DBName))
	if err != nil {
		t.Fatal(err)
	}
	err = st.AddUsage(ctx, []store.UsageRecord{{ProjectID: p.ID, Day: time.Now(), BytesOut: 101e9, BuildMillis: 6000 * 60000}})
	_ = st.Close()
	if err != nil {
		t.Fatal(err)
	}
	if team, err := c.SetTeamPlan(ctx, "small", "hobby"); err != nil || team.Plan != "hobby" {
		t.Fatalf("set plan hobby: %+v, %v", team, err)
	}
	req, _ := http.NewRequest("GET", "http://"+addr+"/", nil)
	req.Host = d.Hostname
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(string(body), "team small passed the bandwidth of plan hobby") {
		t.Errorf("an app of a team past hobby's bandwidth: %d %q", resp.StatusCode, body)
	}
	_, err = c.Deploy(ctx, p.ID, src, true)
	var apiErr *client.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusForbidden || !strings.Contains(err.Error(), "6000 build minutes of plan hobby") {
		t.Errorf("a deployment past hobby's build minutes: %v", err)
	}
	status, err := c.TeamPlan(ctx, "small")
	if err != nil || status.Plan == nil || len(status.Over) != 2 {
		t.Errorf("hobby's status: %+v, %v; want bandwidth and build minutes over", status, err)
	}

	// On pro: served, with the overage reported.
	if _, err := c.SetTeamPlan(ctx, "small", "pro"); err != nil {
		t.Fatal(err)
	}
	if problem := getApp(http.DefaultClient, addr, d.Hostname, strings.Repeat("x", 1000)); problem != "" {
		t.Errorf("on pro: %s", problem)
	}
	if again := deploy(t, c, p.ID, src); again.State != api.StateReady {
		t.Errorf("a deployment on pro: %+v", again)
	}
	if status, err := c.TeamPlan(ctx, "small"); err != nil || len(status.Over) != 0 || status.Used.BytesOut < 101e9 {
		t.Errorf("pro's status: %+v, %v", status, err)
	}

	// What a deleted project used still counts for its team: a new one does not start afresh.
	if _, err := c.SetTeamPlan(ctx, "small", "hobby"); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteProject(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	fresh, err := c.CreateProject(ctx, api.ProjectRequest{Name: "fresh", Team: "small"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Deploy(ctx, fresh.ID, src, true)
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusForbidden || !strings.Contains(err.Error(), "6000 build minutes of plan hobby") {
		t.Errorf("a new project's deployment, once the team's busy project is deleted: %v", err)
	}
}

// A team on hobby builds one at a time: of two projects deploying at once, the second builds
// once the first is done, while a project of a team without a plan builds beside the first.
func TestConcurrentBuildsOfAPlan(t *testing.T) {
	c, _ := startEngine(t, func(cfg *engine.Config) { cfg.BuildWorkers = 3 })
	ctx := context.Background()
	if _, err := c.CreateTeam(ctx, api.TeamRequest{Name: "small"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SetTeamPlan(ctx, "small", "hobby"); err != nil {
		t.Fatal(err)
	}
	const buildSeconds = 2
	skip, slow := "true", fmt.Sprintf("sleep %d", buildSeconds)
	src := t.TempDir()
	writeFile(t, filepath.Join(src, "app.py"), "def app(environ, start_response):\n    start_response('200 OK', [])\n    return [b'ok']\n")
	var queued []*api.Deployment
	for _, p := range []api.ProjectRequest{{Name: "first", Team: "small"}, {Name: "second", Team: "small"}, {Name: "free"}} {
		p.InstallCommand, p.BuildCommand = &skip, &slow
		project, err := c.CreateProject(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		d, err := c.Deploy(ctx, project.ID, src, false)
		if err != nil {
			t.Fatal(err)
		}
		queued = append(queued, d)
	}
	waitCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	ready := map[string]time.Time{}
	for i, d := range queued {
		got, err := c.WaitDeployment(waitCtx, d.ID, 50*time.Millisecond)
		if err != nil || got.State != api.StateReady || got.ReadyAt == nil {
			t.Fatalf("deployment %d: %+v, %v", i, got, err)
		}
		ready[[]string{"first", "second", "free"}[i]] = *got.ReadyAt
	}
	if waited := ready["second"].Sub(ready["first"]); waited < buildSeconds*time.Second {
		t.Errorf("the second build of the hobby team was ready %v after the first, want at least its own %d s: they built at once", waited, buildSeconds)
	}
	if ahead := ready["second"].Sub(ready["free"]); ahead < buildSeconds*time.Second/2 {
		t.Errorf("the build of the team without a plan was ready %v before the hobby team's second, want about %d s: it did not build beside the first", ahead, buildSeconds)
	}
}
