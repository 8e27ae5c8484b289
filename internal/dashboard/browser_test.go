package dashboard_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/client"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine"
	"github.com/ferryhq/terraform-provider-ferry/internal/freeport"
	"github.com/ferryhq/terraform-provider-ferry/internal/gittest"
)

const (
	python   = "/usr/bin/python3"
	chromium = "/usr/bin/chromium"
	// secretValue is an env var value no page may ever hold.
	secretValue = "sekret-value-7f3a9c-never-shown"
	// buildMarker is printed by the build command seconds into the build, for the page to show
	// live; the command computes it, so that the log's echo of the command does not hold it.
	buildMarker = "build-step-marker-42"
)

// screenshotDir is where the browser tests leave PNGs of the main pages for people to look at.
var screenshotDir = filepath.Join("screenshots")

var (
	browserOnce   sync.Once
	browserCtx    context.Context
	browserCancel context.CancelFunc
	browserErr    error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if browserCancel != nil {
		browserCancel()
	}
	os.Exit(code)
}

// browser returns a new tab of the package's one headless Chromium, with cookies of its own.
func browser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromium); err != nil {
		t.Skipf("no Chromium at %s (apt-get install chromium): %v", chromium, err)
	}
	browserOnce.Do(func() {
		userData, err := os.MkdirTemp("", "ferry-chromium") //nolint:usetesting // the browser outlives each test: TestMain removes it
		if err != nil {
			browserErr = err
			return
		}
		opts := append(chromedp.DefaultExecAllocatorOptions[:],
			chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
			chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
			chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
			chromedp.UserDataDir(userData), chromedp.WindowSize(1280, 900))
		allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
		browserCtx, browserCancel = chromedp.NewContext(allocCtx)
		browserErr = chromedp.Do(browserCtx) // starts the browser
		stop := browserCancel
		browserCancel = func() {
			stop()
			cancelAlloc()
			_ = os.RemoveAll(userData)
		}
	})
	if browserErr != nil {
		t.Fatalf("starting Chromium: %v", browserErr)
	}
	// A new browser context: a tab with its own cookies, as another person's browser.
	tab, cancel := chromedp.NewContext(browserCtx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(tab); err != nil { // opens the tab, which outlives the timeout below
		t.Fatal(err)
	}
	tab, cancelTimeout := context.WithTimeout(tab, 90*time.Second)
	t.Cleanup(cancelTimeout)
	return tab
}

