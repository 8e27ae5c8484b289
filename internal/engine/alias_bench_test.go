package engine_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
)

// BenchmarkRollback measures an instant rollback: from the API call that
// points production at another READY deployment to the moment the edge
// routes every new request there (the call returns only then; each
// iteration checks that the next request is served by the target).
func BenchmarkRollback(b *testing.B) {
	c, addr := startEngine(b)
	ctx := context.Background()
	p, err := c.CreateProject(ctx, api.ProjectRequest{Name: "rollback"})
	if err != nil {
		b.Fatal(err)
	}
	ids := map[string]string{}
	for _, version := range []string{"v1", "v2"} {
		src := b.TempDir()
		writeFile(b, filepath.Join(src, "app.py"), "def app(environ, start_response):\n    start_response('200 OK', [])\n    return [b'"+version+"']\n")
		d, err := c.Deploy(ctx, p.ID, src, true)
		if err != nil {
			b.Fatal(err)
		}
		if d, err = c.WaitDeployment(ctx, d.ID, 20*time.Millisecond); err != nil || d.State != api.StateReady {
			b.Fatalf("deployment %s: %+v %v", version, d, err)
		}
		ids[version] = d.ID
		if status, body := get(b, addr, d.URL); status != 200 || body != version {
			b.Fatalf("%s serves %d %q", version, status, body)
		}
	}
	project, err := c.GetProject(ctx, p.ID)
	if err != nil {
		b.Fatal(err)
	}
	targets := []string{"v1", "v2"}
	for i := 0; b.Loop(); i++ {
		target := targets[i%2]
		if _, err := c.PinAlias(ctx, p.ID, "", ids[target]); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if status, body := get(b, addr, project.ProductionURL); status != 200 || body != target {
			b.Fatalf("after the switch to %s, production serves %d %q", target, status, body)
		}
		b.StartTimer()
	}
}
