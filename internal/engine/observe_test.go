package engine_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/client"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/logrotate"
	"github.com/ferryhq/terraform-provider-ferry/internal/freeport"
	"github.com/ferryhq/terraform-provider-ferry/internal/logbuffer"
)

// waitForText waits until what has come to log so far is as want says.
func waitForText(t *testing.T, what string, log *logbuffer.Buffer, want func(string) bool) {
	t.Helper()
	waitFor(t, what, func() string {
		if got := log.String(); !want(got) {
			return "so far: " + got
		}
		return ""
	})
}

// writePrintingApp writes a Flask app that prints a line naming each request's path.
func writePrintingApp(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "app.py"), `from flask import Flask, request
app = Flask(__name__)

@app.get("/")
@app.get("/<path:path>")
def index(path=""):
    print("served /" + path, flush=True)
    if path == "fail":
        return "broken\n", 503
    return "hello " + path + "\n"
`)
	writeFile(t, filepath.Join(dir, "requirements.txt"), "flask\n")
	return dir
}

// What an app prints is in its runtime log, read whole or followed, per deployment and per
// project; a deleted deployment's log is gone and its follow ends.
func TestRuntimeLogThroughTheAPI(t *testing.T) {
	needFlask(t)
	c, addr, dataDir := startEngineWithDataDir(t)
	ctx := context.Background()
	p := newProject(t, c, "printer")
	d := deploy(t, c, p.ID, writePrintingApp(t))
	if d.State != api.StateReady {
		t.Fatalf("deployment: %s %s", d.State, d.ErrorMessage)
	}

	var followed, projectFollowed logbuffer.Buffer
	followCtx, stopFollowing := context.WithCancel(ctx)
	defer stopFollowing()
	followEnded := make(chan error, 1)
	go func() { followEnded <- c.FollowRuntimeLog(followCtx, d.ID, 10, &followed) }()
	projectEnded := make(chan error, 1)
	go func() { projectEnded <- c.FollowProjectRuntimeLog(followCtx, p.Name, 10, true, &projectFollowed) }()

	if status, body := get(t, addr, at(d, "/first")); status != 200 {
		t.Fatalf("GET /first: %d %q", status, body)
	}
	waitForText(t, "the line in the followed log", &followed, func(got string) bool {
		return strings.Contains(got, "served /first\n")
	})
	waitForText(t, "the prefixed line in the project's followed log", &projectFollowed, func(got string) bool {
		return strings.Contains(got, d.ID+" served /first\n")
	})
	if status, _ := get(t, addr, at(d, "/second")); status != 200 {
		t.Fatalf("GET /second: %d", status)
	}
	waitForText(t, "the second line in the followed log", &followed, func(got string) bool {
		return strings.Contains(got, "served /first\nserved /second\n")
	})

	// Housekeeping rotates the log under the followers: they lose and repeat nothing.
	if rotated, err := logrotate.Rotate(filepath.Join(dataDir, "logs", d.ID+".log"), 1); err != nil || !rotated {
		t.Fatalf("rotate the runtime log: %v, %v", rotated, err)
	}
	if status, _ := get(t, addr, at(d, "/third")); status != 200 {
		t.Fatalf("GET /third: %d", status)
	}
	waitForText(t, "the line after the rotation in the followed log", &followed, func(got string) bool {
		return strings.HasSuffix(got, "served /first\nserved /second\nserved /third\n")
	})

	waitForText(t, "each line once in the project's followed log", &projectFollowed, func(got string) bool {
		return strings.Count(got, d.ID+" served /") == 3 && strings.Contains(got, d.ID+" served /third\n")
	})

	text, err := c.RuntimeLog(ctx, d.ID, 2)
	if err != nil {
		t.Fatal(err)
	}
	if text != "served /second\nserved /third\n" {
		t.Errorf("tail=2 across the rotation: %q, want the last two lines", text)
	}
	var project bytes.Buffer
	if err := c.FollowProjectRuntimeLog(ctx, p.ID, 0, false, &project); err != nil {
		t.Fatal(err)
	}
	if want := d.ID + " served /first\n" + d.ID + " served /second\n" + d.ID + " served /third\n"; !strings.Contains(project.String(), want) {
		t.Errorf("project runtime log %q lacks %q", project.String(), want)
	}

	if err := c.DeleteDeployment(ctx, d.ID); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-followEnded:
		if err != nil {
			t.Errorf("follow of a deleted deployment ended with %v, want a clean end", err)
		}
	case <-time.After(10 * time.Second):
		t.Error("the follow of a deleted deployment did not end")
	}
	var apiErr *client.Error
	if _, err := c.RuntimeLog(ctx, d.ID, 0); !errors.As(err, &apiErr) || apiErr.StatusCode != 404 {
		t.Errorf("runtime log of a deleted deployment: %v, want 404", err)
	}
	project.Reset()
	if err := c.FollowProjectRuntimeLog(ctx, p.ID, 100, false, &project); err != nil {
		t.Fatal(err)
	}
	if project.Len() != 0 {
		t.Errorf("the project's runtime log still shows a deleted deployment: %q", project.String())
	}
	stopFollowing()
	if err := <-projectEnded; err != nil {
		t.Errorf("project follow ended by its caller: %v", err)
	}
}

