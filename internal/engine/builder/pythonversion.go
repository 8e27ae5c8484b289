package builder

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	pep440 "github.com/aquasecurity/go-pep440-version"
)

const pythonVersionFile = ".python-version"

// versionRequest is the Python a project asks for: a PEP 440 specifier and where it is written.
type versionRequest struct {
	specifier string // ">=3.10", "==3.12.*"
	source    string // for messages: `requires-python = ">=3.10" in pyproject.toml`
}

// pythonVersionLine reads a version of a .python-version line as pyenv and uv write them:
// 3.12, 3.12.1, python3.12, cpython-3.12, cpython@3.12.1.
var pythonVersionLine = regexp.MustCompile(`^(?:c?python)?[-@]?(3\.\d+)(?:\.\d+)?\S*$`)

// requestedVersion finds the Python the project asks for, in Vercel's order: .python-version,
// then requires-python of pyproject.toml, then Pipfile.lock, then Pipfile. nil when none asks.
func requestedVersion(appDir string, project *pyproject) (*versionRequest, error) {
	data, err := readSourceFile(appDir, pythonVersionFile)
	switch {
	case err == nil:
		return dotPythonVersion(string(data))
	case !errors.Is(err, errAbsent):
		return nil, err
	}
	if project != nil && project.Project != nil && project.Project.RequiresPython != "" {
		specifier := project.Project.RequiresPython
		source := fmt.Sprintf("requires-python = %q in %s", specifier, pyprojectFile)
		if problem := specifierProblem(specifier); problem != "" {
			return nil, failure("%s is not a valid version specifier (%s): write one such as \">=3.10\" or \"==3.12.*\"", source, problem)
		}
		return &versionRequest{specifier: specifier, source: source}, nil
	}
	lock, err := loadPipfileLock(appDir)
	switch {
	case err == nil:
		if request := minorVersionRequest(lock.Meta.Requires.PythonVersion, lock.Meta.Requires.PythonFullVersion, pipfileLockName); request != nil {
			return request, nil
		}
	case !errors.Is(err, errAbsent):
		return nil, err
	}
	pipfile, err := loadPipfile(appDir)
	if pipfile == nil {
		return nil, err
	}
	return minorVersionRequest(pipfile.Requires.PythonVersion, pipfile.Requires.PythonFullVersion, pipfileName), nil
}

// dotPythonVersion reads the first version of a .python-version file, as major.minor.
func dotPythonVersion(text string) (*versionRequest, error) {
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		match := pythonVersionLine.FindStringSubmatch(line)
		if match == nil {
			return nil, failure("%s asks for %q, which is not a CPython 3 version: write one such as 3.12", pythonVersionFile, line)
		}
		return &versionRequest{specifier: "==" + match[1] + ".*", source: fmt.Sprintf("%s (%s)", pythonVersionFile, line)}, nil
	}
	return nil, nil
}

// minorVersionRequest is the major.minor of a Pipfile's python version; nil when it names none.
func minorVersionRequest(version, fullVersion, file string) *versionRequest {
	if version == "" {
		version = fullVersion
	}
	parts := strings.Split(version, ".")
	if len(parts) < 2 {
		return nil
	}
	minor := parts[0] + "." + parts[1]
	return &versionRequest{specifier: "==" + minor + ".*", source: fmt.Sprintf("python_version %q in %s", version, file)}
}

// specifierProblem says why text is not a PEP 440 version specifier, or "".
func specifierProblem(text string) string {
	if strings.Contains(text, "||") {
		return "PEP 440 joins clauses with commas, not ||"
	}
	for _, clause := range strings.Split(text, ",") {
		if clause = strings.TrimSpace(clause); clause != "" && !strings.ContainsAny(clause[:1], "<>=!~") {
			return fmt.Sprintf("%q has no comparison operator", clause)
		}
	}
	if _, err := pep440.NewSpecifiers(text); err != nil {
		return err.Error()
	}
	return ""
}

// chooseInterpreter picks the first usable interpreter that satisfies request (the first
// usable one when there is no request). interpreters lists the engine's default first.
func chooseInterpreter(request *versionRequest, interpreters []Interpreter) (Interpreter, error) {
	var specifiers pep440.Specifiers
	if request != nil {
		var err error
		if specifiers, err = pep440.NewSpecifiers(request.specifier); err != nil {
			return Interpreter{}, failure("%s cannot be read: %v", request.source, err)
		}
	}
	for _, candidate := range interpreters {
		if candidate.Unusable != "" {
			continue
		}
		if request == nil || specifiers.Check(pep440.MustParse(candidate.Version)) {
			return candidate, nil
		}
	}
	known := make([]string, len(interpreters))
	for i, candidate := range interpreters {
		known[i] = candidate.String()
	}
	if request == nil {
		return Interpreter{}, failure("no usable Python interpreter was found (known: %s): install Python 3 with its venv module (on Debian: apt-get install python3-venv), or set python in the provider block (or FERRY_PYTHON)",
			orNone(known))
	}
	return Interpreter{}, failure("no Python on this engine satisfies %s. It has: %s. Ask for one of those versions, or install a Python that satisfies it (for example with pyenv) and give it to the engine (ferry serve --extra-pythons PATH, or put it on its PATH), then deploy again",
		request.source, orNone(known))
}

func orNone(list []string) string {
	if len(list) == 0 {
		return "none"
	}
	return strings.Join(list, "; ")
}
