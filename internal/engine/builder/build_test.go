package builder

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/runspec"
)

// systemPython is the interpreter that sees Debian's Flask, FastAPI and pip.
const systemPython = "/usr/bin/python3"

const flaskHello = `from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello():
    return "hello"
`

// requirePython skips the test unless systemPython can import every module.
func requirePython(t testing.TB, modules ...string) {
	t.Helper()
	if _, err := os.Stat(systemPython); err != nil {
		t.Skipf("%s is not installed", systemPython)
	}
	for _, module := range modules {
		if err := exec.Command(systemPython, "-c", "import "+module).Run(); err != nil {
			t.Skipf("%s cannot import %s (apt-get install python3-%s)", systemPython, module, module)
		}
	}
}

// newSpec writes files (path -> content) into a fresh source directory.
func newSpec(t testing.TB, files map[string]string) (Spec, *bytes.Buffer) {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	writeFiles(t, src, files)
	log := &bytes.Buffer{}
	return Spec{
		SrcDir:    src,
		VenvDir:   filepath.Join(dir, "venv"),
		Framework: api.FrameworkAuto,
		Python:    systemPython,
		Log:       log,
	}, log
}

func writeFiles(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func mustBuild(t *testing.T, spec Spec, log *bytes.Buffer) *Result {
	t.Helper()
	result, err := Build(context.Background(), spec)
	if err != nil {
		t.Fatalf("Build: %v\nfull log:\n%s", err, log)
	}
	return result
}

func mustFail(t *testing.T, spec Spec, log *bytes.Buffer, step string) *Error {
	t.Helper()
	result, err := Build(context.Background(), spec)
	if err == nil {
		t.Fatalf("Build succeeded with %+v, want a failure in step %s\nlog:\n%s", result, step, log)
	}
	var buildErr *Error
	if !errors.As(err, &buildErr) {
		t.Fatalf("Build returned %T (%v), want *Error", err, err)
	}
	if buildErr.Step != step {
		t.Fatalf("failed in step %q, want %q: %v\nlog:\n%s", buildErr.Step, step, err, log)
	}
	return buildErr
}

func assertContains(t *testing.T, what, text string, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(text, want) {
			t.Errorf("%s does not contain %q:\n%s", what, want, text)
		}
	}
}

func ptr(s string) *string { return &s }

// systemPythonVersion is systemPython's version, as "3.11.2".
func systemPythonVersion(t testing.TB) string {
	t.Helper()
	out, err := exec.Command(systemPython, "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])").Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}

func TestFlaskAppInAppPy(t *testing.T) {
	t.Parallel()
	requirePython(t, "flask")
	spec, log := newSpec(t, map[string]string{"app.py": flaskHello})
	result := mustBuild(t, spec, log)

	want := Result{AppDir: spec.SrcDir, Python: filepath.Join(spec.VenvDir, "bin", "python"), PythonVersion: systemPythonVersion(t),
		Entrypoint: "app:app", Kind: runspec.KindWSGI, Framework: api.FrameworkFlask}
	if !reflect.DeepEqual(*result, want) {
		t.Errorf("result = %+v, want %+v", *result, want)
	}
	if _, err := os.Stat(result.Python); err != nil {
		t.Errorf("venv interpreter: %v", err)
	}
	assertContains(t, "log", log.String(), "ferry: creating Python environment", "ferry: finding the app: done in", "no dependencies declared")
}

func TestPlainWSGIApplicationInIndexPy(t *testing.T) {
	t.Parallel()
	requirePython(t)
	spec, log := newSpec(t, map[string]string{"index.py": `
def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hello"]
`})
	result := mustBuild(t, spec, log)
	if result.Entrypoint != "index:application" || result.Kind != runspec.KindWSGI || result.Framework != FrameworkOther {
		t.Errorf("result = %+v, want index:application, wsgi, other", result)
	}
}

