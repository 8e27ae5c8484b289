package builder

import (
	"errors"
	"reflect"
	"testing"
)

// dependenciesOf reads the dependencies of a source made of files.
func dependenciesOf(t *testing.T, files map[string]string) (*dependencySpec, error) {
	t.Helper()
	dir := t.TempDir()
	writeFiles(t, dir, files)
	project, err := readPyproject(dir)
	if err != nil {
		t.Fatalf("pyproject.toml: %v", err)
	}
	return findDependencies(dir, project)
}

func TestDependencySourcesInVercelsOrder(t *testing.T) {
	for _, tt := range []struct {
		name       string
		files      map[string]string
		wantSource string
		wantLines  []string
	}{
		{"pyproject over requirements", map[string]string{
			"pyproject.toml":   "[project]\nname = \"x\"\ndependencies = [\"flask>=2\", \"requests; python_version < '3.8'\"]\n",
			"requirements.txt": "django\n",
		}, "pyproject.toml", []string{"flask>=2", "requests; python_version < '3.8'"}},
		{"pyproject without dependencies leaves them to requirements.txt", map[string]string{
			"pyproject.toml":   "[project]\nname = \"x\"\ndynamic = [\"dependencies\"]\n[tool.ruff]\nline-length = 100\n",
			"requirements.txt": "flask\n",
		}, "requirements.txt", nil},
		{"uv.lock beside pyproject", map[string]string{
			"pyproject.toml": "[project]\nname = \"x\"\ndependencies = [\"flask\"]\n",
			"uv.lock":        uvLockSample,
		}, "uv.lock", []string{
			"blinker==1.9.0",
			"click==8.1.8",
			"colorama==0.4.6 ; (platform_system == 'Windows')",
			"flask==3.1.0",
			"h11==0.14.0",
			"uvicorn==0.34.0",
			"uvloop==0.21.0 ; (sys_platform != 'win32')",
		}},
		{"Pipfile.lock over Pipfile", map[string]string{
			"Pipfile":      "[packages]\ndjango = \"*\"\n",
			"Pipfile.lock": `{"_meta": {"requires": {"python_version": "3.11"}}, "default": {"flask": {"version": "==2.2.2", "hashes": ["sha256:x"]}, "uvicorn": {"version": "==0.17.6", "extras": ["standard"], "markers": "python_version >= '3.7'"}, "myapp": {"editable": true, "path": "."}}, "develop": {"pytest": {"version": "==8.0.0"}}}`,
		}, "Pipfile.lock", []string{"flask==2.2.2", "uvicorn[standard]==0.17.6 ; python_version >= '3.7'"}},
		{"Pipfile", map[string]string{
			"Pipfile": "[packages]\nflask = \"*\"\nrequests = \">=2.0\"\nuvicorn = {version = \"==0.17.6\", extras = [\"standard\"], index = \"pypi\"}\nlib = {git = \"https://example.com/lib.git\", ref = \"v1\"}\n",
		}, "Pipfile", []string{"flask", "lib @ git+https://example.com/lib.git@v1", "requests>=2.0", "uvicorn[standard]==0.17.6"}},
		{"pylock.toml", map[string]string{
			"pylock.toml": "lock-version = \"1.0\"\n[[packages]]\nname = \"flask\"\nversion = \"2.2.2\"\n[[packages]]\nname = \"pywin32\"\nversion = \"306\"\nmarker = \"sys_platform == 'win32'\"\n",
		}, "pylock.toml", []string{"flask==2.2.2", "pywin32==306 ; sys_platform == 'win32'"}},
		{"requirements.txt", map[string]string{"requirements.txt": "flask\n", "requirements.in": "django\n"}, "requirements.txt", nil},
		{"requirements/prod.txt", map[string]string{"requirements/prod.txt": "flask\n"}, "requirements/prod.txt", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			spec, err := dependenciesOf(t, tt.files)
			if err != nil || spec == nil {
				t.Fatalf("findDependencies = %+v, %v", spec, err)
			}
			if spec.source != tt.wantSource || !reflect.DeepEqual(spec.lines, tt.wantLines) {
				t.Errorf("got %s %q, want %s %q", spec.source, spec.lines, tt.wantSource, tt.wantLines)
			}
		})
	}
}

func TestNoDependencies(t *testing.T) {
	spec, err := dependenciesOf(t, map[string]string{"app.py": "", "pyproject.toml": "[tool.black]\n"})
	if spec != nil || err != nil {
		t.Errorf("findDependencies = %+v, %v; want none", spec, err)
	}
}

