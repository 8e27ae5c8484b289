package engine_test

import (
	"testing"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/freeport"
)

// BenchmarkCachedRebuild measures a deployment's create -> READY when its dependencies are in
// the build cache: an app that needs a package pip would install, deployed again unchanged.
func BenchmarkCachedRebuild(b *testing.B) {
	needModules(b, "pip")
	dataDir := shortDataDir(b)
	c, stop := runEngine(b, dataDir, freeport.Loopback(b))
	b.Cleanup(stop)
	p := newProject(b, c, "bench")
	source := writeTree(b, wheelFiles(b))
	request := api.DeploymentRequest{ProjectID: p.ID, Production: true}
	if d := deployRequest(b, c, source, request); d.State != api.StateReady {
		b.Fatalf("the first build: %s %s", d.State, d.ErrorMessage)
	}
	for b.Loop() {
		if d := deployRequest(b, c, source, request); d.State != api.StateReady {
			b.Fatalf("%s %s", d.State, d.ErrorMessage)
		}
	}
}