func TestAPIIndexAfterFilesWithoutApp(t *testing.T) {
	t.Parallel()
	requirePython(t, "flask")
	spec, log := newSpec(t, map[string]string{
		"main.py":      "def helper():\n    app = 1\n    return app\n", // `app` only inside a function
		"api/index.py": flaskHello,
	})
	result := mustBuild(t, spec, log)
	if result.Entrypoint != "api.index:app" || result.Framework != api.FrameworkFlask {
		t.Errorf("result = %+v, want api.index:app (flask)", result)
	}
}

func TestSrcLayout(t *testing.T) {
	t.Parallel()
	requirePython(t, "flask")
	spec, log := newSpec(t, map[string]string{"src/main.py": "from flask import Flask\napplication = Flask(__name__)\n"})
	result := mustBuild(t, spec, log)
	if result.Entrypoint != "src.main:application" {
		t.Errorf("entrypoint = %q, want src.main:application", result.Entrypoint)
	}
}

func TestFastAPIAppIsASGI(t *testing.T) {
	t.Parallel()
	requirePython(t, "fastapi")
	spec, log := newSpec(t, map[string]string{"main.py": "from fastapi import FastAPI\n\napp = FastAPI()\n"})
	spec.Framework = api.FrameworkFastAPI
	result := mustBuild(t, spec, log)
	if result.Entrypoint != "main:app" || result.Kind != runspec.KindASGI || result.Framework != api.FrameworkFastAPI {
		t.Errorf("result = %+v, want main:app, asgi, fastapi", result)
	}
}

func TestAsyncCallableIsASGI(t *testing.T) {
	t.Parallel()
	requirePython(t)
	spec, log := newSpec(t, map[string]string{"asgi.py": `
class App:
    async def __call__(self, scope, receive, send):
        pass

if True:
    app = App()
`})
	result := mustBuild(t, spec, log)
	if result.Entrypoint != "asgi:app" || result.Kind != runspec.KindASGI || result.Framework != FrameworkOther {
		t.Errorf("result = %+v, want asgi:app, asgi, other", result)
	}
}

const handlerHello = `from http.server import BaseHTTPRequestHandler


class handler(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"hello")
`

func TestHandlerClassInAPIIndex(t *testing.T) {
	t.Parallel()
	requirePython(t)
	spec, log := newSpec(t, map[string]string{
		"main.py":      "def main():\n    pass\n",
		"api/index.py": handlerHello,
	})
	result := mustBuild(t, spec, log)
	if result.Entrypoint != "api.index:handler" || result.Kind != runspec.KindHandler || result.Framework != FrameworkOther {
		t.Errorf("result = %+v, want api.index:handler, handler, other", result)
	}
}

// As on Vercel, the first file of the candidates that defines an app, an application or a
// handler is the entrypoint, and within a file the first of them.
func TestFirstCandidateWinsAsOnVercel(t *testing.T) {
	t.Parallel()
	requirePython(t)
	const handlerThenApp = handlerHello + `

def app(environ, start_response):
    start_response("200 OK", [])
    return [b"app"]
`
	spec, log := newSpec(t, map[string]string{
		"index.py":     handlerThenApp,
		"api/index.py": "def app(environ, start_response):\n    pass\n",
	})
	result := mustBuild(t, spec, log)
	if result.Entrypoint != "index:handler" || result.Kind != runspec.KindHandler {
		t.Errorf("result = %+v, want index:handler (handler)", result)
	}
}

func TestHandlerThatIsNotABaseHTTPRequestHandler(t *testing.T) {
	t.Parallel()
	requirePython(t)
	for source, want := range map[string]string{
		"class handler:\n    def do_GET(self):\n        pass\n": "`handler` in index.py is a class, not a subclass of http.server.BaseHTTPRequestHandler",
		"def handler(request):\n    return 'hi'\n":              "index.py: defines `handler`, but not as a class",
	} {
		spec, log := newSpec(t, map[string]string{"index.py": source})
		err := mustFail(t, spec, log, StepEntrypoint)
		assertContains(t, "message", err.Message, want, "class handler(BaseHTTPRequestHandler)")
	}
}

