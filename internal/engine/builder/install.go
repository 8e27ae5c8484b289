package builder

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
)

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

// convertedRequirementsName is the requirements file written, in the build's home, for
// dependencies read from another format.
const convertedRequirementsName = "ferry-requirements.txt"

func (b *builder) install(ctx context.Context) error {
	if b.installCommand != nil {
		return b.runInstallCommand(ctx, *b.installCommand)
	}
	if b.deps == nil {
		b.log.printf("no dependencies declared in %s (looked for %s): nothing to install", displayRoot(b.spec.RootDirectory), dependencySources)
		return b.installProject(ctx)
	}
	requirements, err := b.requirementsPath()
	if err != nil {
		return err
	}
	b.log.printf("dependencies from %s", b.deps.source)
	key := b.cacheKey()
	if key != "" && b.spec.UseCache {
		if cached := b.cachedEnvironment(key); cached != "" {
			b.log.printf("%s is unchanged since an earlier build: reusing its installed packages (build cache %s), nothing to install", b.deps.source, key)
			if err := b.installCached(cached); err != nil {
				return err
			}
			return b.installProject(ctx)
		}
	}

	// pip resolves the whole dependency tree, and refuses an installed tree
	// that is inconsistent (Debian's fastapi declares a starlette older than
	// the one Debian ships) or that it cannot verify offline. When every
	// listed requirement is already installed there is nothing for it to do.
	answer := requirementsAnswer{PipAvailable: true}
	if err := b.runHelper(ctx, &answer, "requirements", requirements); err != nil {
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
		b.log.printf("%s %s: leaving it to pip", b.deps.source, answer.Undecidable)
	case len(unsatisfied) == 0:
		b.log.printf("every requirement in %s is already installed: skipping pip", b.deps.source)
		return b.installProject(ctx)
	}
	if !answer.PipAvailable {
		need := "needs " + describeRequirements(unsatisfied)
		if len(unsatisfied) == 0 {
			need = answer.Undecidable + ", which needs pip"
		}
		return failure("%s %s, and pip is not available to %s: install pip for it (on Debian: apt-get install python3-pip), or set install_command (\"true\" skips installing)",
			b.deps.source, need, b.python.Path)
	}
	err = b.installRequirements(ctx, requirements, key)
	if err != nil {
		what := fmt.Sprintf("pip could not install %s (%v)", b.deps.source, err)
		if len(unsatisfied) > 0 {
			what = "pip could not install what " + b.deps.source + " needs: " + describeRequirements(unsatisfied)
		}
		return failure("%s. Pin versions that are already installed on the engine's Python, or set install_command to install them another way (\"true\" skips installing)", what)
	}
	return b.installProject(ctx)
}

// installRequirements has pip install requirements: into the build cache under key, whose
// files the deployment then gets, or, without a cache (key ""), into the deployment itself.
func (b *builder) installRequirements(ctx context.Context, requirements, key string) error {
	if key == "" {
		b.log.printf("running pip install -r %s", displayRequirements(b.appDir, requirements))
		return b.run(ctx, b.appDir, b.venvPython, pipInstallArgs(requirements)...)
	}
	if !b.spec.UseCache {
		b.log.printf("the build cache is off for this deployment: installing from scratch")
	}
	cached, err := b.fillCache(ctx, key, requirements)
	if err != nil {
		return err
	}
	b.log.printf("installed packages kept in the build cache as %s", key)
	return b.installCached(cached)
}

// requirementsPath is the requirements file pip and the helper read: the project's own, or
// one written in the build's home from the lines converted from another format.
func (b *builder) requirementsPath() (string, error) {
	if b.deps.requirementsFile != "" {
		return filepath.Join(b.appDir, filepath.FromSlash(b.deps.requirementsFile)), nil
	}
	dir := b.spec.HomeDir
	if dir == "" {
		dir = b.venvDir
	}
	path := filepath.Join(dir, convertedRequirementsName)
	content := "# converted by ferry from " + b.deps.source + "\n" + strings.Join(b.deps.lines, "\n") + "\n"
	if err := writeNewFile(path, []byte(content), 0o644); err != nil {
		return "", fmt.Errorf("write the requirements converted from %s: %w", b.deps.source, err)
	}
	return path, nil
}

// displayRequirements names a requirements path in the log the way a user knows it.
func displayRequirements(appDir, path string) string {
	if rel, err := filepath.Rel(appDir, path); err == nil && filepath.IsLocal(rel) {
		return filepath.ToSlash(rel)
	}
	return filepath.Base(path)
}

func pipInstallArgs(requirements string) []string {
	return []string{"-m", "pip", "install",
		"--disable-pip-version-check", "--no-input", "--progress-bar", "off",
		// Fail in seconds, not minutes, when no package index is reachable.
		"--timeout", "5", "--retries", "0",
		"-r", requirements}
}

// describeRequirements names the unsatisfied requirements and why.
func describeRequirements(unsatisfied []requirementCheck) string {
	names := make([]string, len(unsatisfied))
	for i, check := range unsatisfied {
		names[i] = fmt.Sprintf("%s (%s)", check.Requirement, check.Reason)
	}
	return strings.Join(names, ", ")
}

// defaultBuildBackend is what pip builds a pyproject.toml without build-backend with.
const defaultBuildBackend = "setuptools.build_meta"

// installProject installs a project that is itself a package (its pyproject.toml has a
// [build-system]) into the deployment's own environment, as `uv sync` does on Vercel. Its
// dependencies are installed already; nothing is fetched.
func (b *builder) installProject(ctx context.Context) error {
	if !b.project.isPackage() {
		return nil
	}
	backend := b.project.BuildSystem.Backend
	if backend == "" {
		backend = defaultBuildBackend
	}
	backendModule, _, _ := strings.Cut(backend, ":")
	var answer struct {
		Missing []string `json:"missing"`
	}
	if err := b.runHelper(ctx, &answer, "importable", backendModule); err != nil {
		return err
	}
	if len(answer.Missing) > 0 {
		b.log.printf("%s is a package built with %s, which %s lacks: not installing it as a package; its modules are imported from %s",
			pyprojectFile, backend, b.python.Path, displayRoot(b.spec.RootDirectory))
		return nil
	}
	b.log.printf("installing the project %s as a package (its %s has a [build-system])", b.project.Project.Name, pyprojectFile)
	err := b.run(ctx, b.appDir, b.venvPython, "-m", "pip", "install", "--disable-pip-version-check", "--no-input",
		"--no-deps", "--no-build-isolation", "--no-index", ".")
	if err != nil {
		return failure("pip could not install the project itself (%v): fix the packaging of %s (see the output below), or remove its [build-system] table if the app need not be installed", err, pyprojectFile)
	}
	return nil
}

func (b *builder) runInstallCommand(ctx context.Context, command string) error {
	if trimmed := strings.TrimSpace(command); trimmed == "" || trimmed == "true" {
		b.log.printf("install command is %q: skipping install", command)
		return nil
	}
	b.log.printf("running install command: %s", command)
	if err := b.shell(ctx, command); err != nil {
		return failure("the install command failed (%v): fix it, or set install_command (or installCommand in vercel.json) to \"true\" to skip installing", err)
	}
	return nil
}
