package builder

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

//go:embed helper.py
var helperSource string

func (b *builder) createEnvironment(ctx context.Context) error {
	if b.spec.Python == "" {
		return failure("no Python 3 was found (looked for %s): install Python 3, or set python in the provider block (or FERRY_PYTHON) to an interpreter", strings.Join(PythonCandidates(), ", "))
	}
	python, err := exec.LookPath(b.spec.Python)
	if err != nil {
		return failure("the Python interpreter %q was not found: install Python 3, or set python in the provider block (or FERRY_PYTHON) to an interpreter that exists", b.spec.Python)
	}
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
	// Without pip the venv takes tens of milliseconds; the base interpreter's
	// packages (and its pip, run as python -m pip) stay visible through
	// --system-site-packages.
	if err := b.run(ctx, b.appDir, python, "-m", "venv", "--system-site-packages", "--without-pip", venvDir); err != nil {
		return failure("%s -m venv could not create the Python environment (%v): check that %s is a working Python 3 (on Debian or Ubuntu, install python3-venv)", python, err, python)
	}
	b.venvDir = venvDir
	b.venvPython = filepath.Join(venvDir, "bin", "python")
	b.log.printf("Python %s from %s", venvVersion(venvDir), python)
	return nil
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

// runHelper runs a command of helper.py with the venv's Python in the app
// directory and decodes its JSON answer; the helper's output goes to the log.
func (b *builder) runHelper(ctx context.Context, answer any, command string, args ...string) error {
	// The helper creates the file: it runs as the project's user, which may not write the engine's.
	b.commands++
	resultPath := filepath.Join(b.venvDir, fmt.Sprintf(".ferry-build-%d.json", b.commands))
	defer func() { _ = os.Remove(resultPath) }() // best effort: absent if the helper ended early

	helperArgs := append([]string{"-c", helperSource, command, resultPath}, args...)
	if err := b.run(ctx, b.appDir, b.venvPython, helperArgs...); err != nil {
		return fmt.Errorf("the Python process ended early (%w)", err)
	}
	data, err := os.ReadFile(resultPath)
	if err != nil {
		return err
	}
	if len(data) == 0 {
		return errors.New("the Python process ended without an answer")
	}
	return json.Unmarshal(data, answer)
}