// startEngine runs an engine on a fresh data dir (outside t.TempDir(), which apps running as
// uids of their own cannot enter) and returns a client of its unix socket and its edge address.
func startEngine(t *testing.T, options ...func(*engine.Config)) (*client.Client, string) {
	t.Helper()
	dataDir, err := os.MkdirTemp("", "ferry-dash") //nolint:usetesting // see above
	if err != nil {
		t.Fatal(err)
	}
	httpAddress := freeport.Loopback(t)
	cfg := engine.Config{DataDir: dataDir, HTTPAddress: httpAddress, Python: python, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, option := range options {
		option(&cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- engine.Run(ctx, cfg) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("engine: %v", err)
		}
		_ = os.RemoveAll(dataDir)
	})
	c, err := client.New(client.Config{Endpoint: "unix://" + filepath.Join(dataDir, api.SocketName)})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		if _, err := c.Health(ctx); err == nil {
			return c, httpAddress
		}
		if i > 200 {
			t.Fatal("engine not healthy")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// page is what a test sees of one page: its text and its whole HTML.
type page struct{ text, html string }

func read(t *testing.T, tab context.Context) page {
	t.Helper()
	var p page
	var err error
	for range 50 { // a page still loading has no nodes to read yet
		if p.text, err = chromedp.Run(tab, chromedp.Evaluate[string](`document.body.innerText`)); err == nil {
			if p.html, err = chromedp.Run(tab, chromedp.Evaluate[string](`document.documentElement.outerHTML`)); err == nil {
				break
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(p.html, secretValue) {
		t.Fatalf("a page holds an env var's value:\n%s", p.html)
	}
	return p
}

func screenshot(t *testing.T, tab context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(tab, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(screenshotDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(screenshotDir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
	// What a slow link has to carry for the page (the script and the style sheet come once).
	t.Logf("%s: %d bytes of HTML", name, len(read(t, tab).html))
}

// waitText waits until the element of selector holds want, across page loads (a click that
// navigates, a reload).
func waitText(t *testing.T, tab context.Context, selector, want string) {
	t.Helper()
	js := fmt.Sprintf(`(document.querySelector(%q) || {innerText: ""}).innerText.includes(%q)`, selector, want)
	deadline := time.Now().Add(60 * time.Second)
	for {
		found, err := chromedp.Run(tab, chromedp.Evaluate[bool](js))
		if err == nil && found {
			return
		}
		if time.Now().After(deadline) {
			text, _ := chromedp.Run(tab, chromedp.Text(chromedp.CSS("body")))
			t.Fatalf("%q never appeared in %s (%v); page:\n%s", want, selector, err, text)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// get fetches an app over the edge, by its host name.
func get(t *testing.T, httpAddress, host string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+httpAddress+"/", nil)
	req.Host = host
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(resp.Body)
	return string(body)
}

func flaskApp(version string) map[string]string {
	return map[string]string{
		"requirements.txt": "flask\n",
		"app.py": "# <b>not bold</b>: the dashboard shows source escaped\n" +
			"import os\nfrom flask import Flask\napp = Flask(__name__)\n\n" +
			"@app.get('/')\ndef index():\n    print('served the shop page', flush=True)\n    return 'shop " + version + "'\n",
	}
}

func TestDashboardInTheBrowser(t *testing.T) {
	if err := exec.Command(python, "-c", "import flask").Run(); err != nil {
		t.Skipf("%s cannot import flask (apt-get install python3-flask): %v", python, err)
	}
	c, httpAddress := startEngine(t)
	_, port, _ := net.SplitHostPort(httpAddress)
	dashboardURL := "http://ferry.localhost:" + port
	ctx := context.Background()

	repo := gittest.New(t)
	repo.Commit("First version of the shop", flaskApp("v1"))
	p, err := c.CreateProject(ctx, api.ProjectRequest{Name: "shop", Framework: api.FrameworkFlask,
		GitRepository: &api.GitRepository{URL: repo.Dir, ProductionBranch: "main"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateEnvVar(ctx, p.ID, api.EnvVarRequest{Key: "SHOP_SECRET", Value: secretValue, Targets: []string{api.TargetProduction, api.TargetPreview}}); err != nil {
		t.Fatal(err)
	}
	first, err := c.CreateDeployment(ctx, api.DeploymentRequest{ProjectID: p.ID, Git: &api.GitSource{}, Production: true})
	if err != nil {
		t.Fatal(err)
	}
	if first, err = c.WaitDeployment(ctx, first.ID, 100*time.Millisecond); err != nil || first.State != api.StateReady {
		t.Fatalf("first deployment: %+v, %v", first, err)
	}
	if got := get(t, httpAddress, "shop.localhost"); got != "shop v1" {
		t.Fatalf("production serves %q, want shop v1", got)
	}

	tab := browser(t)
	// Without a session, and with a wrong link: the login page, never data.
	for _, path := range []string{"/", "/projects/shop", "/login/not-a-link"} {
		if err := chromedp.Do(tab, chromedp.Navigate(dashboardURL+path)); err != nil {
			t.Fatal(err)
		}
		if got := read(t, tab); !strings.Contains(got.text, "Log in") || strings.Contains(got.text, "shop.localhost") {
			t.Fatalf("%s without a session shows:\n%s", path, got.text)
		}
	}
	screenshot(t, tab, "login")

	link, err := c.DashboardLoginLink(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(link.URL, dashboardURL+"/login/") {
		t.Fatalf("login link %q is not on %s", link.URL, dashboardURL)
	}
	if err := chromedp.Do(tab, chromedp.Navigate(link.URL)); err != nil {
		t.Fatal(err)
	}
	waitText(t, tab, "main", "Projects")
	if got := read(t, tab); !strings.Contains(got.text, "shop") {
		t.Fatalf("projects page:\n%s", got.text)
	}
	screenshot(t, tab, "projects")

	// A used link logs nobody in: another browser gets the login page.
	other := browser(t)
	if err := chromedp.Do(other, chromedp.Navigate(link.URL)); err != nil {
		t.Fatal(err)
	}
	if got := read(t, other); !strings.Contains(got.text, "used up, expired or wrong") {
		t.Fatalf("a used link shows:\n%s", got.text)
	}

	if err := chromedp.Do(tab, chromedp.Click(chromedp.CSS(`a[href="/projects/shop"]`))); err != nil {
		t.Fatal(err)
	}
	waitText(t, tab, "#deployments", "First version of the shop")
	if got := read(t, tab); !strings.Contains(got.text, "SHOP_SECRET") {
		t.Fatalf("project page lacks the env var's key:\n%s", got.text)
	}

	// A new deployment appears on the open page, with its commit message; its build prints a
	// line seconds in, which its page shows as it comes.
	buildCommand := "echo starting; sleep 4; echo build-step-marker-$((6*7)); sleep 3"
	if _, err := c.UpdateProject(ctx, p.ID, api.ProjectRequest{Name: "shop", Framework: api.FrameworkFlask, BuildCommand: &buildCommand,
		GitRepository: &api.GitRepository{URL: repo.Dir, ProductionBranch: "main"}}); err != nil {
		t.Fatal(err)
	}
	repo.Commit("Second version: a faster checkout", flaskApp("v2"))
	second, err := c.CreateDeployment(ctx, api.DeploymentRequest{ProjectID: p.ID, Git: &api.GitSource{}, Production: true})
	if err != nil {
		t.Fatal(err)
	}
	waitText(t, tab, "#deployments", "Second version: a faster checkout")
	screenshot(t, tab, "project")
	if err := chromedp.Do(tab, chromedp.Click(chromedp.CSS(`a[href="/deployments/`+second.ID+`"]`)),
		chromedp.WaitVisible(chromedp.CSS("#build-log")),
		chromedp.Func(func(ctx context.Context, tt *chromedp.Target) error {
			_, err := chromedp.Evaluate[bool](`window.loadedOnce = true`)(ctx, tt)
			return err
		})); err != nil {
		t.Fatal(err)
	}
	if got := read(t, tab); strings.Contains(got.text, buildMarker) {
		t.Fatal("the build had printed its marker before the page opened: nothing left to see arrive")
	}
	waitText(t, tab, "#build-log", buildMarker)
	if samePage, err := chromedp.Run(tab, chromedp.Evaluate[bool](`window.loadedOnce === true`)); err != nil || !samePage {
		t.Fatalf("the build log line came with a page reload, not live (%v)", err)
	}
	screenshot(t, tab, "deployment-building")
	waitText(t, tab, "main", "READY") // the page reloads once the build has ended
	if got := get(t, httpAddress, "shop.localhost"); got != "shop v2" {
		t.Fatalf("production serves %q after the second deployment, want shop v2", got)
	}
	// A line the app prints while serving appears in the runtime log of the open page.
	waitText(t, tab, "main", "Runtime log")
	get(t, httpAddress, second.Hostname)
	waitText(t, tab, "#runtime-log", "served the shop page")
	// The charts, drawn from the engine's metrics when the page loads, show the requests served.
	if err := chromedp.Do(tab, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(".charts svg"))); err != nil {
		t.Fatal(err)
	}
	charts, err := chromedp.Run(tab, chromedp.Evaluate[int](`document.querySelectorAll(".charts svg.chart").length`))
	if err != nil || charts != 4 {
		t.Fatalf("%d charts on the deployment page (%v), want requests, errors, latency and cold starts", charts, err)
	}
	if lines, err := chromedp.Run(tab, chromedp.Evaluate[int](`document.querySelectorAll(".charts svg.chart path.chart-line").length`)); err != nil || lines == 0 {
		t.Fatalf("the charts draw no line after requests were served (%v)", err)
	}
	screenshot(t, tab, "deployment")

	// The Source tab: the deployed file, escaped.
	if err := chromedp.Do(tab, chromedp.Click(chromedp.CSS(`a[href="/deployments/`+second.ID+`/source"]`)),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/deployments/`+second.ID+`/source/app.py"]`)),
		chromedp.Click(chromedp.CSS(`a[href="/deployments/`+second.ID+`/source/app.py"]`))); err != nil {
		t.Fatal(err)
	}
	waitText(t, tab, "#source-text", "return 'shop v2'")
	if got := read(t, tab); !strings.Contains(got.text, "<b>not bold</b>") {
		t.Fatalf("the source is not shown as text:\n%s", got.html)
	}
	screenshot(t, tab, "source")

	// Instant rollback, confirmed in the dialog: production serves v1 again.
	if err := chromedp.Do(tab, chromedp.Navigate(dashboardURL+"/projects/shop"),
		chromedp.Click(chromedp.CSS("#rollback")),
		chromedp.WaitVisible(chromedp.CSS("#confirm-dialog"))); err != nil {
		t.Fatal(err)
	}
	screenshot(t, tab, "rollback-confirm")
	if err := chromedp.Do(tab, chromedp.Click(chromedp.CSS("#confirm-ok"))); err != nil {
		t.Fatal(err)
	}
	waitText(t, tab, "main", "Production now serves "+first.ID)
	if got := get(t, httpAddress, "shop.localhost"); got != "shop v1" {
		t.Fatalf("production serves %q after the rollback, want shop v1", got)
	}
	read(t, tab)

	// In a phone's width the page does not scroll sideways: wide tables scroll in their box.
	if err := chromedp.Do(tab, chromedp.EmulateViewport(390, 844), chromedp.Navigate(dashboardURL+"/projects/shop")); err != nil {
		t.Fatal(err)
	}
	waitText(t, tab, "#deployments", "Second version")
	if fits, err := chromedp.Run(tab, chromedp.Evaluate[bool](`document.documentElement.scrollWidth <= window.innerWidth`)); err != nil || !fits {
		t.Errorf("the project page is wider than a 390 px window (%v)", err)
	}
	screenshot(t, tab, "project-narrow")
}

func TestDashboardTokenLogin(t *testing.T) {
	const token = "dashboard-test-token-5d1e"
	apiAddress := freeport.Loopback(t)
	startEngine(t, func(cfg *engine.Config) { cfg.APIAddress, cfg.Token = apiAddress, token })
	tab := browser(t)
	login := func(typed string) {
		if err := chromedp.Do(tab, chromedp.Navigate("http://"+apiAddress+"/"),
			chromedp.SendKeys(chromedp.CSS("#token"), typed), chromedp.Submit(chromedp.CSS("#token"))); err != nil {
			t.Fatal(err)
		}
	}
	login("not-the-token")
	waitText(t, tab, "main", "Wrong token")
	read(t, tab)
	login(token)
	waitText(t, tab, "main", "No projects yet")
	read(t, tab)
	// The API itself stays behind the token on the same listener.
	resp, err := http.Get("http://" + apiAddress + api.PathProjects)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("the API without a token answered %s", resp.Status)
	}
}
