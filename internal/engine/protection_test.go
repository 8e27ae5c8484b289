package engine_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/gittest"
)

const (
	previewPassword = "correct horse battery"
	bypassSecret    = "ci-bypass-0123456789abcdef0123456789abcdef"
)

// protectedApp answers what of the edge's protection reached it.
func protectedApp(t *testing.T) string {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "app.py"), `from flask import Flask, request
app = Flask(__name__)

@app.route('/', defaults={'path': ''}, methods=['GET', 'POST'])
@app.route('/<path:path>', methods=['GET', 'POST'])
def index(path):
    seen = [h for h in ('X-Ferry-Protection-Bypass', 'X-Vercel-Protection-Bypass') if h in request.headers]
    if '_ferry_protection' in request.cookies:
        seen.append('cookie')
    return f"app /{path} saw {seen} other={request.cookies.get('other', '')}"
`)
	writeFile(t, filepath.Join(dir, "requirements.txt"), "flask\n")
	return dir
}

// protectedRequest sends a request to the edge at addr for rawURL, without following redirects.
func protectedRequest(t *testing.T, addr, method, rawURL string, body io.Reader, header http.Header) (*http.Response, string) {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(method, "http://"+addr+u.RequestURI(), body)
	req.Host = u.Host
	for name, values := range header {
		req.Header[name] = values
	}
	noRedirects := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirects.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	data, _ := io.ReadAll(resp.Body)
	return resp, string(data)
}

func signIn(t *testing.T, addr, rawURL, password, next string) (*http.Response, string) {
	t.Helper()
	u, _ := url.Parse(rawURL)
	u.Path = api.ProtectionPath
	form := url.Values{"password": {password}, "next": {next}}
	return protectedRequest(t, addr, "POST", u.String(), strings.NewReader(form.Encode()),
		http.Header{"Content-Type": {"application/x-www-form-urlencoded"}})
}

func TestPreviewProtection(t *testing.T) {
	needFlask(t)
	c, addr := startEngine(t)
	ctx := context.Background()
	if _, err := c.CreateProject(ctx, api.ProjectRequest{Name: "weak", PreviewProtection: &api.PreviewProtectionRequest{Password: "short"}}); err == nil || !strings.Contains(err.Error(), "give 8 to 256") {
		t.Fatalf("a project protected by a 5-character password: %v, want refused with the lengths allowed", err)
	}
	request := api.ProjectRequest{Name: "guarded", PreviewProtection: &api.PreviewProtectionRequest{Password: previewPassword, BypassSecret: bypassSecret}}
	p, err := c.CreateProject(ctx, request)
	if err != nil {
		t.Fatal(err)
	}
	if p.PreviewProtection == nil || !strings.HasPrefix(p.PreviewProtection.PasswordDigest, api.DigestPrefix) || p.PreviewProtection.BypassDigest == "" {
		t.Fatalf("the project's protection: %+v; want digests", p.PreviewProtection)
	}
	dir := protectedApp(t)
	production := deploy(t, c, p.ID, dir)
	previewDeployment, err := c.Deploy(ctx, p.ID, dir, false)
	if err != nil {
		t.Fatal(err)
	}
	preview, err := c.WaitDeployment(ctx, previewDeployment.ID, 100*time.Millisecond)
	if err != nil || preview.State != api.StateReady || production.State != api.StateReady {
		t.Fatalf("deployments: %+v %+v %v", production, preview, err)
	}

	// Production hosts are never protected.
	if resp, body := protectedRequest(t, addr, "GET", p.ProductionURL+"/x", nil, nil); resp.StatusCode != 200 || body != "app /x saw [] other=" {
		t.Fatalf("production: %d %q", resp.StatusCode, body)
	}
	// A preview, and (as Vercel's Standard Protection) a production deployment's own URL, are.
	for _, u := range []string{preview.URL, production.URL} {
		resp, body := protectedRequest(t, addr, "GET", u+"/page?q=1", nil, nil)
		if resp.StatusCode != 401 || !strings.Contains(body, `action="`+api.ProtectionPath+`"`) || !strings.Contains(body, `value="/page?q=1"`) ||
			strings.Contains(body, "app /") || strings.Contains(body, "http") && strings.Contains(body, "src=") {
			t.Fatalf("%s without the password: %d %q", u, resp.StatusCode, body)
		}
	}

	// A wrong password is refused; the right one sets a host-only HttpOnly cookie and goes back.
	if resp, body := signIn(t, addr, preview.URL, "not the password", "/page"); resp.StatusCode != 401 || !strings.Contains(body, "Wrong password") || len(resp.Cookies()) != 0 {
		t.Fatalf("a wrong password: %d %q", resp.StatusCode, body)
	}
	resp, _ := signIn(t, addr, preview.URL, previewPassword, "/page?q=1")
	cookies := resp.Cookies()
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/page?q=1" || len(cookies) != 1 || !cookies[0].HttpOnly || cookies[0].Domain != "" ||
		cookies[0].Name != api.ProtectionCookie || strings.Contains(cookies[0].Value, previewPassword) {
		t.Fatalf("the right password: %d, Location %q, cookies %+v", resp.StatusCode, resp.Header.Get("Location"), cookies)
	}
	cookie := http.Header{"Cookie": {api.ProtectionCookie + "=" + cookies[0].Value + "; other=kept"}}
	if resp, body := protectedRequest(t, addr, "GET", preview.URL+"/page", nil, cookie); resp.StatusCode != 200 || body != "app /page saw [] other=kept" {
		t.Fatalf("with the cookie: %d %q; want the app, without the protection cookie", resp.StatusCode, body)
	}
	// The cookie is the preview host's alone.
	if resp, _ := protectedRequest(t, addr, "GET", production.URL, nil, cookie); resp.StatusCode != 401 {
		t.Fatalf("another host with the preview's cookie: %d, want 401", resp.StatusCode)
	}
	// An open redirect is not offered.
	if resp, _ := signIn(t, addr, preview.URL, previewPassword, "//evil.example/"); resp.Header.Get("Location") != "/" {
		t.Fatalf("next=//evil.example/: Location %q, want /", resp.Header.Get("Location"))
	}

	// CI passes with the bypass secret in either header, which the app never sees.
	for _, name := range []string{api.ProtectionBypassHeader, api.VercelProtectionBypassHeader} {
		resp, body := protectedRequest(t, addr, "POST", preview.URL+"/api", nil, http.Header{name: {bypassSecret}})
		if resp.StatusCode != 200 || body != "app /api saw [] other=" {
			t.Fatalf("with %s: %d %q", name, resp.StatusCode, body)
		}
	}
	if resp, _ := protectedRequest(t, addr, "GET", preview.URL, nil, http.Header{api.ProtectionBypassHeader: {"wrong"}}); resp.StatusCode != 401 {
		t.Fatalf("a wrong bypass secret: %d, want 401", resp.StatusCode)
	}

	// A new password signs everyone out; removing the protection opens the previews.
	request.PreviewProtection = &api.PreviewProtectionRequest{Password: "another password"}
	if p, err = c.UpdateProject(ctx, p.ID, request); err != nil || p.PreviewProtection == nil || p.PreviewProtection.BypassDigest == "" {
		t.Fatalf("a new password: %+v, %v; want the bypass secret kept", p, err)
	}
	if resp, _ := protectedRequest(t, addr, "GET", preview.URL, nil, cookie); resp.StatusCode != 401 {
		t.Fatalf("the old password's cookie: %d, want 401", resp.StatusCode)
	}
	request.PreviewProtection = nil
	if p, err = c.UpdateProject(ctx, p.ID, request); err != nil || p.PreviewProtection != nil {
		t.Fatalf("protection removed: %+v, %v", p, err)
	}
	if resp, body := protectedRequest(t, addr, "GET", preview.URL, nil, nil); resp.StatusCode != 200 || !strings.HasPrefix(body, "app /") {
		t.Fatalf("an unprotected preview: %d %q", resp.StatusCode, body)
	}
}

