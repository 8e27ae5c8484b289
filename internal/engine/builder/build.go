// Package builder turns an uploaded source tree into a runnable deployment: it
// creates the deployment's Python environment, installs its dependencies, runs
// its build command, and finds and verifies the app to serve: a WSGI or ASGI
// application, or a BaseHTTPRequestHandler class as in Vercel's Python runtime.
package builder

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/runspec"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/sandbox"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/vercelconfig"
)

// Spec describes one build.
type Spec struct {
	SrcDir         string        // the deployment's source, already written by the engine; the build may write into it
	VenvDir        string        // where to create the deployment's Python environment (does not exist yet)
	RootDirectory  string        // relative to SrcDir; "" or "." for the top; must stay inside SrcDir
	Framework      string        // "auto" | "flask" | "fastapi"
	InstallCommand *string       // nil: default install; "" or "true": skip install; else run with sh -c
	BuildCommand   *string       // nil or "": none; else run with sh -c after install
	Python         string        // the engine's default interpreter, e.g. /usr/bin/python3
	Interpreters   []Interpreter // what a project may ask for (FindInterpreters); empty: Python alone
	Env            []string      // the deployment's frozen env (KEY=VALUE); values are never logged
	Log            io.Writer     // build log (what a user reads when a build fails)

	// CacheDir holds the build cache ("": no cache); UseCache false installs anew and
	// replaces what the cache held for the same dependencies.
	CacheDir string
	UseCache bool

	// Every command of the build runs in a sandbox that may write SrcDir, VenvDir and HomeDir only.
	Sandbox  *sandbox.Sandbox
	Name     string           // names the build's sandboxes (unique among the engine's builds)
	Identity sandbox.Identity // whom the build runs as, when each project has a uid of its own
	Limits   sandbox.Limits
	HomeDir  string // the build's HOME and TMPDIR, e.g. for pip's cache; the caller removes it
}

// Result is a successful build.
type Result struct {
	AppDir        string // absolute dir the app runs in (SrcDir/RootDirectory, or a Django project's folder in it)
	Python        string // the venv's interpreter
	PythonVersion string // of the interpreter chosen, e.g. "3.11.2"
	Entrypoint    string // "module:attribute", e.g. "app:app", "api.index:app", "api.index:handler"
	Kind          string // a runspec kind; runspec.KindHandler is always FrameworkOther
	Framework     string // detected: api.FrameworkFlask, api.FrameworkFastAPI, "django" or FrameworkOther

	// The app's settings from vercel.json's functions: 0 for the engine's defaults.
	MaxDuration int64 // seconds a request may take
	MemoryMB    int64

	// Functions are the entrypoints of a project of several functions (the legacy api/
	// directory, or several builds), each with the path it serves; Entrypoint is the first.
	// nil for a project of one app.
	Functions []runspec.Function
	Vercel    *vercelconfig.Config // the project's vercel.json; nil without one
}

// FrameworkOther is the detected framework of an app that is neither Flask nor FastAPI.
const FrameworkOther = "other"

// Values of Error.Step.
const (
	StepSettings   = "settings"
	StepPython     = "python"
	StepInstall    = "install"
	StepBuild      = "build"
	StepEntrypoint = "entrypoint"
)

// Error is a failed build: Message says what went wrong and what to do;
// LogTail holds the last lines the failed step wrote to the build log.
type Error struct {
	Step    string
	Message string
	LogTail string

	cause error // context.Canceled or context.DeadlineExceeded when the build was stopped
}

func (e *Error) Error() string {
	if e.LogTail == "" {
		return e.Message
	}
	return e.Message + "\n--- last lines of the build log ---\n" + e.LogTail
}

// Unwrap lets callers tell a canceled build (errors.Is(err, context.Canceled)) from a failed one.
func (e *Error) Unwrap() error { return e.cause }

// failure is what a step returns; the step runner adds the step name and the log tail.
func failure(format string, args ...any) *Error {
	return &Error{Message: fmt.Sprintf(format, args...)}
}

type builder struct {
	spec       Spec
	log        *buildLog
	appDir     string // the root directory
	runDir     string // where the app runs: appDir, or a Django project's folder
	venvDir    string
	venvPython string
	python     Interpreter // the interpreter chosen
	env        []string    // for every command the build runs
	commands   int         // started so far, to name each one's sandbox

	vercel         *vercelconfig.Config
	project        *pyproject
	deps           *dependencySpec
	installCommand *string // in force: vercel.json's, else the project's
	buildCommand   *string
}

// Build runs every step; on failure it returns *Error.
func Build(ctx context.Context, spec Spec) (*Result, error) {
	b := &builder{spec: spec, log: newBuildLog(spec.Log)}
	start := time.Now()
	steps := []struct {
		name, title string
		run         func(context.Context) error
		skip        func() bool
	}{
		{StepSettings, "checking settings", b.checkSettings, nil},
		{StepPython, "creating Python environment", b.createEnvironment, nil},
		{StepInstall, "installing dependencies", b.install, nil},
		{StepBuild, "running build command", b.runBuildCommand, func() bool { return b.buildCommand == nil || *b.buildCommand == "" }},
	}
	for _, step := range steps {
		if step.skip != nil && step.skip() {
			continue
		}
		if err := b.runStep(ctx, step.name, step.title, step.run); err != nil {
			return nil, err
		}
	}
	var result *Result
	err := b.runStep(ctx, StepEntrypoint, "finding the app", func(ctx context.Context) (err error) {
		if err := b.checkOutputDirectory(); err != nil {
			return err
		}
		result, err = b.findEntrypoint(ctx)
		return err
	})
	if err != nil {
		return nil, err
	}
	b.log.printf("build ready in %s", elapsed(start))
	return result, nil
}

