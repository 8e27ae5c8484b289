package builder

import (
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/runspec"
)

func TestFlaskInAPIIndexWithARewrite(t *testing.T) {
	t.Parallel()
	requirePython(t, "flask")
	spec, log := newSpec(t, map[string]string{
		"api/index.py":     flaskHello,
		"requirements.txt": "flask\n",
		"vercel.json":      `{"rewrites": [{"source": "/(.*)", "destination": "/api/index"}]}`,
	})
	result := mustBuild(t, spec, log)
	if result.Entrypoint != "api.index:app" || result.Functions != nil {
		t.Errorf("result = %+v, want the app api.index:app", result)
	}
	if result.Vercel == nil || len(result.Vercel.Rewrites) != 1 || result.Vercel.Rewrites[0].Destination != "/api/index" {
		t.Errorf("vercel.json in the result: %+v", result.Vercel)
	}
}

func TestPyprojectPackageWithScriptsEntrypoint(t *testing.T) {
	t.Parallel()
	requirePython(t, "flask", "setuptools")
	spec, log := newSpec(t, testApp(t, "pyproject-package"))
	result := mustBuild(t, spec, log)
	if result.Entrypoint != "shop.web:app" {
		t.Errorf("entrypoint = %q, want shop.web:app", result.Entrypoint)
	}
	assertContains(t, "log", log.String(), "dependencies from pyproject.toml", "every requirement in pyproject.toml is already installed",
		"installing the project shop as a package", "declared by [project.scripts] app in pyproject.toml")
}

func TestToolVercelEntrypointComesFirst(t *testing.T) {
	t.Parallel()
	requirePython(t, "flask")
	spec, log := newSpec(t, map[string]string{
		"pyproject.toml":  "[tool.vercel]\nentrypoint = \"service.http:application\"\n",
		"app.py":          flaskHello,
		"service/http.py": "from flask import Flask\napplication = Flask(__name__)\n",
	})
	result := mustBuild(t, spec, log)
	if result.Entrypoint != "service.http:application" {
		t.Errorf("entrypoint = %q, want service.http:application", result.Entrypoint)
	}
}

func TestToolVercelEntrypointThatCannotBeUsed(t *testing.T) {
	t.Parallel()
	requirePython(t)
	for pyproject, want := range map[string]string{
		"[tool.vercel]\nentrypoint = \"missing.module:app\"\n": `[tool.vercel] entrypoint in pyproject.toml is "missing.module:app", but neither missing/module.py nor missing/module/__init__.py exists`,
		"[tool.vercel]\nentrypoint = 3\n":                      `[tool.vercel] entrypoint in pyproject.toml is a int64; it must be a string in "module:object" form`,
	} {
		spec, log := newSpec(t, map[string]string{"pyproject.toml": pyproject, "app.py": "app = lambda environ, start_response: []\n"})
		err := mustFail(t, spec, log, StepEntrypoint)
		assertContains(t, "message", err.Message, want)
	}
}

func TestDjangoProject(t *testing.T) {
	t.Parallel()
	requirePython(t, "django")
	spec, log := newSpec(t, testApp(t, "django"))
	result := mustBuild(t, spec, log)
	if result.Entrypoint != "mysite.wsgi:application" || result.Kind != runspec.KindWSGI || result.Framework != "django" {
		t.Errorf("result = %+v, want mysite.wsgi:application, wsgi, django", result)
	}
	if result.AppDir != spec.SrcDir {
		t.Errorf("app dir %s, want the root %s", result.AppDir, spec.SrcDir)
	}
	assertContains(t, "log", log.String(), "Django 3.2", "settings mysite.settings", "named by WSGI_APPLICATION in mysite.settings")
}

func TestDjangoProjectInAFolderRunsThere(t *testing.T) {
	t.Parallel()
	requirePython(t, "django")
	files := map[string]string{"README.md": "hi\n"}
	for name, content := range testApp(t, "django") {
		files["backend/"+name] = content
	}
	spec, log := newSpec(t, files)
	result := mustBuild(t, spec, log)
	if result.Entrypoint != "mysite.wsgi:application" || result.AppDir != spec.SrcDir+"/backend" {
		t.Errorf("result = %+v, want mysite.wsgi:application running in backend", result)
	}
}

func TestDjangoWithoutApplicationSetting(t *testing.T) {
	t.Parallel()
	requirePython(t, "django")
	files := testApp(t, "django")
	files["mysite/settings.py"] = "SECRET_KEY = 'x'\nINSTALLED_APPS = []\n"
	spec, log := newSpec(t, files)
	err := mustFail(t, spec, log, StepEntrypoint)
	assertContains(t, "message", err.Message, "set neither ASGI_APPLICATION nor WSGI_APPLICATION", `WSGI_APPLICATION = "<project>.wsgi.application"`)
}

