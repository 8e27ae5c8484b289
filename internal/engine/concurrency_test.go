package engine_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/client"
)

// whoAmIApp answers with the deployment and the project that serve it.
const whoAmIApp = `import os


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [(os.environ["VERCEL_DEPLOYMENT_ID"] + " " + os.environ["VERCEL_PROJECT_ID"]).encode()]
`

// TestConcurrentChangesKeepRoutingConsistent renames, creates, deploys,
// moves production (deploys and deletes of production deployments) and
// deletes, all at once, then checks that what is served agrees with the
// store and that nothing of what was deleted is left.
func TestConcurrentChangesKeepRoutingConsistent(t *testing.T) {
	c, addr, dataDir := startEngineWithDataDir(t)
	ctx := context.Background()
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "app.py"), []byte(whoAmIApp), 0o644); err != nil {
		t.Fatal(err)
	}
	names := []string{"red", "green", "blue", "gold", "teal", "pink"}
	for _, name := range names[:3] {
		p, err := c.CreateProject(ctx, api.ProjectRequest{Name: name})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Deploy(ctx, p.ID, src, true); err != nil {
			t.Fatal(err)
		}
	}

	var mu sync.Mutex
	deleted := map[string]bool{} // deployment ids
	randomProject := func() (api.Project, bool) {
		projects, err := c.ListProjects(ctx)
		if err != nil || len(projects) == 0 {
			return api.Project{}, false
		}
		return projects[rand.IntN(len(projects))], true
	}
	randomDeployment := func() (api.Project, api.Deployment, bool) {
		p, ok := randomProject()
		if !ok {
			return p, api.Deployment{}, false
		}
		list, err := c.ListDeployments(ctx, p.ID)
		if err != nil || len(list) == 0 {
			return p, api.Deployment{}, false
		}
		return p, list[rand.IntN(len(list))], true
	}
	// expected says whether err is an answer the operation may get when
	// others change things under it; anything else fails the test.
	expected := func(op string, err error) {
		if err != nil && !client.IsNotFound(err) && !client.IsConflict(err) {
			t.Errorf("%s: %v", op, err)
		}
	}
	pause := func() { time.Sleep(time.Duration(rand.IntN(30)) * time.Millisecond) }

	workers := map[string]func(){
		"rename": func() {
			for range 12 {
				if p, ok := randomProject(); ok {
					_, err := c.UpdateProject(ctx, p.ID, api.ProjectRequest{Name: names[rand.IntN(len(names))]})
					expected("rename", err)
				}
				pause()
			}
		},
		"rename again": func() {
			for range 12 {
				if p, ok := randomProject(); ok {
					_, err := c.UpdateProject(ctx, p.ID, api.ProjectRequest{Name: names[rand.IntN(len(names))]})
					expected("rename", err)
				}
				pause()
			}
		},
		"create": func() {
			for range 3 {
				p, err := c.CreateProject(ctx, api.ProjectRequest{Name: names[rand.IntN(len(names))]})
				expected("create", err)
				if err == nil {
					_, err = c.Deploy(ctx, p.ID, src, true)
					expected("deploy to a new project", err)
				}
				pause()
			}
		},
		"deploy": func() {
			for i := range 6 {
				if p, ok := randomProject(); ok {
					_, err := c.Deploy(ctx, p.ID, src, i%3 != 2)
					expected("deploy", err)
				}
				pause()
			}
		},
		"take over a deployment's host": func() {
			for range 6 {
				if p, d, ok := randomDeployment(); ok {
					label, _, _ := strings.Cut(d.Hostname, ".")
					_, err := c.CreateProject(ctx, api.ProjectRequest{Name: label})
					// Allowed only if the deployment was deleted meanwhile: deployments never come back.
					if _, getErr := c.GetDeployment(ctx, d.ID); !client.IsConflict(err) && !client.IsNotFound(getErr) {
						t.Errorf("project named after deployment host %s of %s: %v, want 409", d.Hostname, p.Name, err)
					}
				}
				pause()
			}
		},
		"delete": func() {
			for i := range 6 {
				if i == 4 {
					if p, ok := randomProject(); ok {
						list, _ := c.ListDeployments(ctx, p.ID)
						err := c.DeleteProject(ctx, p.ID)
						expected("delete project", err)
						if err == nil {
							mu.Lock()
							for _, d := range list {
								deleted[d.ID] = true
							}
							mu.Unlock()
						}
					}
					continue
				}
				if _, d, ok := randomDeployment(); ok {
					err := c.DeleteDeployment(ctx, d.ID)
					expected("delete deployment", err)
					if err == nil {
						mu.Lock()
						deleted[d.ID] = true
						mu.Unlock()
					}
				}
				pause()
			}
		},
	}
	var wg sync.WaitGroup
	for _, work := range workers {
		wg.Go(work)
	}
	wg.Wait()
	if t.Failed() {
		return
	}

	projects := settle(t, c)
	hosts := map[string]string{}
	claim := func(host, owner string) {
		if other, taken := hosts[host]; taken {
			t.Errorf("hostname %s belongs to %s and %s", host, other, owner)
		}
		hosts[host] = owner
	}
	live := map[string]bool{}
	for _, p := range projects {
		prodURL, _ := url.Parse(p.ProductionURL)
		claim(prodURL.Hostname(), "production of "+p.Name)
		list, err := c.ListDeployments(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		readyProduction := false
		for _, d := range list {
			live[d.ID] = true
			if d.ReusedBuildOf != "" {
				// A redeploy serves the build output in the directory of the deployment it names.
				live[d.ReusedBuildOf] = true
			}
			claim(d.Hostname, "deployment "+d.ID)
			status, body := get(t, addr, d.URL)
			switch {
			case d.State == api.StateReady && (status != 200 || body != d.ID+" "+p.ID):
				t.Errorf("READY deployment %s of %s at %s: %d %q", d.ID, p.Name, d.URL, status, body)
			case d.State != api.StateReady && status != 404:
				t.Errorf("%s deployment %s at %s: %d %q, want 404", d.State, d.ID, d.URL, status, body)
			}
			if d.State == api.StateReady && d.Target == api.TargetProduction {
				readyProduction = true
			}
		}
		status, body := get(t, addr, p.ProductionURL)
		switch {
		case p.ProductionDeploymentID != "" && (status != 200 || body != p.ProductionDeploymentID+" "+p.ID):
			t.Errorf("production of %s %s (%s): %d %q, want deployment %s", p.Name, p.ID, p.ProductionURL, status, body, p.ProductionDeploymentID)
		case p.ProductionDeploymentID == "" && readyProduction:
			t.Errorf("project %s has a READY production deployment but serves none", p.Name)
		case p.ProductionDeploymentID == "" && status != 404:
			t.Errorf("production of %s without a deployment: %d %q", p.Name, status, body)
		}
	}

	t.Logf("after the storm: %d projects, %d deployments, %d deleted", len(projects), len(live), len(deleted))
	for id := range deleted {
		if _, err := c.GetDeployment(ctx, id); !client.IsNotFound(err) {
			t.Errorf("deleted deployment %s: %v", id, err)
		}
	}
	deploymentsDir := filepath.Join(dataDir, "deployments")
	waitFor(t, "directories of deleted deployments to go", func() string {
		entries, _ := os.ReadDir(deploymentsDir)
		var left []string
		for _, e := range entries {
			if !live[e.Name()] {
				left = append(left, e.Name())
			}
		}
		if len(left) > 0 {
			return fmt.Sprint(left)
		}
		return ""
	})
	waitFor(t, "processes of deleted deployments to end", func() string {
		procs, _ := filepath.Glob("/proc/[0-9]*/cwd")
		var left []string
		for _, cwd := range procs {
			dir, err := os.Readlink(cwd)
			rel, inside := strings.CutPrefix(dir, deploymentsDir+"/")
			if err != nil || !inside {
				continue
			}
			if id, _, _ := strings.Cut(rel, "/"); !live[id] {
				left = append(left, cwd+" -> "+dir)
			}
		}
		if len(left) > 0 {
			return fmt.Sprint(left)
		}
		return ""
	})
}

// settle waits until no build is queued or running and returns the projects.
func settle(t *testing.T, c *client.Client) []api.Project {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		projects, err := c.ListProjects(ctx)
		if err != nil {
			t.Fatal(err)
		}
		busy := 0
		for _, p := range projects {
			list, err := c.ListDeployments(ctx, p.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range list {
				if d.State == api.StateQueued || d.State == api.StateBuilding {
					busy++
				}
			}
		}
		if busy == 0 {
			// Read again: a build may have finished, and moved production, since the list above.
			projects, err := c.ListProjects(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return projects
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d builds still unfinished", busy)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitFor waits a few seconds for what describes a problem to report none.
func waitFor(t *testing.T, what string, problem func() string) {
	t.Helper()
	var last string
	for range 100 {
		if last = problem(); last == "" {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Errorf("waited for %s: %s", what, last)
}