// apiGet sends GET path to the API on its unix socket, with the engine's own access.
func apiGet(t *testing.T, dataDir, path string) (int, string) {
	t.Helper()
	socket := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", filepath.Join(dataDir, api.SocketName))
	}}}
	req, _ := http.NewRequest("GET", "http://engine"+path, nil)
	return send(t, socket, req)
}

// metricValue is the value of the sample of the Prometheus text exposition that starts with
// series (name and labels as the exposition writes them), or -1.
func metricValue(exposition, series string) float64 {
	for line := range strings.Lines(exposition) {
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			if err == nil {
				return v
			}
		}
	}
	return -1
}

// Every request the edge answers for a deployment is in its access log, its metrics and its
// per-minute series, the first one as a cold start; /metrics is behind the API's token; bad
// query parameters get a 400 naming them; a deleted deployment's records are gone.
func TestAccessLogAndMetrics(t *testing.T) {
	needFlask(t)
	const token = "t0ken-of-the-metrics-test"
	apiAddress := freeport.Loopback(t)
	c, addr, dataDir := startEngineWithDataDir(t, func(cfg *engine.Config) { cfg.APIAddress, cfg.Token = apiAddress, token })
	ctx := context.Background()
	p := newProject(t, c, "counted")
	d := deploy(t, c, p.ID, writePrintingApp(t))
	if d.State != api.StateReady {
		t.Fatalf("deployment: %s %s", d.State, d.ErrorMessage)
	}

	type sent struct {
		path   string
		status int
		body   string
	}
	requests := []sent{
		{"/a?token=secret-query", 200, "hello a\n"}, {"/b", 200, "hello b\n"}, {"/fail", 503, "broken\n"},
		{"/c", 200, "hello c\n"}, {"/d/e", 200, "hello d/e\n"},
	}
	for _, r := range requests {
		if status, body := get(t, addr, d.URL+r.path); status != r.status || body != r.body {
			t.Fatalf("GET %s: %d %q, want %d %q", r.path, status, body, r.status, r.body)
		}
	}

	log, err := c.RequestLog(ctx, d.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(log.Requests) != len(requests) {
		t.Fatalf("access log has %d entries, want %d: %+v", len(log.Requests), len(requests), log.Requests)
	}
	host, _, _ := strings.Cut(hostOf(t, d.URL), ":")
	for i, e := range log.Requests {
		want := requests[i]
		wantPath, _, _ := strings.Cut(want.path, "?")
		if e.DeploymentID != d.ID || e.Method != "GET" || e.Host != host || e.Path != wantPath || e.Status != want.status ||
			e.BytesOut != int64(len(want.body)) || e.DurationMS <= 0 || e.ColdStart != (i == 0) || time.Since(e.Time) > time.Minute {
			t.Errorf("entry %d: %+v, want GET %s%s %d with %d bytes, cold start %v", i, e, host, wantPath, want.status, len(want.body), i == 0)
		}
	}
	if raw, err := os.ReadFile(filepath.Join(dataDir, "logs", d.ID+".access.log")); err != nil || strings.Contains(string(raw), "secret-query") {
		t.Errorf("the access log file: %v, and it must not hold query strings:\n%s", err, raw)
	}
	if newest, err := c.RequestLog(ctx, d.ID, 2); err != nil || len(newest.Requests) != 2 || newest.Requests[1].Path != "/d/e" {
		t.Errorf("limit=2: %+v, %v; want the two newest, oldest first", newest, err)
	}

	series, err := c.DeploymentMetrics(ctx, d.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	var total api.MetricsPoint
	for _, point := range series.Points {
		total.Requests += point.Requests
		total.Errors += point.Errors
		total.ColdStarts += point.ColdStarts
		if point.P50MS <= 0 || point.P99MS < point.P50MS || point.Start.Second() != 0 {
			t.Errorf("point %+v: want p50 > 0, p99 >= p50, at the start of a minute", point)
		}
	}
	if series.StepSeconds != 60 || total.Requests != 5 || total.Errors != 1 || total.ColdStarts != 1 {
		t.Errorf("series %+v: want 5 requests, one 5xx, 1 cold start", series)
	}

	metricsOverTCP := func(bearer string) (int, string) {
		req, _ := http.NewRequest("GET", "http://"+apiAddress+api.PathMetrics, nil)
		req.Header.Set("Authorization", "Bearer "+bearer)
		return send(t, http.DefaultClient, req)
	}
	if status, _ := metricsOverTCP("wrong"); status != http.StatusUnauthorized {
		t.Errorf("/metrics with a wrong token: %d, want 401", status)
	}
	status, exposition := metricsOverTCP(token)
	if status != 200 {
		t.Fatalf("/metrics: %d %s", status, exposition)
	}
	labels := `{deployment="` + d.ID + `",project="counted",status_class=`
	for series, want := range map[string]float64{
		"ferry_http_requests_total" + labels + `"2xx"}`:                4,
		"ferry_http_requests_total" + labels + `"5xx"}`:                1,
		`ferry_http_request_duration_seconds_count{project="counted"}`: 5,
		`ferry_cold_starts_total{project="counted"}`:                   1,
		`ferry_cold_start_duration_seconds_count{project="counted"}`:   1,
		`ferry_builds_total{outcome="ready"}`:                          1,
		"ferry_build_duration_seconds_count":                           1,
		"ferry_running_instances":                                      1,
		"ferry_build_queue_depth":                                      0,
	} {
		if got := metricValue(exposition, series); got != want {
			t.Errorf("%s = %v, want %v", series, got, want)
		}
	}
	if status, body := apiGet(t, dataDir, api.PathMetrics); status != 200 || !strings.Contains(body, "ferry_http_requests_total") {
		t.Errorf("/metrics on the unix socket: %d", status)
	}

	for _, bad := range []struct{ path, field string }{
		{"/v1/deployments/" + d.ID + "/runtime-log?tail=-1", "tail"},
		{"/v1/deployments/" + d.ID + "/runtime-log?follow=maybe", "follow"},
		{"/v1/projects/" + p.Name + "/runtime-log?tail=lots", "tail"},
		{"/v1/deployments/" + d.ID + "/metrics?since=99h", "since"},
		{"/v1/deployments/" + d.ID + "/metrics?since=soon", "since"},
		{"/v1/deployments/" + d.ID + "/requests?limit=abc", "limit"},
		{"/v1/deployments/" + d.ID + "/requests?limit=5000", "limit"},
	} {
		status, body := apiGet(t, dataDir, bad.path)
		var e api.Error
		if err := json.Unmarshal([]byte(body), &e); status != 400 || err != nil || e.Field != bad.field || !strings.Contains(e.Message, "such as") {
			t.Errorf("GET %s: %d %s; want 400 naming %s with an example", bad.path, status, body, bad.field)
		}
	}

	if err := c.DeleteDeployment(ctx, d.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dataDir, "logs", d.ID+".access.log")); !os.IsNotExist(err) {
		t.Errorf("the access log of a deleted deployment: %v, want it gone", err)
	}
	var apiErr *client.Error
	if _, err := c.RequestLog(ctx, d.ID, 0); !errors.As(err, &apiErr) || apiErr.StatusCode != 404 {
		t.Errorf("access log of a deleted deployment: %v, want 404", err)
	}
	if _, exposition := metricsOverTCP(token); strings.Contains(exposition, d.ID) {
		t.Error("/metrics still labels a deleted deployment")
	}
}

// A followed log ends when the engine stops, rather than hold its shutdown until the drain runs out.
func TestFollowEndsWhenTheEngineStops(t *testing.T) {
	dataDir := shortDataDir(t)
	c, stop := runEngine(t, dataDir, freeport.Loopback(t))
	p := newProject(t, c, "quiet")
	ended := make(chan error, 1)
	go func() { ended <- c.FollowProjectRuntimeLog(context.Background(), p.ID, 0, true, io.Discard) }()
	time.Sleep(500 * time.Millisecond) // following
	stopped := make(chan struct{})
	go func() {
		stop()
		close(stopped)
	}()
	select {
	case err := <-ended:
		if err != nil {
			t.Errorf("the follow ended with %v, want a clean end", err)
		}
	case <-time.After(5 * time.Second):
		t.Error("the follow went on after the engine stopped")
	}
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Error("the engine's shutdown waited for the follow")
		<-stopped
	}
}