func TestDependencyFilesPipCannotRead(t *testing.T) {
	for _, tt := range []struct {
		name  string
		files map[string]string
		wants []string
	}{
		{"uv.lock from git", map[string]string{
			"pyproject.toml": "[project]\nname = \"x\"\ndependencies = [\"lib\"]\n",
			"uv.lock": `version = 1
[[package]]
name = "x"
version = "0.1.0"
source = { virtual = "." }
dependencies = [{ name = "lib" }]

[[package]]
name = "lib"
version = "1.0"
source = { git = "https://example.com/lib.git?rev=v1#abc" }
`,
		}, []string{"uv.lock installs lib from git", "uv export --no-hashes -o requirements.txt"}},
		{"uv.lock forked", map[string]string{
			"pyproject.toml": "[project]\nname = \"x\"\ndependencies = [\"numpy\"]\n",
			"uv.lock": `version = 1
[[package]]
name = "x"
version = "0.1.0"
source = { editable = "." }
dependencies = [{ name = "numpy" }]

[[package]]
name = "numpy"
version = "1.26.4"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "numpy"
version = "2.1.0"
source = { registry = "https://pypi.org/simple" }
`,
		}, []string{"resolves numpy to several versions", "uv export"}},
		{"pylock from a directory", map[string]string{
			"pylock.toml": "lock-version = \"1.0\"\n[[packages]]\nname = \"lib\"\ndirectory = { path = \"../lib\" }\n",
		}, []string{"pylock.toml installs lib from a repository, directory or archive"}},
		{"pylock with dependency groups", map[string]string{
			"pylock.toml": "lock-version = \"1.0\"\n[[packages]]\nname = \"pytest\"\nversion = \"8.0\"\nmarker = \"'dev' in dependency_groups\"\n",
		}, []string{"by extras or dependency groups"}},
		{"broken Pipfile.lock", map[string]string{"Pipfile.lock": "{"}, []string{"Pipfile.lock is not a valid Pipfile lock", "pipenv lock"}},
		{"Pipfile path", map[string]string{"Pipfile": "[packages]\nlib = {path = \"../lib\"}\n"}, []string{"Pipfile installs lib from ../lib"}},
		{"poetry", map[string]string{"pyproject.toml": "[tool.poetry.dependencies]\npython = \"^3.11\"\nflask = \"^2.2\"\n"}, []string{"[tool.poetry.dependencies]", "[project] dependencies"}},
		{"pyproject syntax", map[string]string{"pyproject.toml": "[project\nname = 1\n"}, []string{"pyproject.toml is not valid TOML at line", "Fix the syntax"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, tt.files)
			project, err := readPyproject(dir)
			if err == nil {
				_, err = findDependencies(dir, project)
			}
			var buildErr *Error
			if !errors.As(err, &buildErr) {
				t.Fatalf("got %v, want a build error", err)
			}
			assertContains(t, "message", buildErr.Message, tt.wants...)
		})
	}
}

func TestRequirementsDigestFollowsIncludes(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"requirements.txt": "-r base.txt\nflask\n", "base.txt": "click\n"})
	first, err := requirementsDigest(dir, "requirements.txt")
	if err != nil {
		t.Fatal(err)
	}
	writeFiles(t, dir, map[string]string{"base.txt": "click==8.0\n"})
	second, err := requirementsDigest(dir, "requirements.txt")
	if err != nil {
		t.Fatal(err)
	}
	if first == second {
		t.Error("changing an included requirements file left the digest as it was")
	}
}

func TestPipfileLockDependenciesAreInstalledAlready(t *testing.T) {
	t.Parallel()
	requirePython(t, "flask")
	spec, log := newSpec(t, map[string]string{
		"app.py":       flaskHello,
		"Pipfile.lock": `{"_meta": {"requires": {}}, "default": {"flask": {"version": ">=2"}}, "develop": {"surely-not-a-real-package-ferry": {"version": "==1.0"}}}`,
	})
	mustBuild(t, spec, log)
	assertContains(t, "log", log.String(), "dependencies from Pipfile.lock", "requirement flask>=2: ", "every requirement in Pipfile.lock is already installed: skipping pip")
}

// uvLockSample is what uv writes for a project that needs flask and uvicorn[standard]; it also
// holds a dev dependency, which is not installed.
const uvLockSample = `version = 1
requires-python = ">=3.9"

[[package]]
name = "x"
version = "0.1.0"
source = { editable = "." }
dependencies = [
    { name = "flask" },
    { name = "uvicorn", extra = ["standard"] },
]

[package.dev-dependencies]
dev = [{ name = "pytest" }]

[[package]]
name = "flask"
version = "3.1.0"
source = { registry = "https://pypi.org/simple" }
dependencies = [
    { name = "blinker" },
    { name = "click" },
]

[[package]]
name = "blinker"
version = "1.9.0"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "click"
version = "8.1.8"
source = { registry = "https://pypi.org/simple" }
dependencies = [{ name = "colorama", marker = "platform_system == 'Windows'" }]

[[package]]
name = "colorama"
version = "0.4.6"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "uvicorn"
version = "0.34.0"
source = { registry = "https://pypi.org/simple" }
dependencies = [{ name = "h11" }]

[package.optional-dependencies]
standard = [{ name = "uvloop", marker = "sys_platform != 'win32'" }]

[[package]]
name = "h11"
version = "0.14.0"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "uvloop"
version = "0.21.0"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "pytest"
version = "8.3.4"
source = { registry = "https://pypi.org/simple" }
`
