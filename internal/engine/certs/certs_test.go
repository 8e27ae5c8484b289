package certs

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"io/fs"
	"log"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
)

// names is a Permit over a set of served names the test changes.
type names struct {
	mu     sync.Mutex
	served map[string]string // name -> subject
}

func (n *names) permit(name string) (string, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	subject, ok := n.served[name]
	return subject, ok
}

func (n *names) set(name, subject string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if subject == "" {
		delete(n.served, name)
		return
	}
	n.served[name] = subject
}

// statuses records what the Manager reports.
type statuses struct {
	mu  sync.Mutex
	all []string // "subject state renewal"
	got map[string]Status
}

func (s *statuses) record(subject string, st Status) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.all = append(s.all, fmt.Sprintf("%s %s %v", subject, st.State, st.Renewal))
	s.got[subject] = st
}

func (s *statuses) count(entry string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, e := range s.all {
		if e == entry {
			n++
		}
	}
	return n
}

func (s *statuses) last(subject string) Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.got[subject]
}

type fixture struct {
	manager  *Manager
	ca       *LocalCA
	names    *names
	statuses *statuses
	dataDir  string
	https    string // host:port of an HTTPS listener with the manager's certificates
}

func newFixture(t testing.TB, configure func(*Config)) *fixture {
	t.Helper()
	dir := t.TempDir()
	ca, err := OpenLocalCA(filepath.Join(dir, "ca"))
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{ca: ca, names: &names{served: map[string]string{}}, statuses: &statuses{got: map[string]Status{}}, dataDir: dir}
	httpL, httpsL := listen(t), listen(t)
	cfg := Config{
		StorageDir:   filepath.Join(dir, "certificates"),
		LocalCA:      ca,
		HTTPAddress:  httpL.Addr().String(),
		HTTPSAddress: httpsL.Addr().String(),
		Permit:       f.names.permit,
		OnStatus:     f.statuses.record,
	}
	if configure != nil {
		configure(&cfg)
	}
	f.manager, err = New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok")) })
	quiet := log.New(io.Discard, "", 0) // refused handshakes are what the tests make
	httpSrv := &http.Server{Handler: f.manager.HTTPChallengeHandler(ok), ReadHeaderTimeout: 5 * time.Second, ErrorLog: quiet}
	httpsSrv := &http.Server{Handler: ok, TLSConfig: f.manager.TLSConfig(), ReadHeaderTimeout: 5 * time.Second, ErrorLog: quiet}
	go func() { _ = httpSrv.Serve(httpL) }()
	go func() { _ = httpsSrv.ServeTLS(httpsL, "", "") }()
	t.Cleanup(func() {
		_ = httpSrv.Close()
		_ = httpsSrv.Close()
		f.manager.Close()
	})
	f.https = httpsL.Addr().String()
	return f
}

func listen(t testing.TB) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// handshake connects to the fixture's HTTPS listener as name and verifies
// the chain against roots; it returns the certificate served.
func (f *fixture) handshake(name string, roots *x509.CertPool) (*x509.Certificate, error) {
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	conn, err := tls.DialWithDialer(dialer, "tcp", f.https, &tls.Config{ServerName: name, RootCAs: roots, NextProtos: []string{"http/1.1"}})
	if err != nil {
		return nil, err
	}
	defer func() { _ = conn.Close() }()
	return conn.ConnectionState().PeerCertificates[0], nil
}

func (f *fixture) localRoots() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(f.ca.Root())
	return pool
}

func waitFor(t *testing.T, what string, timeout time.Duration, done func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !done() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestLocalCAIsKeptPrivateAndConstrained(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ca")
	ca, err := OpenLocalCA(dir)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]fs.FileMode{"": 0o700, rootKeyName: 0o600, RootCertName: 0o644} {
		info, err := os.Stat(filepath.Join(dir, name))
		if err != nil || info.Mode().Perm() != want {
			t.Errorf("%s: %v, %v; want mode %o", filepath.Join(dir, name), info.Mode(), err, want)
		}
	}
	again, err := OpenLocalCA(dir)
	if err != nil || !again.Root().Equal(ca.Root()) {
		t.Fatalf("reopened CA: %v, same root %v", err, err == nil && again.Root().Equal(ca.Root()))
	}
	root := ca.Root()
	if !root.IsCA || !root.PermittedDNSDomainsCritical || len(root.PermittedDNSDomains) != len(api.LocalOnlySuffixes) || len(root.PermittedIPRanges) == 0 {
		t.Errorf("root is not a CA constrained to local names: %+v", root.PermittedDNSDomains)
	}
}

