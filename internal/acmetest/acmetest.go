// Package acmetest runs pebble, Let's Encrypt's ACME test server, for tests
// that obtain real certificates offline: it validates challenges against
// the test's own listeners and resolves names with the test's DNS server.
// A missing pebble binary is built with `go install` first.
package acmetest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/freeport"
)

// PebbleModule is the pebble built when none is found.
const PebbleModule = "github.com/letsencrypt/pebble/v2/cmd/pebble@v2.10.3"

// Options says where pebble validates.
type Options struct {
	DNS       string // host:port of the DNS server pebble resolves names with
	HTTPPort  int    // where it sends HTTP-01 validations
	TLSPort   int    // where it sends TLS-ALPN-01 validations
	Blocklist []string
}

// Pebble is a running pebble.
type Pebble struct {
	// Directory is the ACME directory URL.
	Directory string
	// CAFile holds the certificate that pebble's own HTTPS is signed with,
	// for clients of the ACME API to trust; CA is the same as a pool.
	CAFile string
	CA     *x509.CertPool
	mgmt   string
}

var installOnce sync.Once

// Binary finds pebble on PATH or in GOPATH/bin, or builds it there.
func Binary(t testing.TB) string {
	t.Helper()
	find := func() string {
		if path, err := exec.LookPath("pebble"); err == nil {
			return path
		}
		out, err := exec.Command("go", "env", "GOPATH").Output()
		if err != nil {
			return ""
		}
		path := filepath.Join(strings.TrimSpace(strings.Split(string(out), string(os.PathListSeparator))[0]), "bin", "pebble")
		if _, err := os.Stat(path); err != nil {
			return ""
		}
		return path
	}
	if path := find(); path != "" {
		return path
	}
	var installErr error
	installOnce.Do(func() {
		t.Logf("pebble not found: go install %s", PebbleModule)
		out, err := exec.Command("go", "install", PebbleModule).CombinedOutput()
		if err != nil {
			installErr = fmt.Errorf("go install %s: %v\n%s", PebbleModule, err, out)
		}
	})
	if installErr != nil {
		t.Fatal(installErr)
	}
	path := find()
	if path == "" {
		t.Fatalf("pebble is not on PATH or in GOPATH/bin after go install %s", PebbleModule)
	}
	return path
}

// Start runs pebble on ports of 127.0.0.1 until the test ends.
func Start(t testing.TB, opts Options) *Pebble {
	t.Helper()
	bin := Binary(t)
	dir := t.TempDir()
	caPEM, certPEM, keyPEM := serverCertificate(t)
	p := &Pebble{CAFile: filepath.Join(dir, "ca.pem"), CA: x509.NewCertPool()}
	p.CA.AppendCertsFromPEM(caPEM)
	addresses, err := freeport.Find("127.0.0.1", 2)
	if err != nil {
		t.Fatal(err)
	}
	listen, mgmt := addresses[0], addresses[1]
	p.Directory, p.mgmt = "https://"+listen+"/dir", "https://"+mgmt
	config := map[string]any{"pebble": map[string]any{
		"listenAddress":           listen,
		"managementListenAddress": mgmt,
		"certificate":             filepath.Join(dir, "cert.pem"),
		"privateKey":              filepath.Join(dir, "key.pem"),
		"httpPort":                opts.HTTPPort,
		"tlsPort":                 opts.TLSPort,
		"ocspResponderURL":        "",
		"domainBlocklist":         opts.Blocklist,
		"retryAfter":              map[string]int{"authz": 1, "order": 1},
		"keyAlgorithm":            "ecdsa",
		"profiles":                map[string]any{"default": map[string]any{"description": "test", "validityPeriod": 7776000}},
	}}
	configJSON, err := json.Marshal(config)
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"ca.pem": caPEM, "cert.pem": certPEM, "key.pem": keyPEM, "config.json": configJSON} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(bin, "-config", filepath.Join(dir, "config.json"), "-dnsserver", opts.DNS)
	cmd.Env = append(os.Environ(), "PEBBLE_VA_NOSLEEP=1", "PEBBLE_WFE_NONCEREJECT=0")
	logPath := filepath.Join(dir, "pebble.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = logFile.Close() }() // pebble writes through its own descriptor
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatalf("start pebble: %v", err)
	}
	output := func() string {
		data, _ := os.ReadFile(logPath) // only to show what pebble said
		return string(data)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill() // it holds nothing worth a graceful stop
		_ = cmd.Wait()         // killed: its exit status says so
		if t.Failed() {
			t.Logf("pebble's output:\n%s", output())
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := p.get(p.Directory); err == nil {
			return p
		} else if time.Now().After(deadline) {
			t.Fatalf("pebble did not answer at %s: %v\n%s", p.Directory, err, output())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// IssuedRoots is the pool of the roots pebble issues certificates under.
func (p *Pebble) IssuedRoots(t testing.TB) *x509.CertPool {
	t.Helper()
	pool := x509.NewCertPool()
	for i := 0; ; i++ {
		root, err := p.get(fmt.Sprintf("%s/roots/%d", p.mgmt, i))
		if err != nil {
			if i == 0 {
				t.Fatalf("pebble's root: %v", err)
			}
			return pool
		}
		pool.AppendCertsFromPEM(root)
	}
}

func (p *Pebble) get(url string) ([]byte, error) {
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: p.CA}}}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("%s: %s", url, resp.Status)
	}
	return body, err
}

// serverCertificate makes a CA and a certificate it signs for pebble's
// own listeners on 127.0.0.1.
func serverCertificate(t testing.TB) (caPEM, certPEM, keyPEM []byte) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTemplate := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "pebble test listener CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTemplate, caTemplate, caKey.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	template := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "localhost"},
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, template, caTemplate, key.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
}