func TestHandlerWithFrameworkSetting(t *testing.T) {
	t.Parallel()
	requirePython(t)
	spec, log := newSpec(t, map[string]string{"api/index.py": handlerHello})
	spec.Framework = api.FrameworkFlask
	err := mustFail(t, spec, log, StepEntrypoint)
	assertContains(t, "message", err.Message, `framework is "flask"`, "api/index.py defines a BaseHTTPRequestHandler class `handler`", `set framework to "auto"`)
}

func TestSatisfiedRequirementsSkipPip(t *testing.T) {
	t.Parallel()
	requirePython(t, "flask")
	spec, log := newSpec(t, map[string]string{
		"app.py": flaskHello,
		"requirements.txt": `# the web framework
--extra-index-url https://example.invalid/simple
-r base-requirements.txt
flask>=2.0 ; python_version >= "3"   # inline comment
werkzeug \
    >=1.0
surely-not-a-real-package-ferry==1.0 ; python_version < "3"
`,
		"base-requirements.txt": "Flask\n\nMarkupSafe\n",
	})
	mustBuild(t, spec, log)
	text := log.String()
	assertContains(t, "log", text,
		"every requirement in requirements.txt is already installed: skipping pip",
		"requirement Flask: ", "requirement MarkupSafe: ", "requirement werkzeug >=1.0: ",
		"marker does not apply")
	if strings.Contains(text, "running pip") {
		t.Errorf("pip ran although everything was installed:\n%s", text)
	}
}

func TestFastAPIRequirementDespiteStarletteMismatch(t *testing.T) {
	t.Parallel()
	requirePython(t, "fastapi")
	spec, log := newSpec(t, map[string]string{
		"main.py":          "from fastapi import FastAPI\n\napp = FastAPI()\n",
		"requirements.txt": "fastapi\nuvicorn\n",
	})
	mustBuild(t, spec, log)
	assertContains(t, "log", log.String(), "skipping pip")
}

func TestUnknownRequirementFailsFast(t *testing.T) {
	t.Parallel()
	requirePython(t, "flask", "pip")
	spec, log := newSpec(t, map[string]string{
		"app.py":           flaskHello,
		"requirements.txt": "flask\nsurely-not-a-real-package-ferry==1.0\n",
	})
	start := time.Now()
	err := mustFail(t, spec, log, StepInstall)
	if took := time.Since(start); took > 30*time.Second {
		t.Errorf("failing took %s, want seconds", took)
	}
	assertContains(t, "message", err.Message, "surely-not-a-real-package-ferry==1.0 (not installed)", "install_command")
	if strings.Contains(err.Message, "flask") {
		t.Errorf("message names the satisfied requirement flask: %s", err.Message)
	}
	assertContains(t, "log tail", err.LogTail, "running pip install", "No matching distribution found for surely-not-a-real-package-ferry")
	assertContains(t, "Error()", err.Error(), err.Message, err.LogTail)
}

func TestInstalledVersionMismatchIsNamed(t *testing.T) {
	t.Parallel()
	requirePython(t, "flask", "pip")
	spec, log := newSpec(t, map[string]string{"app.py": flaskHello, "requirements.txt": "flask==0.1\n"})
	err := mustFail(t, spec, log, StepInstall)
	assertContains(t, "message", err.Message, "flask==0.1 (installed ", "does not match ==0.1")
}

