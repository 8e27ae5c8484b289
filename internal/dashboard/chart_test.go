package dashboard

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
)

func TestMetricsChartsDrawTheEnginesSeries(t *testing.T) {
	start := time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC)
	m := api.DeploymentMetrics{DeploymentID: "dpl_1", StepSeconds: 60, Points: []api.MetricsPoint{
		{Start: start, Requests: 10, Errors: 1, ColdStarts: 1, P50MS: 2, P99MS: 40},
		// minute 1 had no requests: omitted by the engine
		{Start: start.Add(2 * time.Minute), Requests: 20, P50MS: 3, P99MS: 8},
		{Start: start.Add(-time.Hour), Requests: 99}, // before the window: not drawn
	}}
	charts := metricsCharts(m, start.Add(20*time.Second), 3)
	if len(charts) != 4 {
		t.Fatalf("%d charts, want requests, errors, latency and cold starts", len(charts))
	}
	requests := charts[0].Series[0].Values
	if requests[0] != 10 || requests[1] != 0 || requests[2] != 20 {
		t.Fatalf("requests per minute: %v, want [10 0 20]", requests)
	}
	p99 := charts[2].Series[1].Values
	if p99[0] != 40 || !math.IsNaN(p99[1]) || p99[2] != 8 {
		t.Fatalf("p99 per minute: %v, want [40 NaN 8]", p99)
	}

	svg := string(charts[0].SVG())
	// 20 requests is the top of the chart (y 16); 10 is halfway down its 104 units (y 68).
	for _, want := range []string{"max 20", `d="M0.0 68.0 l0 0 L300.0 120.0 L600.0 16.0"`, "10:00", "10:02 UTC", `role="img"`} {
		if !strings.Contains(svg, want) {
			t.Errorf("requests chart lacks %q:\n%s", want, svg)
		}
	}
	// The latency line breaks at the minute without requests.
	latency := string(charts[2].SVG())
	if !strings.Contains(latency, `d="M0.0 16.0 l0 0 M600.0 99.2 l0 0"`) || !strings.Contains(latency, "max 40 ms") {
		t.Errorf("latency chart:\n%s", latency)
	}
}
