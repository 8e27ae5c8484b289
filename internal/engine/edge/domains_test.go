package edge

import (
	"context"
	"io"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
)

// managed records what the edge asks certificates for.
type managed struct {
	mu       sync.Mutex
	subjects []string
}

func (m *managed) Manage(subjects []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.subjects = slices.Sorted(slices.Values(subjects))
}

func (e *testEdge) domain(t *testing.T, name, redirect string, verified bool) {
	t.Helper()
	ctx := context.Background()
	d := &store.Domain{Name: name, ProjectID: "p1", Token: "t", Redirect: redirect}
	if redirect != "" {
		d.RedirectStatus = http.StatusFound
	}
	if err := e.store.CreateDomain(ctx, d); err != nil {
		t.Fatal(err)
	}
	if verified {
		if err := e.store.RecordVerification(ctx, name, time.Now(), ""); err != nil {
			t.Fatal(err)
		}
	}
}

// get sends GET path to host without following redirects. secure says the
// client came over HTTPS, as a trusted proxy in front of the edge tells it.
func (e *testEdge) get(t *testing.T, host, path string, secure bool) *http.Response {
	t.Helper()
	req, err := http.NewRequest("GET", e.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	if secure {
		req.Header.Set("X-Forwarded-Proto", "https")
	}
	client := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = resp.Body.Close() })
	return resp
}

func TestCustomDomains(t *testing.T) {
	certs := &managed{}
	loopback := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	e := newTestEdge(t, Config{HTTPPort: "3080", HTTPSPort: "3443", HSTSMaxAge: 24 * time.Hour, Certificates: certs, TrustedProxies: loopback})
	e.project(t, "p1", "shop")
	e.deployment(t, "p1", "shop", "d1", "production", "READY")
	e.domain(t, "shop.example.com", "", true)
	e.domain(t, "www.shop.example.com", "shop.example.com", true)
	e.domain(t, "new.example.com", "", false)
	e.domain(t, "*.preview.test", "", true)
	e.sync(t)

	for _, tc := range []struct {
		name, host, path string
		tls              bool
		status           int
		location, body   string
		hsts             bool
	}{
		{"HTTPS", "shop.example.com", "/", true, 200, "", "d1 ", true},
		{"HTTP goes to HTTPS", "shop.example.com", "/a?b=c", false, 308, "https://shop.example.com:3443/a?b=c", "", false},
		{"the CA's challenges stay on HTTP", "shop.example.com", "/.well-known/acme-challenge/x", false, 200, "", "d1 ", false},
		{"a redirect domain", "www.shop.example.com", "/a?b=c", true, 302, "https://shop.example.com:3443/a?b=c", "", false},
		{"a redirect domain over HTTP", "www.shop.example.com", "/", false, 302, "https://shop.example.com:3443/", "", false},
		{"not verified yet", "new.example.com", "/", true, 404, "", "is not verified yet", false},
		{"under a wildcard domain", "pr-7.preview.test", "/", true, 200, "", "d1 ", true},
		{"deeper than a wildcard", "a.pr-7.preview.test", "/", true, 404, "", "no deployment or domain", false},
		{"the project's own host keeps HTTP", "shop.localhost", "/", false, 200, "", "d1 ", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := e.get(t, tc.host, tc.path, tc.tls)
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.status || resp.Header.Get("Location") != tc.location || !strings.Contains(string(body), tc.body) {
				t.Errorf("%d %q, Location %q; want %d %q, Location %q", resp.StatusCode, body, resp.Header.Get("Location"), tc.status, tc.body, tc.location)
			}
			if hsts := resp.Header.Get("Strict-Transport-Security"); (hsts == "max-age=86400") != tc.hsts {
				t.Errorf("Strict-Transport-Security %q, want it %v", hsts, tc.hsts)
			}
		})
	}

	for name, want := range map[string]string{
		"shop.example.com": "shop.example.com", "www.shop.example.com": "www.shop.example.com", "shop.localhost": "shop.localhost",
		"shop-d1.localhost": "shop-d1.localhost", "pr-7.preview.test": "*.preview.test", "new.example.com": "", "random.example.com": "",
	} {
		if subject, ok := e.router.Permit(name); subject != want || ok != (want != "") {
			t.Errorf("Permit(%q) = %q, %v; want %q", name, subject, ok, want)
		}
	}
	certs.mu.Lock()
	defer certs.mu.Unlock()
	if want := []string{"*.preview.test", "shop.example.com", "www.shop.example.com"}; !slices.Equal(certs.subjects, want) {
		t.Errorf("certificates managed for %v, want %v", certs.subjects, want)
	}
}

// Without HTTPS, a verified domain is served on HTTP, and a redirect stays on HTTP.
func TestCustomDomainsWithoutHTTPS(t *testing.T) {
	e := newTestEdge(t, Config{HTTPPort: "80"})
	e.project(t, "p1", "shop")
	e.deployment(t, "p1", "shop", "d1", "production", "READY")
	e.domain(t, "shop.example.com", "", true)
	e.domain(t, "www.shop.example.com", "shop.example.com", true)
	e.sync(t)
	if resp := e.get(t, "shop.example.com", "/", false); resp.StatusCode != 200 {
		t.Errorf("served on HTTP: %d", resp.StatusCode)
	}
	if resp := e.get(t, "www.shop.example.com", "/x", false); resp.StatusCode != 302 || resp.Header.Get("Location") != "http://shop.example.com/x" {
		t.Errorf("redirect: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}
