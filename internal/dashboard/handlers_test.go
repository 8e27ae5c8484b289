package dashboard_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/client"
	"github.com/ferryhq/terraform-provider-ferry/internal/dashboard"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine"
	"github.com/ferryhq/terraform-provider-ferry/internal/freeport"
)

const testToken = "handler-test-token-91c2"

// browserless is an HTTP client with cookies, as a browser posting the dashboard's forms.
type browserless struct {
	t    *testing.T
	http *http.Client
	base string
}

func newBrowserless(t *testing.T, base string) *browserless {
	jar, _ := cookiejar.New(nil)
	return &browserless{t: t, base: base, http: &http.Client{Jar: jar}}
}

func (b *browserless) get(path string) (int, string) {
	b.t.Helper()
	resp, err := b.http.Get(b.base + path)
	if err != nil {
		b.t.Fatal(err)
	}
	return readAll(b.t, resp)
}

func (b *browserless) post(path string, form url.Values) (int, string) {
	b.t.Helper()
	req, _ := http.NewRequest("POST", b.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.base)
	resp, err := b.http.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	return readAll(b.t, resp)
}

func readAll(t *testing.T, resp *http.Response) (int, string) {
	t.Helper()
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfOf(t *testing.T, html string) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(html)
	if m == nil {
		t.Fatalf("no CSRF token on the page:\n%s", html)
	}
	return m[1]
}

// tokenEngine starts an engine with a token API and returns a client of it and the API's URL.
func tokenEngine(t *testing.T) (*client.Client, string) {
	apiAddress := freeport.Loopback(t)
	c, _ := startEngine(t, func(cfg *engine.Config) { cfg.APIAddress, cfg.Token = apiAddress, testToken })
	return c, "http://" + apiAddress
}

func TestRollbackRefusalsShowTheEnginesMessage(t *testing.T) {
	c, base := tokenEngine(t)
	ctx := context.Background()
	shop, err := c.CreateProject(ctx, api.ProjectRequest{Name: "shop"})
	if err != nil {
		t.Fatal(err)
	}
	blog, err := c.CreateProject(ctx, api.ProjectRequest{Name: "blog"})
	if err != nil {
		t.Fatal(err)
	}
	// A source without any app fails its build at once.
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "README.md"), []byte("no app here\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	failed, err := c.Deploy(ctx, shop.ID, dir, true)
	if err != nil {
		t.Fatal(err)
	}
	if failed, err = c.WaitDeployment(ctx, failed.ID, 100*time.Millisecond); err != nil || failed.State != api.StateError {
		t.Fatalf("deployment without an app: %+v, %v", failed, err)
	}
	elsewhere, err := c.Deploy(ctx, blog.ID, dir, true)
	if err != nil {
		t.Fatal(err)
	}

	b := newBrowserless(t, base)
	if status, _ := b.post("/login", url.Values{"token": {testToken}}); status != http.StatusOK {
		t.Fatalf("login answered %d", status)
	}
	_, html := b.get("/projects/shop")
	csrf := csrfOf(t, html)

	for name, id := range map[string]string{"another project's deployment": elsewhere.ID, "a failed deployment": failed.ID} {
		status, html := b.post("/projects/shop/rollback", url.Values{"csrf": {csrf}, "confirmed": {"yes"}, "deployment": {id}})
		if status < 400 || !strings.Contains(html, `class="problem"`) || !strings.Contains(html, id) {
			t.Errorf("rollback to %s: %d\n%s", name, status, html)
		}
	}
	// Redeploy without cache: a new deployment of the same source.
	b.http.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	req, _ := http.NewRequest("POST", base+"/deployments/"+failed.ID+"/redeploy", strings.NewReader(url.Values{"csrf": {csrf}, "confirmed": {"yes"}, "cache": {"off"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	resp, err := b.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = readAll(t, resp)
	b.http.CheckRedirect = nil
	newID := strings.TrimPrefix(resp.Header.Get("Location"), "/deployments/")
	again, err := c.GetDeployment(ctx, newID)
	if err != nil || again.ID == failed.ID || again.SourceDigest != failed.SourceDigest || again.ProjectID != shop.ID {
		t.Fatalf("redeploy answered %s (Location %q): %+v, %v", resp.Status, resp.Header.Get("Location"), again, err)
	}

	// Without confirmation, the dashboard asks first; without the CSRF token, it refuses.
	if status, html := b.post("/projects/shop/rollback", url.Values{"csrf": {csrf}, "deployment": {failed.ID}}); status != http.StatusOK || !strings.Contains(html, `name="confirmed" value="yes"`) {
		t.Errorf("unconfirmed rollback: %d\n%s", status, html)
	}
	if status, _ := b.post("/projects/shop/rollback", url.Values{"confirmed": {"yes"}, "deployment": {failed.ID}}); status != http.StatusForbidden {
		t.Errorf("rollback without the CSRF token answered %d, want 403", status)
	}
}

// clock is a settable time for sessions and links.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestLinksAndSessionsExpire(t *testing.T) {
	_, base := tokenEngine(t)
	target, _ := url.Parse(base)
	clk := &clock{now: time.Now()}
	dash := dashboard.New(dashboard.Config{API: httputil.NewSingleHostReverseProxy(target), Token: testToken, Now: clk.Now})
	server := httptest.NewServer(dash)
	defer server.Close()

	expired, _ := dash.NewLoginLink()
	clk.advance(dashboard.LinkLifetime + time.Second)
	b := newBrowserless(t, server.URL)
	if status, html := b.get("/login/" + expired); status != http.StatusUnauthorized || !strings.Contains(html, "expired") {
		t.Fatalf("an expired link: %d\n%s", status, html)
	}
	if status, html := b.get("/"); status != http.StatusUnauthorized || strings.Contains(html, "Projects</h1>") {
		t.Fatalf("after an expired link: %d\n%s", status, html)
	}

	fresh, _ := dash.NewLoginLink()
	if status, html := b.get("/login/" + fresh); status != http.StatusOK || !strings.Contains(html, "Projects</h1>") {
		t.Fatalf("a fresh link: %d\n%s", status, html)
	}
	clk.advance(dashboard.SessionLifetime)
	if status, html := b.get("/"); status != http.StatusUnauthorized || !strings.Contains(html, "Log in") {
		t.Fatalf("an expired session: %d\n%s", status, html)
	}

	// A wrong token gets the login page.
	if status, html := b.post("/login", url.Values{"token": {"wrong"}}); status != http.StatusUnauthorized || !strings.Contains(html, "Wrong token") {
		t.Fatalf("a wrong token: %d\n%s", status, html)
	}
	// A login form posted from another site is refused.
	req, _ := http.NewRequest("POST", server.URL+"/login", strings.NewReader(url.Values{"token": {testToken}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if status, _ := readAll(t, resp); status != http.StatusForbidden {
		t.Fatalf("a cross-site login answered %d, want 403", status)
	}
}
