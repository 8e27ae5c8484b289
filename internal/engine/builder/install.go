package builder

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

const requirementsFile = "requirements.txt"

// requirementsAnswer is what helper.py's requirements command reports.
type requirementsAnswer struct {
	PipAvailable bool               `json:"pip"`
	Checked      []requirementCheck `json:"checked"`
	Undecidable  string             `json:"undecidable"` // why only pip can decide; "" when every line was checked
}

type requirementCheck struct {
	Requirement string `json:"requirement"`
	OK          bool   `json:"ok"`
	Installed   string `json:"installed"`
	Reason      string `json:"reason"`  // why it is not satisfied
	Skipped     string `json:"skipped"` // why it does not apply here
}

func (c requirementCheck) String() string {
	switch {
	case c.Skipped != "":
		return c.Requirement + ": skipped, " + c.Skipped
	case c.OK:
		return c.Requirement + ": " + c.Installed + " installed"
	default:
		return c.Requirement + ": " + c.Reason
	}
}

func (b *builder) install(ctx context.Context) error {
	if b.spec.InstallCommand != nil {
		return b.runInstallCommand(ctx, *b.spec.InstallCommand)
	}
	if _, err := os.Stat(filepath.Join(b.appDir, requirementsFile)); errors.Is(err, fs.ErrNotExist) {
		b.log.printf("no %s in %s: nothing to install", requirementsFile, displayRoot(b.spec.RootDirectory))
		if _, err := os.Stat(filepath.Join(b.appDir, "pyproject.toml")); err == nil {
			b.log.printf("pyproject.toml is not installed by default: add a %s or set install_command (for example \"python -m pip install .\")", requirementsFile)
		}
		return nil
	}

	// pip resolves the whole dependency tree, and refuses an installed tree
	// that is inconsistent (Debian's fastapi declares a starlette older than
	// the one Debian ships) or that it cannot verify offline. When every
	// listed requirement is already installed there is nothing for it to do.
	answer := requirementsAnswer{PipAvailable: true}
	if err := b.runHelper(ctx, &answer, "requirements", requirementsFile); err != nil {
		if ctx.Err() != nil {
			return err
		}
		answer = requirementsAnswer{PipAvailable: true, Undecidable: "checking them failed: " + err.Error()}
	}
	var unsatisfied []requirementCheck
	for _, check := range answer.Checked {
		b.log.printf("requirement %s", check)
		if !check.OK {
			unsatisfied = append(unsatisfied, check)
		}
	}
	switch {
	case answer.Undecidable != "":
		b.log.printf("%s %s: leaving it to pip", requirementsFile, answer.Undecidable)
	case len(unsatisfied) == 0:
		b.log.printf("every requirement in %s is already installed: skipping pip", requirementsFile)
		return nil
	}
	if !answer.PipAvailable {
		need := "needs " + describeRequirements(unsatisfied)
		if len(unsatisfied) == 0 {
			need = answer.Undecidable + ", which needs pip"
		}
		return failure("%s %s, and pip is not available to %s: install pip for it (on Debian: apt-get install python3-pip), or set install_command (\"true\" skips installing)",
			requirementsFile, need, b.spec.Python)
	}

	b.log.printf("running pip install -r %s", requirementsFile)
	err := b.run(ctx, b.appDir, b.venvPython, "-m", "pip", "install",
		"--disable-pip-version-check", "--no-input", "--progress-bar", "off",
		// Fail in seconds, not minutes, when no package index is reachable.
		"--timeout", "5", "--retries", "0",
		"-r", requirementsFile)
	if err == nil {
		return nil
	}
	what := fmt.Sprintf("pip could not install %s (%v)", requirementsFile, err)
	if len(unsatisfied) > 0 {
		what = "pip could not install what " + requirementsFile + " needs: " + describeRequirements(unsatisfied)
	}
	return failure("%s. Pin versions that are already installed on the engine's Python, or set install_command to install them another way (\"true\" skips installing)", what)
}

// describeRequirements names the unsatisfied requirements and why.
func describeRequirements(unsatisfied []requirementCheck) string {
	names := make([]string, len(unsatisfied))
	for i, check := range unsatisfied {
		names[i] = fmt.Sprintf("%s (%s)", check.Requirement, check.Reason)
	}
	return strings.Join(names, ", ")
}

func (b *builder) runInstallCommand(ctx context.Context, command string) error {
	if trimmed := strings.TrimSpace(command); trimmed == "" || trimmed == "true" {
		b.log.printf("install_command is %q: skipping install", command)
		return nil
	}
	b.log.printf("running install command: %s", command)
	if err := b.shell(ctx, command); err != nil {
		return failure("the install command failed (%v): fix it, or set install_command to \"true\" to skip installing", err)
	}
	return nil
}
