package engine_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
)

// A project's function settings reach its deployments' instances: a 1 s idle timeout stops an
// idle instance and the next request starts it; one instance of concurrency 1 queues a second
// request; a 1 s maximum duration gives 504, and vercel.json's maxDuration overrides it.
func TestProjectFunctionSettings(t *testing.T) {
	c, addr := startEngine(t)
	ctx := context.Background()
	p, err := c.CreateProject(ctx, api.ProjectRequest{Name: "tight", Limits: &api.Limits{FunctionSettings: api.FunctionSettings{
		IdleTimeoutSeconds: 1, Concurrency: 1, MaxInstances: 1, MaxDurationSeconds: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	app, err := os.ReadFile("testdata/sleepy/app.py")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "app.py"), string(app))
	d := deploy(t, c, p.ID, dir)
	if d.State != api.StateReady {
		t.Fatalf("build: %s %q", d.State, d.ErrorMessage)
	}

	if status, body := get(t, addr, d.URL+"/sleep?3"); status != http.StatusGatewayTimeout {
		t.Errorf("past the project's max duration of 1s: %d %q, want 504", status, body)
	}

	_, start := get(t, addr, d.URL)
	began := time.Now()
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			if status, body := get(t, addr, d.URL+"/sleep?0.5"); status != http.StatusOK {
				t.Errorf("a slow request: %d %q", status, body)
			}
		})
	}
	wg.Wait()
	if took := time.Since(began); took < time.Second {
		t.Errorf("two requests of 0.5s on one instance of concurrency 1 took %s together: they did not queue", took)
	}
	if status, again := get(t, addr, d.URL); status != http.StatusOK || again != start {
		t.Errorf("a request right after: %d, start %q, want the running one %q", status, again, start)
	}

	time.Sleep(2500 * time.Millisecond)
	if status, again := get(t, addr, d.URL); status != http.StatusOK || again == start {
		t.Errorf("a request after 2.5s idle: %d, start %q, want a new one, not %q", status, again, start)
	}

	// vercel.json's maxDuration wins over the project's.
	writeFile(t, filepath.Join(dir, "vercel.json"), `{"functions": {"app.py": {"maxDuration": 5}}}`)
	d = deploy(t, c, p.ID, dir)
	if status, body := get(t, addr, d.URL+"/sleep?2"); status != http.StatusOK {
		t.Errorf("within vercel.json's maxDuration of 5s: %d %q", status, body)
	}
}
