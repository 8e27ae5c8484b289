package engine_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
)

// BenchmarkEngineMemory reports the resident memory of an engine process that holds 100 READY
// deployments with no instance running (scaled to zero, as previews mostly are), and what each
// deployment adds to it. The target is under 100 MB for the 100.
func BenchmarkEngineMemory(b *testing.B) {
	needFlask(b)
	c, _ := startEngine(b)
	ctx := context.Background()
	health, err := c.Health(ctx)
	if err != nil {
		b.Fatal(err)
	}
	p, err := c.CreateProject(ctx, api.ProjectRequest{Name: "memory"})
	if err != nil {
		b.Fatal(err)
	}
	first := deploy(b, c, p.ID, writeApp(b, "1"))
	before := residentMB(b, health.PID)
	const deployments = 100
	for range deployments - 1 {
		// A redeploy serves the first one's build with its own env: a deployment without a build.
		if _, err := c.Redeploy(ctx, first.ID, false, true); err != nil {
			b.Fatal(err)
		}
	}
	list, err := c.ListDeployments(ctx, p.ID)
	if err != nil || len(list) != deployments {
		b.Fatalf("%d deployments, %v", len(list), err)
	}
	var resident float64
	for b.Loop() {
		resident = residentMB(b, health.PID)
	}
	b.ReportMetric(resident, "engine-RSS-MB")
	b.ReportMetric((resident-before)*1024/(deployments-1), "KB/deployment")
}

// residentMB is the resident set of process pid, in MB.
func residentMB(b *testing.B, pid int) float64 {
	b.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Skipf("no /proc: %v", err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			if err != nil {
				b.Fatal(err)
			}
			return kb / 1024
		}
	}
	b.Fatal("no VmRSS in /proc/PID/status")
	return 0
}
