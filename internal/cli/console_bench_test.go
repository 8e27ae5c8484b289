//go:build !windows

package cli

import (
	"context"
	"strings"
	"testing"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
)

// BenchmarkConsole measures console commands, each a whole run of the command line against a
// real engine, on a project of 21 deployments: listing them, moving production back and forth
// (a rollback, then a promote of the newest), and a redeploy that reuses the build.
func BenchmarkConsole(b *testing.B) {
	te := startTestEngine(b)
	ctx := context.Background()
	p, err := te.c.CreateProject(ctx, api.ProjectRequest{Name: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	first := te.deploy(b, p.ID, versionedApp(b, "1"))
	for range 20 {
		if _, err := te.c.Redeploy(ctx, first.ID, true, true); err != nil {
			b.Fatal(err)
		}
	}
	newest, err := te.c.GetProject(ctx, p.ID)
	if err != nil {
		b.Fatal(err)
	}
	ferry := func(args ...string) string {
		var stdout, stderr strings.Builder
		if code := execute(ctx, append([]string{"--data-dir", te.dataDir}, args...), strings.NewReader(""), &stdout, &stderr); code != 0 {
			b.Fatalf("ferry %v: exit %d, %s", args, code, stderr.String())
		}
		return stdout.String()
	}
	b.Run("deployments", func(b *testing.B) {
		for b.Loop() {
			ferry("deployments", "bench")
		}
	})
	b.Run("rollback+promote", func(b *testing.B) {
		for b.Loop() {
			ferry("rollback", "--project", "bench")
			ferry("promote", newest.ProductionDeploymentID)
		}
	})
	b.Run("redeploy", func(b *testing.B) {
		for b.Loop() {
			if out := ferry("redeploy", first.ID); !strings.Contains(out, " READY in ") {
				b.Fatal(out)
			}
		}
	})
}