// Wrong passwords are throttled per client address: past the limit even the right one waits.
func TestPreviewProtectionThrottlesWrongPasswords(t *testing.T) {
	needFlask(t)
	c, addr := startEngine(t)
	ctx := context.Background()
	p, err := c.CreateProject(ctx, api.ProjectRequest{Name: "throttled", PreviewProtection: &api.PreviewProtectionRequest{Password: previewPassword}})
	if err != nil {
		t.Fatal(err)
	}
	d, err := c.Deploy(ctx, p.ID, protectedApp(t), false)
	if err != nil {
		t.Fatal(err)
	}
	if d, err = c.WaitDeployment(ctx, d.ID, 100*time.Millisecond); err != nil || d.State != api.StateReady {
		t.Fatalf("preview: %+v, %v", d, err)
	}
	refused := 0
	for range 12 {
		resp, _ := signIn(t, addr, d.URL, "wrong password", "/")
		if resp.StatusCode == 429 {
			refused++
			if resp.Header.Get("Retry-After") == "" {
				t.Fatal("429 without Retry-After")
			}
		}
	}
	if refused != 2 {
		t.Fatalf("%d of 12 wrong passwords throttled, want the 2 past the 10 allowed", refused)
	}
	if resp, _ := signIn(t, addr, d.URL, previewPassword, "/"); resp.StatusCode != 429 {
		t.Fatalf("the right password while throttled: %d, want 429", resp.StatusCode)
	}
}

// A branch's URL is a preview host: protected like deployment URLs.
func TestPreviewProtectionCoversBranchURLs(t *testing.T) {
	repo := gittest.New(t)
	repo.Commit("First version", map[string]string{"index.py": handlerApp("main")})
	repo.Branch("feature-x")
	repo.Commit("Feature", map[string]string{"index.py": handlerApp("feature")})
	c, addr := startEngine(t)
	ctx := context.Background()
	p, err := c.CreateProject(ctx, api.ProjectRequest{Name: "branches", GitRepository: &api.GitRepository{URL: repo.Dir, ProductionBranch: "main"},
		PreviewProtection: &api.PreviewProtectionRequest{Password: previewPassword, BypassSecret: bypassSecret}})
	if err != nil {
		t.Fatal(err)
	}
	created, err := c.CreateDeployment(ctx, api.DeploymentRequest{ProjectID: p.ID, Git: &api.GitSource{Ref: "feature-x"}})
	if err != nil {
		t.Fatal(err)
	}
	d := waitBuilt(t, c, created.ID, 0)
	if d.State != api.StateReady || d.BranchURL == "" {
		t.Fatalf("the branch's deployment: %s %s, branch URL %q", d.State, d.ErrorMessage, d.BranchURL)
	}
	if resp, body := protectedRequest(t, addr, "GET", d.BranchURL, nil, nil); resp.StatusCode != 401 || !strings.Contains(body, api.ProtectionPath) {
		t.Fatalf("the branch URL without the password: %d %q", resp.StatusCode, body)
	}
	if resp, body := protectedRequest(t, addr, "GET", d.BranchURL, nil, http.Header{api.VercelProtectionBypassHeader: {bypassSecret}}); resp.StatusCode != 200 || !strings.Contains(body, "feature") {
		t.Fatalf("the branch URL with the bypass header: %d %q", resp.StatusCode, body)
	}
}
