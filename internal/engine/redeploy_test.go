package engine_test

import (
	"context"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/client"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine"
	"github.com/ferryhq/terraform-provider-ferry/internal/freeport"
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
// though the edge serves HTTPS on a port of its own, and the local CA's certificate is valid
// for it.
func TestURLVariablesWorkAsVercelAppsUseThem(t *testing.T) {
	needFlask(t)
	httpsAddress := freeport.Loopback(t)
	c, httpAddress, dataDir := startEngineWithDataDir(t, func(cfg *engine.Config) { cfg.HTTPSAddress = httpsAddress })
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
	httpsPort := port(httpsAddress)
	status, body := get(t, httpAddress, d.URL)
	vercelURL, productionURL, _ := strings.Cut(body, " ")
	productionURL, _, _ = strings.Cut(productionURL, " ")
	if status != 200 || vercelURL != d.Hostname+":"+httpsPort || productionURL != "links.localhost:"+httpsPort {
		t.Fatalf("GET %s: %d %q; want VERCEL_URL %s:%s", d.URL, status, body, d.Hostname, httpsPort)
	}

	caPEM, err := os.ReadFile(engine.LocalCACertificate(dataDir))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		t.Fatal("the local CA's certificate is not PEM")
	}
	for _, u := range []string{vercelURL, productionURL} {
		host, _, _ := net.SplitHostPort(u)
		resp, got, err := fetch(httpsAddress, host, "/", roots)
		if err != nil {
			t.Fatalf("https://%s: %v", u, err)
		}
		if resp.StatusCode != 200 || got != body {
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
