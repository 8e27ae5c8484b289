package edge

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestLocalCAIsKept(t *testing.T) {
	dir := t.TempDir()
	first, err := LoadOrCreateCA(dir)
	if err != nil {
		t.Fatal(err)
	}
	again, err := LoadOrCreateCA(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !first.cert.Equal(again.cert) {
		t.Error("a second start made another authority: certificates users trusted would stop working")
	}
	leaf, err := again.certificate("shop.localhost")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := leaf.Leaf.Verify(x509.VerifyOptions{Roots: first.Pool(), DNSName: "shop.localhost"}); err != nil {
		t.Errorf("a certificate of the reloaded authority does not verify: %v", err)
	}
}

// TestServeTLSToo: one port answers plain HTTP and TLS, so that "https://" + VERCEL_URL
// reaches the app; names the edge does not serve get no certificate.
func TestServeTLSToo(t *testing.T) {
	e := newTestEdge(t, Config{})
	e.project(t, "p1", "shop")
	e.deployment(t, "p1", "shop", "d1", "production", "READY")
	e.sync(t)
	ca, err := LoadOrCreateCA(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := e.router.Server()
	go func() { _ = srv.Serve(e.router.ServeTLSToo(l, ca)) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	addr := l.Addr().String()
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		},
		TLSClientConfig: &tls.Config{RootCAs: ca.Pool(), MinVersion: tls.VersionTLS12},
	}}
	_, port, _ := net.SplitHostPort(addr)
	for _, scheme := range []string{"http", "https"} {
		resp, err := client.Get(scheme + "://shop.localhost:" + port + "/")
		if err != nil {
			t.Fatalf("%s: %v", scheme, err)
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != 200 || !strings.HasPrefix(string(body), "d1 ") {
			t.Errorf("%s: %d %q", scheme, resp.StatusCode, body)
		}
		if wantTLS := scheme == "https"; (resp.TLS != nil) != wantTLS {
			t.Errorf("%s: served with TLS %v", scheme, resp.TLS != nil)
		}
	}
	if _, err := client.Get("https://nope.localhost:" + port + "/"); err == nil {
		t.Error("a name the edge does not serve got a certificate")
	}
	// A client that connects and says nothing holds up no other.
	idle, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = idle.Close() }()
	if resp, err := client.Get("http://shop.localhost:" + port + "/"); err != nil {
		t.Fatalf("a silent connection blocked the next: %v", err)
	} else {
		_ = resp.Body.Close()
	}
}
