package engine_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/client"
	"github.com/ferryhq/terraform-provider-ferry/internal/freeport"
)

// sizedApp answers 1000 bytes to every request.
const sizedApp = `def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"x" * 1000]
`

// N requests of a known size count N requests and their bytes, exactly; the build counts at
// most its own duration; function time counts the memory limit times at most the time the
// instance ran; and another project's usage stays apart.
func TestUsageIsMeteredExactly(t *testing.T) {
	needFlask(t)
	c, addr := startEngine(t)
	ctx := context.Background()
	p, err := c.CreateProject(ctx, api.ProjectRequest{Name: "metered", Limits: &api.Limits{MemoryMB: 256}})
	if err != nil {
		t.Fatal(err)
	}
	other, err := c.CreateProject(ctx, api.ProjectRequest{Name: "other"})
	if err != nil {
		t.Fatal(err)
	}
	src := t.TempDir()
	writeFile(t, filepath.Join(src, "app.py"), sizedApp)
	d := deploy(t, c, p.ID, src)
	if d.State != api.StateReady {
		t.Fatalf("deployment: %+v", d)
	}
	built := d.ReadyAt.Sub(d.CreatedAt) + time.Millisecond // the store keeps milliseconds
	first := time.Now()
	const n = 40
	for i := range n {
		req, _ := http.NewRequest("GET", "http://"+addr+"/", nil)
		req.Host = d.Hostname
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("request %d: %s", i, resp.Status)
		}
	}
	report, err := c.Usage(ctx, client.UsageQuery{Project: "metered"})
	ran := time.Since(first)
	if err != nil {
		t.Fatal(err)
	}
	if len(report.Days) != 1 || report.Days[0].Project != "metered" || report.Days[0].ProjectID != p.ID {
		t.Fatalf("days: %+v", report.Days)
	}
	got := report.Totals
	if got.Requests != n || got.BytesOut != n*1000 {
		t.Errorf("metered %d requests, %d bytes out; want %d and %d", got.Requests, got.BytesOut, n, n*1000)
	}
	if most := built.Minutes(); got.BuildMinutes <= 0 || got.BuildMinutes > most {
		t.Errorf("build minutes %.4f; want more than 0, at most the %.4f from create to ready", got.BuildMinutes, most)
	}
	if most := 256.0 / 1024 * ran.Hours(); got.FunctionGBHours <= 0 || got.FunctionGBHours > most*1.01 {
		t.Errorf("function GB-hours %.8f; want more than 0, at most %.8f (256 MB for the %s since the first request)", got.FunctionGBHours, most, ran)
	}
	if today := time.Now().UTC().Format(api.DateLayout); report.Days[0].Date != today || report.Until <= today {
		t.Errorf("report %s to %s, day %s; want today %s in", report.Since, report.Until, report.Days[0].Date, today)
	}
	if all, err := c.Usage(ctx, client.UsageQuery{}); err != nil || all.Totals.Requests != n {
		t.Errorf("every project: %+v, %v", all, err)
	}
	if none, err := c.Usage(ctx, client.UsageQuery{Project: other.ID}); err != nil || len(none.Days) != 0 || none.Totals.Requests != 0 {
		t.Errorf("the other project: %+v, %v", none, err)
	}

	// Bad days are refused with what to write.
	for q, want := range map[client.UsageQuery]int{
		{Since: "yesterday"}: 400, {Since: "2026-12-02", Until: "2026-12-01"}: 400, {Project: "nope"}: 404,
	} {
		_, err := c.Usage(ctx, q)
		var apiErr *client.Error
		if !errors.As(err, &apiErr) || apiErr.StatusCode != want {
			t.Errorf("usage of %+v: %v; want %d", q, err, want)
		}
	}
}

// What was metered in the last seconds before the engine stopped is in the store when it
// starts again.
func TestUsageSurvivesARestart(t *testing.T) {
	needFlask(t)
	dataDir, addr := shortDataDir(t), freeport.Loopback(t)
	c, stop := runEngine(t, dataDir, addr)
	ctx := context.Background()
	p, err := c.CreateProject(ctx, api.ProjectRequest{Name: "metered"})
	if err != nil {
		t.Fatal(err)
	}
	src := t.TempDir()
	writeFile(t, filepath.Join(src, "app.py"), sizedApp)
	d := deploy(t, c, p.ID, src)
	for range 5 {
		if problem := getApp(http.DefaultClient, addr, d.Hostname, strings.Repeat("x", 1000)); problem != "" {
			t.Fatal(problem)
		}
	}
	stop()
	c, stop = runEngine(t, dataDir, addr)
	defer stop()
	report, err := c.Usage(ctx, client.UsageQuery{Project: p.ID})
	if err != nil || report.Totals.Requests != 5 || report.Totals.BytesOut != 5000 || report.Totals.FunctionGBHours <= 0 {
		t.Errorf("usage after a restart: %+v, %v; want the 5 requests, their 5000 bytes and the instance's time", report, err)
	}
}