// A name the engine serves gets a local certificate at its first handshake;
// names it does not serve are refused before any certificate is looked for,
// however many handshakes ask.
func TestHandshakesAreCertifiedOnlyForServedNames(t *testing.T) {
	f := newFixture(t, nil)
	f.names.set("app.localhost", "app.localhost")
	f.names.set("pr-1.preview.test", "*.preview.test")

	leaf, err := f.handshake("app.localhost", f.localRoots())
	if err != nil {
		t.Fatalf("handshake for a served name: %v", err)
	}
	if leaf.DNSNames[0] != "app.localhost" || leaf.NotAfter.Sub(leaf.NotBefore) < DefaultLeafValidity {
		t.Errorf("certificate for %v valid %s", leaf.DNSNames, leaf.NotAfter.Sub(leaf.NotBefore))
	}
	if st := f.statuses.last("app.localhost"); st.State != api.TLSIssued || st.Issuer != f.ca.Root().Subject.CommonName || st.NotAfter == nil {
		t.Errorf("status: %+v", st)
	}
	if leaf, err := f.handshake("pr-2.preview.test", f.localRoots()); err == nil {
		t.Errorf("a name under the wildcard that is not served got %v", leaf.DNSNames)
	}
	leaf, err = f.handshake("pr-1.preview.test", f.localRoots())
	if err != nil || leaf.DNSNames[0] != "*.preview.test" {
		t.Fatalf("a name under a wildcard domain: %v, %v", leaf, err)
	}
	if _, err := f.handshake("pr-1.preview.test", f.localRoots()); err != nil {
		t.Fatal(err)
	}

	obtained := f.statuses.count("app.localhost obtaining false") + f.statuses.count("*.preview.test obtaining false")
	start := time.Now()
	const flood = 300
	for i := range flood {
		name := fmt.Sprintf("random-%d.example.com", i)
		if i%2 == 0 {
			name = fmt.Sprintf("random-%d.localhost", i)
		}
		if _, err := f.handshake(name, nil); err == nil || !strings.Contains(err.Error(), "internal error") {
			t.Fatalf("handshake for %s: %v, want a refusal", name, err)
		}
	}
	t.Logf("%d refused handshakes: %s each, client included", flood, time.Since(start)/flood)
	if got := f.statuses.count("app.localhost obtaining false") + f.statuses.count("*.preview.test obtaining false"); obtained != 2 || got != obtained {
		t.Errorf("certificates requested: %d before the flood, %d after; want 2 and 2", obtained, got)
	}
	entries, err := os.ReadDir(filepath.Join(f.dataDir, "certificates", "certificates", localIssuerKey))
	if err != nil || len(entries) != 2 {
		t.Errorf("certificates stored: %v, %v; want 2", entries, err)
	}
}

