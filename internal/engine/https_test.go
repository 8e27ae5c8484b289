package engine_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine"
	"github.com/ferryhq/terraform-provider-ferry/internal/freeport"
)

// fetch sends GET path to host through address (over TLS trusting roots,
// when roots is set), without following redirects.
func fetch(address, host, path string, roots *x509.CertPool) (*http.Response, string, error) {
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	transport := &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, address)
		},
		TLSClientConfig: &tls.Config{RootCAs: roots},
	}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	scheme := "http://"
	if roots != nil {
		scheme = "https://"
	}
	resp, err := client.Get(scheme + host + path)
	if err != nil {
		return nil, "", err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	return resp, string(body), err
}

// The engine serves every project at https://<project>.localhost with a
// certificate of its local CA, which `ferry ca` exports; a .localhost domain
// is verified at once, certified, and sends plain HTTP to HTTPS.
func TestLocalHTTPS(t *testing.T) {
	needFlask(t)
	httpsAddress := freeport.Loopback(t)
	c, httpAddress, dataDir := startEngineWithDataDir(t, func(cfg *engine.Config) { cfg.HTTPSAddress = httpsAddress })
	ctx := context.Background()
	h, err := c.Health(ctx)
	if err != nil || h.HTTPSAddress != httpsAddress || len(h.PublicAddresses) != 1 || h.PublicAddresses[0] != "127.0.0.1" {
		t.Fatalf("health: %+v, %v", h, err)
	}
	p, err := c.CreateProject(ctx, api.ProjectRequest{Name: "hello"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateEnvVar(ctx, p.ID, api.EnvVarRequest{Key: "GREETING", Value: "hi", Targets: []string{"production"}}); err != nil {
		t.Fatal(err)
	}
	if d := deploy(t, c, p.ID, writeApp(t, "1")); d.State != api.StateReady {
		t.Fatalf("deployment: %s %s", d.State, d.ErrorMessage)
	}

	roots := localCARoots(t, dataDir)
	if info, err := os.Stat(filepath.Join(dataDir, engine.CADirName, "root.key")); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("the CA's key: %v, %v; want mode 0600", info, err)
	}
	resp, body, err := fetch(httpsAddress, "hello.localhost", "/", roots)
	if err != nil || resp.StatusCode != 200 || body != "v1 hi production" {
		t.Fatalf("https://hello.localhost: %v, %q", err, body)
	}
	if resp.Header.Get("Strict-Transport-Security") != "" {
		t.Error("HSTS on a project's own host")
	}
	if _, _, err := fetch(httpsAddress, "nope.localhost", "/", roots); err == nil || !strings.Contains(err.Error(), "internal error") {
		t.Errorf("a name the engine does not serve: %v, want a refused handshake", err)
	}

	d, err := c.CreateDomain(ctx, p.ID, api.DomainRequest{Name: "shop.localhost"})
	if err != nil || !d.Verified || len(d.Records) != 0 {
		t.Fatalf("a .localhost domain: %+v, %v", d, err)
	}
	waitFor(t, "the domain's certificate", func() string {
		d, err = c.GetDomain(ctx, p.ID, "shop.localhost")
		if err != nil || d.TLS.Status != api.TLSIssued {
			return d.TLS.Status + " " + d.TLS.Error
		}
		return ""
	})
	if !strings.HasPrefix(d.TLS.Issuer, "ferry local CA") || d.TLS.NotAfter == nil || d.URL != "https://shop.localhost:"+port(httpsAddress) {
		t.Errorf("certificate state: %+v, url %s", d.TLS, d.URL)
	}
	resp, _, err = fetch(httpAddress, "shop.localhost", "/x?y=1", nil)
	if err != nil || resp.StatusCode != http.StatusPermanentRedirect || resp.Header.Get("Location") != "https://shop.localhost:"+port(httpsAddress)+"/x?y=1" {
		t.Fatalf("http://shop.localhost: %v %v", resp, err)
	}
	if _, body, err := fetch(httpsAddress, "shop.localhost", "/", roots); err != nil || body != "v1 hi production" {
		t.Fatalf("https://shop.localhost: %v, %q", err, body)
	}

	if err := c.DeleteDomain(ctx, p.ID, "shop.localhost"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := fetch(httpsAddress, "shop.localhost", "/", roots); err == nil {
		t.Error("a removed domain is still served over HTTPS")
	}
	if resp, _, err := fetch(httpAddress, "shop.localhost", "/", nil); err != nil || resp.StatusCode != 404 {
		t.Errorf("a removed domain over HTTP: %v %v", resp, err)
	}
}

// localCARoots trusts the local CA of the engine of dataDir.
func localCARoots(t *testing.T, dataDir string) *x509.CertPool {
	t.Helper()
	caPEM, err := os.ReadFile(engine.LocalCACertificate(dataDir))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		t.Fatal("the local CA's file holds no certificate")
	}
	return roots
}

func port(address string) string {
	_, p, _ := net.SplitHostPort(address)
	return p
}

// The default HTTPS address gives way to a free port when taken; an address
// asked for does not.
func TestTakenHTTPSAddress(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = taken.Close() }()
	c, _ := startEngine(t, func(cfg *engine.Config) {
		cfg.HTTPSAddress, cfg.HTTPSAnyPortIfTaken = taken.Addr().String(), true
	})
	h, err := c.Health(context.Background())
	if err != nil || h.HTTPSAddress == "" || h.HTTPSAddress == taken.Addr().String() {
		t.Errorf("with the default address taken: %+v, %v", h, err)
	}

	_, err = engine.Start(context.Background(), engine.Config{DataDir: shortDataDir(t), HTTPAddress: freeport.Loopback(t), HTTPSAddress: taken.Addr().String(),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err == nil || !strings.Contains(err.Error(), "serve apps over HTTPS on "+taken.Addr().String()) {
		t.Errorf("an address asked for and taken: %v", err)
	}
}