func (b *builder) runStep(ctx context.Context, name, title string, run func(context.Context) error) error {
	b.log.printf("%s", title)
	b.log.resetTail()
	start := time.Now()
	err := run(ctx)
	if err == nil {
		b.log.printf("%s: done in %s", title, elapsed(start))
		return nil
	}
	var failed *Error
	if !errors.As(err, &failed) {
		failed = &Error{Message: err.Error()}
	}
	if ctx.Err() != nil {
		failed = &Error{Message: "build canceled while " + title, cause: ctx.Err()}
	}
	failed.Step = name
	failed.LogTail = b.log.tail()
	b.log.printf("%s: failed after %s", title, elapsed(start))
	return failed
}

func (b *builder) checkSettings(context.Context) error {
	switch b.spec.Framework {
	case "", api.FrameworkAuto, api.FrameworkFlask, api.FrameworkFastAPI:
	default:
		return failure("unknown framework %q: use %q, %q or %q", b.spec.Framework, api.FrameworkAuto, api.FrameworkFlask, api.FrameworkFastAPI)
	}
	appDir, err := resolveRootDirectory(b.spec.SrcDir, b.spec.RootDirectory)
	if err != nil {
		return err
	}
	b.appDir, b.runDir = appDir, appDir
	b.log.printf("root directory: %s", displayRoot(b.spec.RootDirectory))
	if err := b.readProjectFiles(); err != nil {
		return err
	}
	b.installCommand, b.buildCommand = b.spec.InstallCommand, b.spec.BuildCommand
	if b.vercel != nil {
		if b.vercel.InstallCommand != nil {
			b.installCommand = b.vercel.InstallCommand
			b.log.printf("install command from %s: %q", vercelconfig.FileName, *b.installCommand)
		}
		if b.vercel.BuildCommand != nil {
			b.buildCommand = b.vercel.BuildCommand
			b.log.printf("build command from %s: %q", vercelconfig.FileName, *b.buildCommand)
		}
	}
	return nil
}

// readProjectFiles reads what configures the build: vercel.json, pyproject.toml and the
// file that declares the dependencies.
func (b *builder) readProjectFiles() error {
	data, err := readSourceFile(b.appDir, vercelconfig.FileName)
	switch {
	case err == nil:
		if b.vercel, err = vercelconfig.Parse(data); err != nil {
			return failure("%v", err)
		}
		b.log.printf("%s read", vercelconfig.FileName)
		if len(b.vercel.Ignored) > 0 {
			b.log.printf("%s: %s configure Vercel's platform and do nothing on ferry", vercelconfig.FileName, strings.Join(b.vercel.Ignored, ", "))
		}
	case !errors.Is(err, errAbsent):
		return err
	}
	if b.project, err = readPyproject(b.appDir); err != nil {
		return err
	}
	if ignored := b.project.ignoredVercelTools(); len(ignored) > 0 {
		b.log.printf("[tool.vercel] %s in %s configure Vercel's platform and do nothing on ferry", strings.Join(ignored, ", "), pyprojectFile)
	}
	b.deps, err = findDependencies(b.appDir, b.project)
	return err
}

// checkOutputDirectory requires vercel.json's outputDirectory to exist once the build command ran.
func (b *builder) checkOutputDirectory() error {
	if b.vercel == nil || b.vercel.OutputDirectory == "" {
		return nil
	}
	info, err := os.Stat(filepath.Join(b.appDir, filepath.FromSlash(b.vercel.OutputDirectory)))
	if err != nil || !info.IsDir() {
		return failure("%s names the output directory %q, which does not exist after the build: create it in the build command, or fix outputDirectory", vercelconfig.FileName, b.vercel.OutputDirectory)
	}
	return nil
}

// resolveRootDirectory is the absolute app directory, refusing anything that
// is not a directory inside the source, symbolic links included.
func resolveRootDirectory(srcDir, root string) (string, error) {
	shown := displayRoot(root)
	const advice = "set root_directory to the folder that holds your app, relative to the top of the source (\".\" for the top)"
	if filepath.IsAbs(root) || !filepath.IsLocal(shown) {
		return "", failure("root_directory %q points outside the source: %s", root, advice)
	}
	src, err := filepath.Abs(srcDir)
	if err != nil {
		return "", failure("invalid source directory %q: %v", srcDir, err)
	}
	appDir := filepath.Join(src, shown)
	info, err := os.Stat(appDir)
	switch {
	case err != nil:
		return "", failure("root_directory %q does not exist in the source: %s", root, advice)
	case !info.IsDir():
		return "", failure("root_directory %q is a file, not a folder: %s", root, advice)
	}
	realSrc, err := filepath.EvalSymlinks(src)
	if err != nil {
		return "", failure("cannot read the source directory %s: %v", src, err)
	}
	realAppDir, err := filepath.EvalSymlinks(appDir)
	if err != nil {
		return "", failure("cannot read root_directory %q: %v", root, err)
	}
	if rel, err := filepath.Rel(realSrc, realAppDir); err != nil || !filepath.IsLocal(rel) {
		return "", failure("root_directory %q is a symbolic link that leads outside the source: %s", root, advice)
	}
	return appDir, nil
}

func elapsed(start time.Time) time.Duration {
	return time.Since(start).Round(time.Millisecond)
}

// displayRoot is the root directory as the user wrote it, "." for the top.
func displayRoot(root string) string {
	if root == "" {
		return "."
	}
	return filepath.Clean(root)
}