// A certificate is renewed before it expires, in the background, and the
// renewed one is served; handshakes never see an expired one.
func TestRenewalBeforeExpiry(t *testing.T) {
	const validity = 4 * time.Second
	f := newFixture(t, func(c *Config) {
		c.RenewCheckInterval = 250 * time.Millisecond
		c.RenewalWindowRatio = 0.5
	})
	f.ca.LeafValidity = validity
	// A name of its own: certmagic keeps renewal backoffs by name for the whole process.
	name := fmt.Sprintf("renewal-%d.localhost", time.Now().UnixNano())
	f.names.set(name, name)
	f.manager.Manage([]string{name})
	waitFor(t, "the first certificate", 10*time.Second, func() bool { return f.statuses.last(name).State == api.TLSIssued })
	first, err := f.handshake(name, f.localRoots())
	if err != nil {
		t.Fatal(err)
	}
	if early := f.statuses.count(name + " issued true"); early > 0 {
		t.Fatalf("renewed %d times before half of the certificate's life had passed", early)
	}
	waitFor(t, "a renewal", 3*validity, func() bool { return f.statuses.count(name+" issued true") > 0 })
	renewedAt := time.Now()
	if !renewedAt.Before(first.NotAfter) {
		t.Fatalf("renewed at %v, after the first certificate expired at %v", renewedAt, first.NotAfter)
	}
	// Past the first certificate's expiry, handshakes still verify.
	for time.Now().Before(first.NotAfter.Add(500 * time.Millisecond)) {
		if _, err := f.handshake(name, f.localRoots()); err != nil {
			t.Fatalf("handshake at %v (first certificate expires %v): %v", time.Now(), first.NotAfter, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	latest, err := f.handshake(name, f.localRoots())
	if err != nil || latest.SerialNumber.Cmp(first.SerialNumber) == 0 || !latest.NotAfter.After(first.NotAfter) {
		t.Fatalf("after the renewal: %v, serial %v (first %v)", err, latest.SerialNumber, first.SerialNumber)
	}
	if renewals := f.statuses.count(name + " issued true"); renewals > 3 {
		t.Errorf("%d renewals in %s: renewed far more often than once per half life", renewals, validity+time.Second)
	}
}

// A name the engine stops serving is refused at once, and its certificate
// is no longer renewed; the files stay and key files are the engine's alone.
func TestRemovedNameIsRefused(t *testing.T) {
	f := newFixture(t, nil)
	f.names.set("shop.test", "shop.test")
	f.manager.Manage([]string{"shop.test"})
	waitFor(t, "the certificate", 10*time.Second, func() bool { return f.statuses.last("shop.test").State == api.TLSIssued })
	if _, err := f.handshake("shop.test", f.localRoots()); err != nil {
		t.Fatal(err)
	}
	f.names.set("shop.test", "")
	f.manager.Manage(nil)
	if _, err := f.handshake("shop.test", f.localRoots()); err == nil {
		t.Fatal("a removed name is still served")
	}
	f.manager.mu.Lock()
	held, managed := len(f.manager.held), len(f.manager.managed)
	f.manager.mu.Unlock()
	if held != 0 || managed != 0 {
		t.Errorf("still held %d, managed %d", held, managed)
	}
	for _, dir := range []string{"ca", "certificates"} {
		checkPrivate(t, filepath.Join(f.dataDir, dir))
	}
}

// checkPrivate checks that directories under root are 0700 and key files 0600.
func checkPrivate(t *testing.T, root string) {
	t.Helper()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if d.IsDir() && info.Mode().Perm() != 0o700 {
			t.Errorf("%s: mode %o, want 0700", path, info.Mode().Perm())
		}
		if strings.HasSuffix(path, ".key") && info.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %o, want 0600", path, info.Mode().Perm())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A client that dials an address of the engine, with no name, is answered
// with a local certificate for that address (Go sends no SNI for an IP).
func TestAddressWithoutName(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.IPs = []netip.Addr{netip.MustParseAddr("127.0.0.1")} })
	leaf, err := f.handshake("127.0.0.1", f.localRoots())
	if err != nil {
		t.Fatalf("handshake without a name: %v", err)
	}
	if len(leaf.IPAddresses) != 1 || !leaf.IPAddresses[0].Equal(net.IPv4(127, 0, 0, 1)) {
		t.Errorf("certificate for %v", leaf.IPAddresses)
	}
}

// BenchmarkRefusedHandshake measures what a handshake for a name the engine
// does not serve costs the server: the permission check, and nothing else.
func BenchmarkRefusedHandshake(b *testing.B) {
	f := newFixture(b, nil)
	f.names.set("app.localhost", "app.localhost")
	hellos := make([]*tls.ClientHelloInfo, 1024)
	for i := range hellos {
		hellos[i] = &tls.ClientHelloInfo{ServerName: fmt.Sprintf("random-%d.example.com", i)}
	}
	for i := 0; b.Loop(); i++ {
		if _, err := f.manager.getCertificate(hellos[i%len(hellos)]); err == nil {
			b.Fatal("a name the engine does not serve got a certificate")
		}
	}
}
