package builder

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

//go:embed helper.py
var helperSource string

func (b *builder) createEnvironment(ctx context.Context) error {
	python, err := b.chooseInterpreter()
	if err != nil {
		return err
	}
	b.python = python
	venvDir, err := filepath.Abs(b.spec.VenvDir)
	if err != nil {
		return failure("invalid environment directory %q: %v", b.spec.VenvDir, err)
	}
	if err := os.MkdirAll(venvDir, 0o755); err != nil {
		return failure("cannot create the directory for the Python environment: %v", err)
	}
	b.env = ProcessEnv(b.spec.Env, venvDir)
	if b.spec.HomeDir != "" {
		b.env = append(b.env, "HOME="+b.spec.HomeDir, "TMPDIR="+b.spec.HomeDir)
	}
	if err := b.run(ctx, b.appDir, python.Path, venvArgs(venvDir)...); err != nil {
		return failure("%s -m venv could not create the Python environment (%v): check that %s is a working Python 3 (on Debian or Ubuntu, install python3-venv)", python.Path, err, python.Path)
	}
	b.venvDir = venvDir
	b.venvPython = filepath.Join(venvDir, "bin", "python")
	b.log.printf("Python %s from %s", venvVersion(venvDir), python.Path)
	return nil
}

// chooseInterpreter picks the interpreter for the version the project asks for, among those
// the engine knows.
func (b *builder) chooseInterpreter() (Interpreter, error) {
	if b.spec.Python == "" {
		return Interpreter{}, failure("no Python 3 was found (looked for %s): install Python 3, or set python in the provider block (or FERRY_PYTHON) to an interpreter", strings.Join(PythonCandidates(), ", "))
	}
	interpreters := b.spec.Interpreters
	if len(interpreters) == 0 {
		interpreters = FindInterpreters([]string{b.spec.Python}, b.spec.Sandbox.SeparateIdentities())
	}
	// The default must be there: silently building with another Python would surprise more.
	if len(interpreters) == 0 || interpreters[0].Path != mustLookPath(b.spec.Python) {
		return Interpreter{}, failure("the Python interpreter %q was not found, or is not a Python 3: install Python 3, or set python in the provider block (or FERRY_PYTHON) to an interpreter that exists", b.spec.Python)
	}
	request, err := requestedVersion(b.appDir, b.project)
	if err != nil {
		return Interpreter{}, err
	}
	python, err := chooseInterpreter(request, interpreters)
	if err != nil {
		return Interpreter{}, err
	}
	if request != nil {
		b.log.printf("Python %s chosen for %s", python.Version, request.source)
	} else {
		b.log.printf("no Python version asked for (%s, requires-python in %s, %s or %s): using the engine's default", pythonVersionFile, pyprojectFile, pipfileLockName, pipfileName)
	}
	return python, nil
}

// mustLookPath is path as exec finds it, or path itself.
func mustLookPath(path string) string {
	if found, err := exec.LookPath(path); err == nil {
		return found
	}
	return path
}

// venvVersion reads the version venv records in pyvenv.cfg, saving a Python start.
func venvVersion(venvDir string) string {
	cfg, err := os.ReadFile(filepath.Join(venvDir, "pyvenv.cfg"))
	if err != nil {
		return "(unknown version)"
	}
	for _, line := range strings.Split(string(cfg), "\n") {
		key, value, ok := strings.Cut(line, "=")
		if ok && (strings.TrimSpace(key) == "version" || strings.TrimSpace(key) == "version_info") {
			return strings.TrimSpace(value)
		}
	}
	return "(unknown version)"
}

// runHelper runs a command of helper.py with the venv's Python in the root directory and
// decodes its JSON answer; the helper's output goes to the log.
func (b *builder) runHelper(ctx context.Context, answer any, command string, args ...string) error {
	return b.runHelperIn(ctx, b.appDir, answer, command, args...)
}

// runHelperIn is runHelper in dir.
func (b *builder) runHelperIn(ctx context.Context, dir string, answer any, command string, args ...string) error {
	// The helper creates the file: it runs as the project's user, which may not write the engine's.
	b.commands++
	resultPath := filepath.Join(b.venvDir, fmt.Sprintf(".ferry-build-%d.json", b.commands))
	defer func() { _ = os.Remove(resultPath) }() // best effort: absent if the helper ended early

	helperArgs := append([]string{"-c", helperSource, command, resultPath}, args...)
	if err := b.run(ctx, dir, b.venvPython, helperArgs...); err != nil {
		return fmt.Errorf("the Python process ended early (%w)", err)
	}
	data, err := readOwnFile(resultPath)
	if err != nil {
		return err
	}
	if len(data) == 0 {
		return errors.New("the Python process ended without an answer")
	}
	return json.Unmarshal(data, answer)
}

// venvArgs create a virtual environment at dir that sees the interpreter's packages. Isolated
// (-I), so that a venv.py of the app cannot stand in for the standard library's; without pip,
// which takes tens of milliseconds instead of seconds: the interpreter's pip serves, as
// python -m pip.
func venvArgs(dir string) []string {
	return []string{"-I", "-m", "venv", "--system-site-packages", "--without-pip", dir}
}

// maxAnswerBytes bounds a helper's answer.
const maxAnswerBytes = 16 << 20

// readOwnFile reads a file the build's user wrote, refusing a symbolic link (which would have
// the engine read a file of its choice) or anything but a regular file.
func readOwnFile(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }() // read-only
	if info, err := f.Stat(); err != nil || !info.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", filepath.Base(path))
	}
	return io.ReadAll(io.LimitReader(f, maxAnswerBytes))
}
