package engine_test

import (
	"bufio"
	"context"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/client"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine"
)

// needModules skips the test unless the engine's Python imports every module.
func needModules(t testing.TB, modules ...string) {
	t.Helper()
	for _, module := range modules {
		if err := exec.Command(python, "-c", "import "+module).Run(); err != nil {
			t.Skipf("%s cannot import %s (apt-get install python3-%s): %v", python, module, module, err)
		}
	}
}

// writeTree writes files (path -> content) into a new directory and returns it.
func writeTree(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// deployRequest creates a deployment of dir as req asks (uploading what the engine lacks) and
// waits for its build to end.
func deployRequest(t testing.TB, c *client.Client, dir string, req api.DeploymentRequest) *api.Deployment {
	t.Helper()
	ctx := context.Background()
	files, err := client.CollectFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	req.Files = files
	d, err := c.CreateDeployment(ctx, req)
	if missing, isMissing := client.IsMissingFiles(err); isMissing {
		for _, f := range files {
			for _, digest := range missing {
				if f.Digest == digest {
					content, readErr := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f.Path)))
					if readErr != nil {
						t.Fatal(readErr)
					}
					if err := c.UploadFile(ctx, digest, content); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
		d, err = c.CreateDeployment(ctx, req)
	}
	if err != nil {
		t.Fatal(err)
	}
	return waitBuilt(t, c, d.ID, 10*time.Millisecond)
}

func waitBuilt(t testing.TB, c *client.Client, id string, poll time.Duration) *api.Deployment {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	d, err := c.WaitDeployment(ctx, id, poll)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func newProject(t testing.TB, c *client.Client, name string) *api.Project {
	t.Helper()
	p, err := c.CreateProject(context.Background(), api.ProjectRequest{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// at is the URL of a path of a deployment.
func at(d *api.Deployment, path string) string {
	u, _ := url.Parse(d.URL)
	u.Path = path
	return u.String()
}

// testApps are the builder's test apps, also deployed here.
var testApps = filepath.Join("builder", "testdata", "apps")

// flaskWithRoutes is a Flask app that answers "index" at / and "hello" at /hello.
var flaskWithRoutes = func() string {
	source, err := os.ReadFile(filepath.Join(testApps, "pyproject-package", "shop", "web.py"))
	if err != nil {
		panic(err)
	}
	return string(source)
}()

const handlerNamed = `from http.server import BaseHTTPRequestHandler


class handler(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()
        self.wfile.write(NAME.encode() + b" at " + self.path.encode())
`

// testShapes are apps in the shapes Vercel accepts, with what they must answer.
var testShapes = []struct {
	name       string
	files      map[string]string // nil: the builder's test app of that name
	entrypoint string
	gets       map[string]string // path -> body
}{
	{"flask in api/index.py with a rewrite", map[string]string{
		"api/index.py":     flaskWithRoutes,
		"requirements.txt": "flask\n",
		"vercel.json":      `{"rewrites": [{"source": "/(.*)", "destination": "/api/index"}]}`,
	}, "api.index:app", map[string]string{"/": "index", "/hello": "hello"}},
	{"flask in main.py", map[string]string{"main.py": flaskWithRoutes, "requirements.txt": "Flask>=2\n"}, "main:app", map[string]string{"/hello": "hello"}},
	{"pyproject package", nil, "shop.web:app", map[string]string{"/hello": "hello"}},
	{"project.scripts", map[string]string{
		"pyproject.toml":    "[project]\nname = \"svc\"\nversion = \"1\"\ndependencies = []\n\n[project.scripts]\napp = \"service.server:app\"\n",
		"service/server.py": flaskWithRoutes,
	}, "service.server:app", map[string]string{"/": "index"}},
	{"django", nil, "mysite.wsgi:application", map[string]string{"/": "hello from django"}},
	{"several api functions", map[string]string{
		"api/index.py":     "NAME = 'index'\n" + handlerNamed,
		"api/users.py":     "NAME = 'users'\n" + handlerNamed,
		"api/v1/orders.py": "def app(environ, start_response):\n    start_response('200 OK', [])\n    return [b'orders at ' + environ['PATH_INFO'].encode()]\n",
	}, "api.index:handler", map[string]string{"/api": "index at /api", "/api/users": "users at /api/users", "/api/v1/orders": "orders at /api/v1/orders"}},
	{"handler class", map[string]string{"index.py": "NAME = 'handler'\n" + handlerNamed}, "index:handler", map[string]string{"/anything": "handler at /anything"}},
}

// buildingAtOnce lets an engine run n builds at once, for tests of many deployments.
func buildingAtOnce(n int) func(*engine.Config) {
	return func(cfg *engine.Config) { cfg.BuildWorkers = n }
}

func TestVercelAppShapesDeployUnchanged(t *testing.T) {
	t.Parallel()
	needModules(t, "flask", "django", "setuptools")
	c, addr := startEngine(t)
	for i, shape := range testShapes {
		t.Run(shape.name, func(t *testing.T) {
			p := newProject(t, c, "shape-"+string(rune('a'+i)))
			dir := filepath.Join(testApps, strings.ReplaceAll(shape.name, " ", "-"))
			if shape.files != nil {
				dir = writeTree(t, shape.files)
			}
			d := deployRequest(t, c, dir, api.DeploymentRequest{ProjectID: p.ID, Production: true})
			if d.State != api.StateReady {
				log, _ := c.DeploymentLog(context.Background(), d.ID)
				t.Fatalf("%s: %s\n%s", d.State, d.ErrorMessage, log)
			}
			if d.Entrypoint != shape.entrypoint {
				t.Errorf("entrypoint %q, want %q", d.Entrypoint, shape.entrypoint)
			}
			for path, want := range shape.gets {
				if status, body := get(t, addr, at(d, path)); status != 200 || body != want {
					t.Errorf("GET %s: %d %q, want 200 %q", path, status, body, want)
				}
			}
		})
	}
}

func TestBadBuildInputsLeaveProductionAlone(t *testing.T) {
	t.Parallel()
	needFlask(t)
	c, addr := startEngine(t, buildingAtOnce(4))
	ctx := context.Background()
	p := newProject(t, c, "steady")
	good := deployRequest(t, c, writeTree(t, map[string]string{"app.py": flaskWithRoutes}), api.DeploymentRequest{ProjectID: p.ID, Production: true})
	if good.State != api.StateReady {
		t.Fatalf("the good deployment: %s %s", good.State, good.ErrorMessage)
	}
	for _, tt := range []struct {
		name  string
		files map[string]string
		wants []string
	}{
		{"vercel.json syntax", map[string]string{"vercel.json": "{\n  \"cleanUrls\": true,\n}\n"},
			[]string{"vercel.json: is not valid JSON at line 3", "without comments or trailing commas"}},
		{"vercel.json types", map[string]string{"vercel.json": `{"functions": {"app.py": {"memory": "1GB"}}}`},
			[]string{`vercel.json: functions["app.py"].memory must be a whole number from 128 to 10240 (megabytes), not "1GB"`}},
		{"builds with functions", map[string]string{"vercel.json": `{"builds": [{"src": "app.py", "use": "@vercel/python"}], "functions": {"app.py": {"maxDuration": 10}}}`},
			[]string{"vercel.json: functions cannot be used together with builds", "remove one of them"}},
		{"unsatisfiable requires-python", map[string]string{"pyproject.toml": "[project]\nname = \"steady\"\nrequires-python = \">=3.99\"\ndependencies = [\"flask\"]\n"},
			[]string{`no Python on this engine satisfies requires-python = ">=3.99" in pyproject.toml`, "It has: 3."}},
		{"requirements that fail", map[string]string{"requirements.txt": "flask\nsurely-not-a-real-package-ferry==1.0\n"},
			[]string{"pip could not install what requirements.txt needs: surely-not-a-real-package-ferry==1.0 (not installed)"}},
		{"memory above the engine's maximum", map[string]string{"vercel.json": `{"functions": {"app.py": {"memory": 10240}}}`},
			[]string{"vercel.json's functions ask for memory 10240 MB, more than this engine allows an instance"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			files := map[string]string{"app.py": flaskWithRoutes}
			for name, content := range tt.files {
				files[name] = content
			}
			d := deployRequest(t, c, writeTree(t, files), api.DeploymentRequest{ProjectID: p.ID, Production: true})
			if d.State != api.StateError {
				t.Fatalf("state %s, want ERROR", d.State)
			}
			for _, want := range tt.wants {
				if !strings.Contains(d.ErrorMessage, want) {
					t.Errorf("error message does not contain %q:\n%s", want, d.ErrorMessage)
				}
			}
			if status, body := get(t, addr, p.ProductionURL+"/hello"); status != 200 || body != "hello" {
				t.Errorf("production after the failed build: %d %q", status, body)
			}
			if status, _ := get(t, addr, d.URL); status != 404 {
				t.Errorf("the failed deployment's URL answers %d, want 404", status)
			}
			if current, err := c.GetProject(ctx, p.ID); err != nil || current.ProductionDeploymentID != good.ID {
				t.Errorf("production deployment %q (%v), want %s", current.ProductionDeploymentID, err, good.ID)
			}
		})
	}
}

// wheelFiles is an app that needs a package pip installs offline from a wheel in the source.
func wheelFiles(t testing.TB) map[string]string {
	t.Helper()
	wheel, err := os.ReadFile(filepath.Join("builder", "testdata", "wheels", "ferry_testpkg-1.0-py3-none-any.whl"))
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{
		"app.py": `import ferry_testpkg


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [ferry_testpkg.VALUE.encode()]
`,
		"requirements.txt":                          "--no-index\n--find-links wheels\nferry-testpkg==1.0\n",
		"wheels/ferry_testpkg-1.0-py3-none-any.whl": string(wheel),
	}
}

// The build cache is shared by projects that run as different users: the second project's build
// installs nothing, its deployment holds links to the cached files, which no project can write;
// a deployment with use_build_cache = false installs anew.
func TestBuildCacheIsSharedReadOnlyAcrossProjects(t *testing.T) {
	t.Parallel()
	needSandboxMode(t, "uids")
	c, addr, dataDir := startEngineWithDataDir(t, withSandboxMode("uids"))
	ctx := context.Background()
	source := writeTree(t, wheelFiles(t))

	first := deployRequest(t, c, source, api.DeploymentRequest{ProjectID: newProject(t, c, "cache-one").ID})
	second := deployRequest(t, c, source, api.DeploymentRequest{ProjectID: newProject(t, c, "cache-two").ID})
	for _, d := range []*api.Deployment{first, second} {
		if d.State != api.StateReady {
			t.Fatalf("%s: %s %s", d.ID, d.State, d.ErrorMessage)
		}
		if status, body := get(t, addr, d.URL); status != 200 || body != "from the wheel" {
			t.Errorf("%s answers %d %q", d.ID, status, body)
		}
	}
	log, err := c.DeploymentLog(ctx, second.ID)
	if err != nil || !strings.Contains(log, "reusing its installed packages") || strings.Contains(log, "running pip install") {
		t.Errorf("the second project's build did not reuse the cache (%v):\n%s", err, log)
	}

	module := filepath.Join("lib", "python3*", "site-packages", "ferry_testpkg", "__init__.py")
	inDeployments, _ := filepath.Glob(filepath.Join(dataDir, "deployments", second.ID, "venv", module))
	cached, _ := filepath.Glob(filepath.Join(dataDir, "build-cache", "envs", "*", module))
	if len(cached) != 1 || len(inDeployments) != 1 {
		t.Fatalf("the module in the cache: %v; in the deployment: %v", cached, inDeployments)
	}
	inDeployment, inCache := statOf(t, inDeployments[0]), statOf(t, cached[0])
	if inDeployment.Ino != inCache.Ino {
		t.Errorf("the deployment's module is not a link to the cached one")
	}
	if inCache.Uid != uint32(os.Getuid()) || inCache.Mode&0o222 != 0o200 {
		t.Errorf("the cached module is owned by %d with mode %o: want the engine's, writable by it alone", inCache.Uid, inCache.Mode&0o777)
	}

	// use_build_cache = false installs anew.
	off := false
	clean := deployRequest(t, c, source, api.DeploymentRequest{ProjectID: newProject(t, c, "cache-off").ID, UseBuildCache: &off})
	log, err = c.DeploymentLog(ctx, clean.ID)
	if clean.State != api.StateReady || err != nil || !strings.Contains(log, "the build cache is off for this deployment") || !strings.Contains(log, "running pip install") {
		t.Errorf("a deployment without the build cache: %s %s (%v)\n%s", clean.State, clean.ErrorMessage, err, log)
	}
	if status, body := get(t, addr, clean.URL); status != 200 || body != "from the wheel" {
		t.Errorf("it answers %d %q", status, body)
	}
}

func statOf(t *testing.T, path string) *syscall.Stat_t {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	stat, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		t.Fatalf("no owner and inode for %s", path)
	}
	return stat
}

func TestFollowTheBuildLog(t *testing.T) {
	t.Parallel()
	c, _ := startEngine(t)
	ctx := context.Background()
	p := newProject(t, c, "follow")
	files := map[string]string{
		"index.py":    "NAME = 'follow'\n" + handlerNamed,
		"vercel.json": `{"buildCommand": "echo first step; sleep 2; echo second step"}`,
	}
	dir := writeTree(t, files)
	list, err := client.CollectFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	d, err := c.DeployFiles(ctx, dir, api.DeploymentRequest{ProjectID: p.ID, Files: list})
	if err != nil {
		t.Fatal(err)
	}
	reader, writer := io.Pipe()
	followed := make(chan error, 1)
	go func() {
		followed <- c.FollowDeploymentLog(ctx, d.ID, writer)
		_ = writer.Close()
	}()
	lines := bufio.NewScanner(reader)
	var seen []string
	for lines.Scan() {
		seen = append(seen, lines.Text())
		if lines.Text() == "first step" {
			break
		}
	}
	// The build sleeps after its first line: the line came while it ran.
	if current, err := c.GetDeployment(ctx, d.ID); err != nil || current.State != api.StateBuilding {
		t.Errorf("the first line arrived when the deployment was %+v (%v), want it BUILDING", current, err)
	}
	rest, _ := io.ReadAll(reader)
	if err := <-followed; err != nil {
		t.Fatal(err)
	}
	text := strings.Join(seen, "\n") + "\n" + string(rest)
	for _, want := range []string{"ferry: writing 2 source files", "first step", "second step", "ferry: build ready in"} {
		if !strings.Contains(text, want) {
			t.Errorf("the followed log lacks %q:\n%s", want, text)
		}
	}
	if done, err := c.GetDeployment(ctx, d.ID); err != nil || done.State != api.StateReady {
		t.Errorf("following ended with the deployment %+v (%v), want READY", done, err)
	}

	// Following a finished build gives its whole log at once.
	var again strings.Builder
	if err := c.FollowDeploymentLog(ctx, d.ID, &again); err != nil || again.String() != text {
		t.Errorf("following the finished build gave %q (%v), want the log it streamed", again.String(), err)
	}
}

func TestVercelFunctionSettingsApply(t *testing.T) {
	t.Parallel()
	needFlask(t)
	c, addr := startEngine(t)
	p := newProject(t, c, "settings")
	d := deployRequest(t, c, writeTree(t, map[string]string{
		"app.py": flaskWithRoutes + `

@app.get("/slow")
def slow():
    import time
    time.sleep(5)
    return "late"
`,
		"vercel.json": `{"functions": {"app.py": {"maxDuration": 1, "memory": 512}}, "installCommand": "echo installing from vercel.json"}`,
	}), api.DeploymentRequest{ProjectID: p.ID})
	if d.State != api.StateReady {
		t.Fatalf("%s %s", d.State, d.ErrorMessage)
	}
	if status, body := get(t, addr, at(d, "/slow")); status != 504 || !strings.Contains(body, "did not answer within 1s") {
		t.Errorf("a request past maxDuration: %d %q, want 504", status, body)
	}
	log, _ := c.DeploymentLog(context.Background(), d.ID)
	if !strings.Contains(log, "installing from vercel.json") {
		t.Errorf("vercel.json's installCommand did not run:\n%s", log)
	}
}

// A project may ask for another Python than the engine's default; it gets one the engine found
// (pyenv's here), run by the user namespace sandbox, which can reach pyenv's versions under /root.
func TestPythonVersionOfTheProject(t *testing.T) {
	t.Parallel()
	versions, _ := filepath.Glob(filepath.Join(os.Getenv("HOME"), ".pyenv", "versions", "3.12.*", "bin", "python3"))
	if len(versions) == 0 {
		t.Skip("no Python 3.12 under ~/.pyenv/versions")
	}
	c, addr := startEngine(t, withSandboxMode("userns"))
	p := newProject(t, c, "pinned")
	d := deployRequest(t, c, writeTree(t, map[string]string{
		".python-version": "3.12\n",
		"index.py":        "import sys\nNAME = '%d.%d' % sys.version_info[:2]\n" + handlerNamed,
	}), api.DeploymentRequest{ProjectID: p.ID})
	if d.State != api.StateReady || !strings.HasPrefix(d.PythonVersion, "3.12.") {
		t.Fatalf("%s %s, Python %q; want READY on 3.12", d.State, d.ErrorMessage, d.PythonVersion)
	}
	if status, body := get(t, addr, at(d, "/v")); status != 200 || body != "3.12 at /v" {
		t.Errorf("it answers %d %q", status, body)
	}
}