func TestLegacyAPIFunctions(t *testing.T) {
	t.Parallel()
	requirePython(t)
	spec, log := newSpec(t, map[string]string{
		"api/index.py":        handlerHello,
		"api/users.py":        handlerHello,
		"api/v1/orders.py":    "def app(environ, start_response):\n    start_response('200 OK', [])\n    return [b'orders']\n",
		"api/_shared.py":      handlerHello, // names starting with _ are not functions
		"api/helpers/util.py": "VALUE = 1\n",
		"vercel.json":         `{"functions": {"api/users.py": {"memory": 256, "maxDuration": 5}, "api/**/*.py": {"maxDuration": 20}}}`,
	})
	result := mustBuild(t, spec, log)
	want := []runspec.Function{
		{File: "api/index.py", Route: "/api", Entrypoint: "api.index:handler", Kind: runspec.KindHandler, MaxDuration: 20},
		{File: "api/users.py", Route: "/api/users", Entrypoint: "api.users:handler", Kind: runspec.KindHandler, MaxDuration: 5, MemoryMB: 256},
		{File: "api/v1/orders.py", Route: "/api/v1/orders", Entrypoint: "api.v1.orders:app", Kind: runspec.KindWSGI, MaxDuration: 20},
	}
	if !reflect.DeepEqual(result.Functions, want) {
		t.Errorf("functions =\n%+v\nwant\n%+v", result.Functions, want)
	}
	if result.Entrypoint != "api.index:handler" {
		t.Errorf("entrypoint = %q, want the first function's", result.Entrypoint)
	}
	assertContains(t, "log", log.String(), "3 functions in api/")
}

func TestAppInTheRootWinsOverAPIFunctions(t *testing.T) {
	t.Parallel()
	requirePython(t, "flask")
	spec, log := newSpec(t, map[string]string{"main.py": flaskHello, "api/users.py": handlerHello})
	result := mustBuild(t, spec, log)
	if result.Entrypoint != "main:app" || result.Functions != nil {
		t.Errorf("result = %+v, want the app main:app alone", result)
	}
}

func TestLegacyBuildsNameTheEntrypoint(t *testing.T) {
	t.Parallel()
	requirePython(t, "flask")
	spec, log := newSpec(t, map[string]string{
		"app.py":         "raise RuntimeError('not the app vercel.json names')\n",
		"server/main.py": flaskHello,
		"vercel.json": `{"builds": [{"src": "server/main.py", "use": "@vercel/python"}, {"src": "static/**", "use": "@vercel/static"}],
  "routes": [{"src": "/(.*)", "dest": "server/main.py"}]}`,
	})
	result := mustBuild(t, spec, log)
	if result.Entrypoint != "server.main:app" || result.Functions != nil {
		t.Errorf("result = %+v, want the app server.main:app", result)
	}

	spec, log = newSpec(t, map[string]string{"app.py": flaskHello, "vercel.json": `{"builds": [{"src": "api/*.py", "use": "@vercel/python"}]}`})
	err := mustFail(t, spec, log, StepEntrypoint)
	assertContains(t, "message", err.Message, `builds[0].src "api/*.py" matches no Python file`)
}

func TestNotFoundSuggestsTheAppsElsewhere(t *testing.T) {
	t.Parallel()
	requirePython(t)
	spec, log := newSpec(t, map[string]string{"service/web.py": "def app(environ, start_response):\n    return []\n"})
	err := mustFail(t, spec, log, StepEntrypoint)
	assertContains(t, "message", err.Message, "These files define an app: service/web.py (`app`)", "[tool.vercel]\nentrypoint = \"service.web:app\"")
}

func TestFunctionsPatternMustMatchTheApp(t *testing.T) {
	t.Parallel()
	requirePython(t, "flask")
	spec, log := newSpec(t, map[string]string{"app.py": flaskHello, "vercel.json": `{"functions": {"api/*.py": {"maxDuration": 10}}}`})
	err := mustFail(t, spec, log, StepEntrypoint)
	assertContains(t, "message", err.Message, `the pattern "api/*.py" of functions matches none of the app's files (app.py)`)

	spec, log = newSpec(t, map[string]string{"app.py": flaskHello, "vercel.json": `{"functions": {"app.py": {"maxDuration": 10, "memory": 512}}}`})
	result := mustBuild(t, spec, log)
	if result.MaxDuration != 10 || result.MemoryMB != 512 {
		t.Errorf("max duration %d, memory %d; want 10 and 512", result.MaxDuration, result.MemoryMB)
	}
}

// testApp reads the app testdata/apps/name as files (slash path -> content).
func testApp(t *testing.T, name string) map[string]string {
	t.Helper()
	root := filepath.Join("testdata", "apps", name)
	files := map[string]string{}
	err := filepath.WalkDir(root, func(path string, entry fs.DirEntry, err error) error {
		if err != nil || entry.IsDir() {
			return err
		}
		content, err := os.ReadFile(path)
		rel, _ := filepath.Rel(root, path)
		files[filepath.ToSlash(rel)] = string(content)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}