func TestOptionLinesGoToPip(t *testing.T) {
	t.Parallel()
	requirePython(t, "flask", "pip")
	spec, log := newSpec(t, map[string]string{"app.py": flaskHello, "requirements.txt": "flask\n-e ./not-a-project\n"})
	err := mustFail(t, spec, log, StepInstall)
	assertContains(t, "log", log.String(), "requirements.txt uses the option -e: leaving it to pip", "running pip install")
	assertContains(t, "message", err.Message, "pip could not install requirements.txt")

	spec, log = newSpec(t, map[string]string{"app.py": flaskHello, "requirements.txt": "-r missing.txt\n"})
	_ = mustFail(t, spec, log, StepInstall) // checks the failure itself
	assertContains(t, "log", log.String(), "cannot be read here", "leaving it to pip")
	if strings.Contains(log.String(), "Traceback") {
		t.Errorf("an unreadable requirements file crashed the check:\n%s", log)
	}
}

func TestRequirementExtrasAreChecked(t *testing.T) {
	t.Parallel()
	requirePython(t, "pip")
	site := t.TempDir()
	writeFiles(t, site, map[string]string{"ferrytestpkg-1.0.dist-info/METADATA": `Metadata-Version: 2.1
Name: ferrytestpkg
Version: 1.0
Provides-Extra: fancy
Requires-Dist: surely-not-a-real-package-ferry ; extra == 'fancy'
`})
	app := map[string]string{"app.py": "app = lambda environ, start_response: []\n"}

	app["requirements.txt"] = "ferrytestpkg==1.0\n"
	spec, log := newSpec(t, app)
	spec.Env = []string{"PYTHONPATH=" + site}
	mustBuild(t, spec, log)
	assertContains(t, "log", log.String(), "skipping pip")

	app["requirements.txt"] = "ferrytestpkg[fancy]==1.0\n"
	spec, log = newSpec(t, app)
	spec.Env = []string{"PYTHONPATH=" + site}
	err := mustFail(t, spec, log, StepInstall)
	assertContains(t, "message", err.Message, "ferrytestpkg[fancy]==1.0 (extra [fancy] needs surely-not-a-real-package-ferry)")
}

// Without the packaging library (nor pip's copy), the helper's own simple
// parser still decides plain requirements.
func TestRequirementsWithoutPackagingLibrary(t *testing.T) {
	t.Parallel()
	requirePython(t, "flask")
	hidden := t.TempDir()
	writeFiles(t, hidden, map[string]string{
		"packaging/__init__.py": "raise ImportError('hidden by the test')\n",
		"pip/__init__.py":       "raise ImportError('hidden by the test')\n",
	})

	spec, log := newSpec(t, map[string]string{"app.py": flaskHello, "requirements.txt": "flask >=2.0, <99\nmarkupsafe!=0.1\n"})
	spec.Env = []string{"PYTHONPATH=" + hidden}
	mustBuild(t, spec, log)
	assertContains(t, "log", log.String(), "skipping pip")

	spec, log = newSpec(t, map[string]string{"app.py": flaskHello, "requirements.txt": "flask<1\n"})
	spec.Env = []string{"PYTHONPATH=" + hidden}
	err := mustFail(t, spec, log, StepInstall)
	assertContains(t, "message", err.Message, "flask<1 (installed ", "does not match <1")
}

// The helper runs in the app's directory; the app's own modules must not
// replace the ones it uses.
func TestAppModulesDoNotShadowTheHelper(t *testing.T) {
	t.Parallel()
	requirePython(t, "flask")
	spec, log := newSpec(t, map[string]string{
		"app.py":                "app = lambda environ, start_response: []\n",
		"requirements.txt":      "flask\n",
		"ast.py":                "raise RuntimeError('the app shadowed ast')\n",
		"packaging/__init__.py": "raise RuntimeError('the app shadowed packaging')\n",
	})
	mustBuild(t, spec, log)
	assertContains(t, "log", log.String(), "skipping pip")
}

func TestInstallCommandTrueSkipsInstall(t *testing.T) {
	t.Parallel()
	requirePython(t, "flask")
	spec, log := newSpec(t, map[string]string{
		"app.py":           flaskHello,
		"requirements.txt": "surely-not-a-real-package-ferry==1.0\n",
	})
	spec.InstallCommand = ptr("true")
	mustBuild(t, spec, log)
	assertContains(t, "log", log.String(), `install command is "true": skipping install`)
}

