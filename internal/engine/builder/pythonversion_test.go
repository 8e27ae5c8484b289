package builder

import (
	"errors"
	"strings"
	"testing"
)

func TestVersionRequests(t *testing.T) {
	for _, tt := range []struct {
		name          string
		files         map[string]string
		wantSpecifier string
		wantSource    string
	}{
		{".python-version", map[string]string{".python-version": "# pinned\n3.12.1\n", "pyproject.toml": "[project]\nrequires-python = \">=3.9\"\n"}, "==3.12.*", ".python-version (3.12.1)"},
		{"uv's form", map[string]string{".python-version": "cpython@3.13\n"}, "==3.13.*", ".python-version (cpython@3.13)"},
		{"requires-python", map[string]string{"pyproject.toml": "[project]\nrequires-python = \">=3.10,<3.13\"\n"}, ">=3.10,<3.13", `requires-python = ">=3.10,<3.13" in pyproject.toml`},
		{"Pipfile.lock", map[string]string{"Pipfile.lock": `{"_meta": {"requires": {"python_version": "3.10"}}, "default": {}}`}, "==3.10.*", `python_version "3.10" in Pipfile.lock`},
		{"Pipfile", map[string]string{"Pipfile": "[requires]\npython_full_version = \"3.11.4\"\n"}, "==3.11.*", `python_version "3.11.4" in Pipfile`},
		{"nothing", map[string]string{"app.py": ""}, "", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, tt.files)
			project, err := readPyproject(dir)
			if err != nil {
				t.Fatal(err)
			}
			request, err := requestedVersion(dir, project)
			if err != nil {
				t.Fatal(err)
			}
			var specifier, source string
			if request != nil {
				specifier, source = request.specifier, request.source
			}
			if specifier != tt.wantSpecifier || source != tt.wantSource {
				t.Errorf("request = %q from %q, want %q from %q", specifier, source, tt.wantSpecifier, tt.wantSource)
			}
		})
	}
}

func TestBadVersionRequests(t *testing.T) {
	for _, tt := range []struct {
		files map[string]string
		want  string
	}{
		{map[string]string{".python-version": "pypy3.10\n"}, `.python-version asks for "pypy3.10", which is not a CPython 3 version`},
		{map[string]string{"pyproject.toml": "[project]\nrequires-python = \"3.11 || 3.12\"\n"}, `requires-python = "3.11 || 3.12" in pyproject.toml is not a valid version specifier (PEP 440 joins clauses with commas, not ||)`},
		{map[string]string{"pyproject.toml": "[project]\nrequires-python = \"3.11\"\n"}, `"3.11" has no comparison operator`},
	} {
		dir := t.TempDir()
		writeFiles(t, dir, tt.files)
		project, err := readPyproject(dir)
		if err == nil {
			_, err = requestedVersion(dir, project)
		}
		var buildErr *Error
		if !errors.As(err, &buildErr) || !strings.Contains(buildErr.Message, tt.want) {
			t.Errorf("%v: got %v, want an error containing %q", tt.files, err, tt.want)
		}
	}
}

func TestChooseInterpreter(t *testing.T) {
	interpreters := []Interpreter{
		{Path: "/usr/bin/python3", Version: "3.11.2"},
		{Path: "/opt/py/3.13/bin/python3", Version: "3.13.0"},
		{Path: "/opt/py/3.12/bin/python3", Version: "3.12.1", Unusable: "the projects' users cannot enter /opt/py (mode 700)"},
		{Path: "/opt/py/3.10/bin/python3", Version: "3.10.13"},
	}
	for specifier, want := range map[string]string{
		"":         "/usr/bin/python3", // the engine's default
		">=3.10":   "/usr/bin/python3",
		"==3.13.*": "/opt/py/3.13/bin/python3",
		"<3.11":    "/opt/py/3.10/bin/python3",
		"~=3.10.0": "/opt/py/3.10/bin/python3",
	} {
		var request *versionRequest
		if specifier != "" {
			request = &versionRequest{specifier: specifier, source: "test"}
		}
		got, err := chooseInterpreter(request, interpreters)
		if err != nil || got.Path != want {
			t.Errorf("for %q chose %+v (%v), want %s", specifier, got, err, want)
		}
	}
	_, err := chooseInterpreter(&versionRequest{specifier: "==3.12.*", source: `requires-python = "==3.12.*" in pyproject.toml`}, interpreters)
	var buildErr *Error
	if !errors.As(err, &buildErr) {
		t.Fatalf("got %v, want a build error", err)
	}
	assertContains(t, "message", buildErr.Message, `no Python on this engine satisfies requires-python = "==3.12.*" in pyproject.toml`,
		"3.11.2 at /usr/bin/python3", "3.12.1 at /opt/py/3.12/bin/python3 (unusable: the projects' users cannot enter /opt/py", "--extra-pythons")
}

func TestUnsatisfiableRequiresPython(t *testing.T) {
	t.Parallel()
	requirePython(t)
	spec, log := newSpec(t, map[string]string{
		"pyproject.toml": "[project]\nname = \"x\"\nrequires-python = \">=3.99\"\n",
		"app.py":         "def app(environ, start_response):\n    return []\n",
	})
	err := mustFail(t, spec, log, StepPython)
	assertContains(t, "message", err.Message, `no Python on this engine satisfies requires-python = ">=3.99" in pyproject.toml`, systemPythonVersion(t)+" at "+systemPython)
}

// A project asking for another version gets an interpreter of that version, when the engine
// has one (pyenv's, here).
func TestPythonVersionFileChoosesTheInterpreter(t *testing.T) {
	t.Parallel()
	requirePython(t)
	interpreters := FindInterpreters([]string{systemPython}, false)
	var other *Interpreter
	for i, candidate := range interpreters {
		if candidate.Unusable == "" && !strings.HasPrefix(candidate.Version, minorOf(systemPythonVersion(t))) {
			other = &interpreters[i]
			break
		}
	}
	if other == nil {
		t.Skipf("no interpreter of another version than %s's is installed (found %v)", systemPython, interpreters)
	}
	spec, log := newSpec(t, map[string]string{
		".python-version": minorOf(other.Version) + "\n",
		"index.py":        handlerHello,
	})
	spec.Interpreters = interpreters
	result := mustBuild(t, spec, log)
	if result.PythonVersion != other.Version {
		t.Errorf("built with Python %s, want %s", result.PythonVersion, other.Version)
	}
	assertContains(t, "log", log.String(), "Python "+other.Version+" chosen for .python-version")
}

func minorOf(version string) string {
	parts := strings.SplitN(version, ".", 3)
	return parts[0] + "." + parts[1]
}
