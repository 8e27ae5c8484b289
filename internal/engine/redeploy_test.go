package engine_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/client"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/edge"
)

// urlApp answers with the URL variables an app builds links from.
const urlApp = `import os
from flask import Flask
app = Flask(__name__)

@app.get("/")
def index():
    return " ".join(os.environ.get(k, "-") for k in ("VERCEL_URL", "VERCEL_PROJECT_PRODUCTION_URL", "GREETING"))
`

// TestURLVariablesWorkAsVercelAppsUseThem: "https://" + VERCEL_URL reaches the deployment,
// though the edge serves on a port of its own, and the local authority's certificate is valid
// for it.
func TestURLVariablesWorkAsVercelAppsUseThem(t *testing.T) {
	needFlask(t)
	c, httpAddress, dataDir := startEngineWithDataDir(t)
	ctx := context.Background()
	p, err := c.CreateProject(ctx, api.ProjectRequest{Name: "links"})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "app.py"), urlApp)
	d := deploy(t, c, p.ID, dir)
	if d.State != api.StateReady {
		t.Fatalf("deployment %s: %s", d.State, d.ErrorMessage)
	}
	_, port, _ := net.SplitHostPort(httpAddress)
	status, body := get(t, httpAddress, d.URL)
	vercelURL, productionURL, _ := strings.Cut(body, " ")
	productionURL, _, _ = strings.Cut(productionURL, " ")
	if status != 200 || vercelURL != d.Hostname+":"+port || productionURL != "links.localhost:"+port {
		t.Fatalf("GET %s: %d %q; want VERCEL_URL %s:%s", d.URL, status, body, d.Hostname, port)
	}

	caPEM, err := os.ReadFile(filepath.Join(dataDir, "tls", edge.CACertName))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		t.Fatal("the local authority's certificate is not PEM")
	}
	httpsClient := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, httpAddress)
		},
		TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
	}}
	for _, u := range []string{vercelURL, productionURL} {
		resp, err := httpsClient.Get("https://" + u + "/")
		if err != nil {
			t.Fatalf("https://%s: %v", u, err)
		}
		got, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != 200 || string(got) != body {
			t.Errorf("https://%s: %d %q, want %q", u, resp.StatusCode, got, body)
		}
	}
}

// BenchmarkRedeploy measures an env change going live: a deployment of an unchanged source
// after a new env var value, from the request to READY, which is a redeploy (no build). The
// first answer of the redeploy (a fresh app instance) is reported as first-response-ms, outside
// the time per operation.
func BenchmarkRedeploy(b *testing.B) {
	needFlask(b)
	c, httpAddress, dataDir := startEngineWithDataDir(b)
	ctx := context.Background()
	p, err := c.CreateProject(ctx, api.ProjectRequest{Name: "redeploy"})
	if err != nil {
		b.Fatal(err)
	}
	greeting, err := c.CreateEnvVar(ctx, p.ID, api.EnvVarRequest{Key: "GREETING", Value: "0", Targets: []string{api.TargetProduction}})
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	writeFile(b, filepath.Join(dir, "app.py"), urlApp)
	writeFile(b, filepath.Join(dir, "requirements.txt"), "flask\n")
	if d := deploy(b, c, p.ID, dir); d.State != api.StateReady {
		b.Fatalf("first build: %s %s", d.State, d.ErrorMessage)
	}
	files, err := client.CollectFiles(dir)
	if err != nil {
		b.Fatal(err)
	}
	var firstResponse time.Duration
	previous := ""
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		value := fmt.Sprint(i + 1)
		if _, err := c.UpdateEnvVar(ctx, p.ID, greeting.ID, api.EnvVarRequest{Key: "GREETING", Value: value, Targets: []string{api.TargetProduction}}); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		d, err := c.CreateDeployment(ctx, api.DeploymentRequest{ProjectID: p.ID, Files: files, Production: true})
		if err != nil {
			b.Fatal(err)
		}
		if d.State != api.StateReady || d.ReusedBuildOf == "" {
			b.Fatalf("deployment %s is %s, reusing %q: not a redeploy", d.ID, d.State, d.ReusedBuildOf)
		}
		b.StopTimer()
		began := time.Now()
		if status, body := get(b, httpAddress, p.ProductionURL); status != 200 || !strings.HasSuffix(body, " "+value) {
			log, _ := os.ReadFile(filepath.Join(dataDir, "logs", d.ID+".log"))
			b.Fatalf("production after the redeploy: %d %q, want GREETING %s; the deployment's log:\n%s", status, body, value, log)
		}
		firstResponse += time.Since(began)
		// The previous redeploy goes, with its instance: a project's instances share one
		// uid, whose process limit a pile of idle instances would use up.
		if previous != "" {
			if err := c.DeleteDeployment(ctx, previous); err != nil {
				b.Fatal(err)
			}
		}
		previous = d.ID
		b.StartTimer()
	}
	b.ReportMetric(float64(firstResponse.Milliseconds())/float64(b.N), "first-response-ms")
}