func TestInstallCommandRunsInsideTheVenv(t *testing.T) {
	t.Parallel()
	requirePython(t, "flask")
	spec, log := newSpec(t, map[string]string{"app.py": flaskHello})
	spec.InstallCommand = ptr(`echo "$VIRTUAL_ENV" > venv.txt && command -v python > python.txt`)
	result := mustBuild(t, spec, log)

	venv, _ := os.ReadFile(filepath.Join(result.AppDir, "venv.txt"))
	python, _ := os.ReadFile(filepath.Join(result.AppDir, "python.txt"))
	if strings.TrimSpace(string(venv)) != spec.VenvDir || strings.TrimSpace(string(python)) != result.Python {
		t.Errorf("install command saw VIRTUAL_ENV=%q and python=%q, want %q and %q", venv, python, spec.VenvDir, result.Python)
	}
}

func TestInstallCommandFailure(t *testing.T) {
	t.Parallel()
	requirePython(t)
	spec, log := newSpec(t, map[string]string{"app.py": "app = lambda environ, start_response: []\n"})
	spec.InstallCommand = ptr("echo 'cannot reach the index' >&2; exit 7")
	err := mustFail(t, spec, log, StepInstall)
	assertContains(t, "message", err.Message, "install command failed (exit status 7)")
	assertContains(t, "log tail", err.LogTail, "cannot reach the index")
}

func TestBuildCommandOutputIsReadByTheApp(t *testing.T) {
	t.Parallel()
	requirePython(t, "flask")
	spec, log := newSpec(t, map[string]string{"app.py": `import os
from flask import Flask

with open(os.path.join(os.path.dirname(__file__), "generated.txt")) as f:
    GENERATED = f.read()
if GENERATED != "built for hello":
    raise RuntimeError("unexpected build output: " + GENERATED)

app = Flask(__name__)
`})
	spec.Env = []string{"GREETING=hello"}
	spec.BuildCommand = ptr(`printf 'built for %s' "$GREETING" > generated.txt`)
	mustBuild(t, spec, log)
	assertContains(t, "log", log.String(), "ferry: running build command: printf", "ferry: running build command: done in")
}

func TestBuildCommandFailure(t *testing.T) {
	t.Parallel()
	requirePython(t, "flask")
	spec, log := newSpec(t, map[string]string{"app.py": flaskHello})
	spec.BuildCommand = ptr("echo compiling assets; echo 'boom: missing tool' >&2; exit 3")
	err := mustFail(t, spec, log, StepBuild)
	assertContains(t, "message", err.Message, "build command failed (exit status 3)")
	assertContains(t, "log tail", err.LogTail, "compiling assets", "boom: missing tool")
	if strings.Contains(err.LogTail, "creating Python environment") {
		t.Errorf("log tail holds earlier steps:\n%s", err.LogTail)
	}
}

func TestNoEntrypointListsTheFilesLookedFor(t *testing.T) {
	t.Parallel()
	requirePython(t)
	spec, log := newSpec(t, map[string]string{
		"app.py":    "print('no app here')\n",
		"server.py": "def broken(:\n",
		"README.md": "# hello\n",
	})
	err := mustFail(t, spec, log, StepEntrypoint)
	assertContains(t, "message", err.Message,
		"no app found in .", "app.py, index.py, server.py", "src/app.py", "app/main.py", "api/index.py",
		"`app` or `application`", "a class `handler`", "Python files in api/", "[project.scripts] app",
		"[tool.vercel] entrypoint",
		"app.py: defines none of `app`, `application` and `handler`", "server.py: SyntaxError")
}

func TestImportErrorNamesTheModule(t *testing.T) {
	t.Parallel()
	requirePython(t, "flask")
	spec, log := newSpec(t, map[string]string{"app.py": "import surely_missing_module_ferry\n" + flaskHello})
	err := mustFail(t, spec, log, StepEntrypoint)
	assertContains(t, "message", err.Message,
		"app.py failed to import: ModuleNotFoundError: No module named 'surely_missing_module_ferry'", "requirements.txt")
	assertContains(t, "log tail", err.LogTail, "Traceback", `app.py", line 1`, "ModuleNotFoundError")
	if strings.Contains(err.LogTail, "importlib") {
		t.Errorf("traceback shows the import machinery:\n%s", err.LogTail)
	}
}

func TestEnvIsVisibleAtImportAndNotLogged(t *testing.T) {
	t.Parallel()
	requirePython(t)
	spec, log := newSpec(t, map[string]string{"app.py": `import os
if os.environ.get("FERRY_TEST_SECRET") != "s3cr3t-value":
    raise RuntimeError("FERRY_TEST_SECRET is not set")
app = lambda environ, start_response: []
`})
	spec.Env = []string{"FERRY_TEST_SECRET=s3cr3t-value"}
	mustBuild(t, spec, log)
	if strings.Contains(log.String(), "s3cr3t-value") {
		t.Errorf("the build log shows an env value:\n%s", log)
	}

	spec, log = newSpec(t, map[string]string{"app.py": `import os
app = os.environ["FERRY_TEST_SECRET"]
`})
	err := mustFail(t, spec, log, StepEntrypoint)
	assertContains(t, "message", err.Message, "KeyError: 'FERRY_TEST_SECRET'", "environment variable")
}

func TestFrameworkMismatch(t *testing.T) {
	t.Parallel()
	requirePython(t, "flask")
	spec, log := newSpec(t, map[string]string{"app.py": flaskHello})
	spec.Framework = api.FrameworkFastAPI
	err := mustFail(t, spec, log, StepEntrypoint)
	assertContains(t, "message", err.Message, `framework is "fastapi"`, "is a flask app", `set framework to "flask"`)
}

func TestAppThatIsNotCallable(t *testing.T) {
	t.Parallel()
	requirePython(t)
	spec, log := newSpec(t, map[string]string{"index.py": "app = 42\n"})
	err := mustFail(t, spec, log, StepEntrypoint)
	assertContains(t, "message", err.Message, "`app` in index.py is a int, not a WSGI or ASGI application")
}

// Not parallel: it shortens the package's import timeout.
func TestImportThatHangsTimesOut(t *testing.T) {
	requirePython(t)
	saved := importTimeout
	importTimeout = 2 * time.Second
	t.Cleanup(func() { importTimeout = saved })

	spec, log := newSpec(t, map[string]string{"app.py": "import time\ntime.sleep(120)\napp = None\n"})
	start := time.Now()
	err := mustFail(t, spec, log, StepEntrypoint)
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("the hanging import held the build for %s", took)
	}
	assertContains(t, "message", err.Message, "did not finish within 2s", `if __name__ == "__main__"`)
	assertContains(t, "log tail", err.LogTail, "importing app.py")
}

func TestRootDirectory(t *testing.T) {
	t.Parallel()
	requirePython(t, "flask")
	spec, log := newSpec(t, map[string]string{"backend/app.py": flaskHello})
	spec.RootDirectory = "backend/"
	result := mustBuild(t, spec, log)
	if want := filepath.Join(spec.SrcDir, "backend"); result.AppDir != want {
		t.Errorf("AppDir = %q, want %q", result.AppDir, want)
	}
}

func TestBadRootDirectory(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ root, want string }{
		{"../outside", `root_directory "../outside" points outside the source`},
		{"backend/../../outside", "points outside the source"},
		{"/etc", `root_directory "/etc" points outside the source`},
		{"missing", `root_directory "missing" does not exist in the source`},
		{"app.py", `root_directory "app.py" is a file, not a folder`},
		{"escape", `root_directory "escape" is a symbolic link that leads outside the source`},
	} {
		t.Run(tc.root, func(t *testing.T) {
			spec, log := newSpec(t, map[string]string{"app.py": flaskHello, "backend/app.py": flaskHello})
			outside := filepath.Join(filepath.Dir(spec.SrcDir), "outside")
			writeFiles(t, outside, map[string]string{"app.py": flaskHello})
			if err := os.Symlink(outside, filepath.Join(spec.SrcDir, "escape")); err != nil {
				t.Fatal(err)
			}
			spec.RootDirectory = tc.root
			err := mustFail(t, spec, log, StepSettings)
			assertContains(t, "message", err.Message, tc.want)
			if _, statErr := os.Stat(spec.VenvDir); statErr == nil {
				t.Errorf("a venv was created although the settings were refused")
			}
		})
	}
}

func TestMissingPythonInterpreter(t *testing.T) {
	t.Parallel()
	spec, log := newSpec(t, map[string]string{"app.py": flaskHello})
	spec.Python = "/nonexistent/python3"
	err := mustFail(t, spec, log, StepPython)
	assertContains(t, "message", err.Message, `"/nonexistent/python3" was not found`)
}

func TestCanceledBuild(t *testing.T) {
	t.Parallel()
	requirePython(t)
	spec, _ := newSpec(t, map[string]string{"app.py": "app = lambda environ, start_response: []\n"})
	spec.BuildCommand = ptr("sleep 60")
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := Build(ctx, spec)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want one that wraps context.DeadlineExceeded", err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("cancellation took %s", took)
	}
}

func TestLogTailKeepsTheLastLines(t *testing.T) {
	log := newBuildLog(nil)
	for i := range 100 {
		_, _ = log.Write([]byte(strings.Repeat("x", i) + "\n"))
	}
	_, _ = log.Write([]byte("unfinished " + strings.Repeat("y", 5000)))
	lines := strings.Split(log.tail(), "\n")
	if len(lines) != tailLines+1 {
		t.Fatalf("tail has %d lines, want %d", len(lines), tailLines+1)
	}
	if lines[0] != strings.Repeat("x", 100-tailLines) {
		t.Errorf("first tail line = %q", lines[0])
	}
	if last := lines[len(lines)-1]; len(last) != tailLineBytes || !strings.HasPrefix(last, "unfinished") {
		t.Errorf("last tail line has %d bytes, want the unfinished line cut at %d", len(last), tailLineBytes)
	}
}

// A build that prints without end writes MaxLogBytes to its log and a notice, no more, while
// ferry's narration and the tail of the output still get through.
func TestLogIsCapped(t *testing.T) {
	var out bytes.Buffer
	log := newBuildLog(&out)
	chunk := []byte(strings.Repeat("z", 1<<20-1) + "\n")
	for range MaxLogBytes>>20 + 3 {
		_, _ = log.Write(chunk)
	}
	_, _ = log.Write([]byte("the last line\n"))
	log.printf("build failed")
	written := out.String()
	if size := len(written); size < MaxLogBytes || size > MaxLogBytes+1024 {
		t.Fatalf("the log holds %d bytes, want about %d", size, MaxLogBytes)
	}
	if !strings.Contains(written, "the rest is not written to this log") {
		t.Error("the log does not say it was cut")
	}
	if !strings.HasSuffix(written, "ferry: build failed\n") {
		t.Errorf("ferry's narration after the cap was lost: %q", written[len(written)-200:])
	}
	if tail := log.tail(); !strings.Contains(tail, "the last line") {
		t.Errorf("the tail lost the last output: %q", tail[len(tail)-100:])
	}
}

func BenchmarkBuildFlaskHello(b *testing.B) {
	requirePython(b, "flask")
	for b.Loop() {
		b.StopTimer()
		spec, log := newSpec(b, map[string]string{"app.py": flaskHello, "requirements.txt": "flask\n"})
		b.StartTimer()
		if _, err := Build(context.Background(), spec); err != nil {
			b.Fatalf("%v\n%s", err, log)
		}
	}
}
