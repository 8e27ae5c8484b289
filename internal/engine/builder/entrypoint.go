package builder

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/runspec"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/vercelconfig"
)

// Where Vercel's Python runtime looks for the app: each name in each directory, in order.
var (
	entrypointNames = []string{"app", "index", "server", "main", "wsgi", "asgi"}
	entrypointDirs  = []string{"", "src", "app", "api"}
)

// entrypointCandidates are the files that may hold the app, relative to the root directory,
// in the order Vercel tries them: the first that defines one of the app's names wins.
var entrypointCandidates = func() []string {
	var files []string
	for _, dir := range entrypointDirs {
		for _, name := range entrypointNames {
			files = append(files, path.Join(dir, name+".py"))
		}
	}
	return files
}()

// functionsDir holds the legacy functions: each api/**/*.py is a function of its own.
const functionsDir = "api"

// importTimeout bounds the import check: an app that serves or waits at
// import time would otherwise hang the build.
var importTimeout = 60 * time.Second

// scanned is what helper.py's scan command says of one file.
type scanned struct {
	File    string `json:"file"`
	Name    string `json:"name"`    // the name it defines for the app; "" when none
	Problem string `json:"problem"` // why it holds no app
}

// entry is one entrypoint to import: the app, or one function of several.
type entry struct {
	File      string `json:"file"` // relative to the directory the app runs in, slash-separated
	Module    string `json:"module"`
	Attribute string `json:"attribute"`
	route     string // the path a function serves; "" for the app
	where     string // how it was found, for the log
}

// inspected is what helper.py's inspect command says of one entry.
type inspected struct {
	File      string `json:"file"`
	Module    string `json:"module"`
	Attribute string `json:"attribute"`
	Error     string `json:"error"` // "" | import_failed | missing_attribute | not_callable | not_handler_class
	Kind      string `json:"kind"`
	Framework string `json:"framework"`
	Exception string `json:"exception"` // "ModuleNotFoundError: No module named 'x'"
	Type      string `json:"type"`      // of a non-callable app or a `handler` that is not a handler class ("class" for a class)
}

// inspectPlan is what helper.py's inspect command imports: Entries, or the first of FirstOf
// (files in order, the attribute left to the scan) that defines an app.
type inspectPlan struct {
	Entries []entry `json:"entries,omitempty"`
	FirstOf []entry `json:"first_of,omitempty"`
}

// inspection is helper.py's answer to an inspectPlan.
type inspection struct {
	Scanned []scanned   `json:"scanned"` // the files of FirstOf that exist, in order
	Results []inspected `json:"results"` // one per entry imported
}

// findEntrypoint finds the app (or the functions) to serve, imports each to check it, and
// applies the functions settings of vercel.json.
func (b *builder) findEntrypoint(ctx context.Context) (*Result, error) {
	entries, answers, err := b.locateEntrypoints(ctx)
	if err != nil {
		return nil, err
	}
	result := &Result{AppDir: b.runDir, Python: b.venvPython, PythonVersion: b.python.Version, Vercel: b.vercel}
	var functions []runspec.Function
	for i, answer := range answers {
		if answer.Error != "" {
			return nil, b.entrypointFailure(answer)
		}
		if err := b.checkFramework(answer); err != nil {
			return nil, err
		}
		e := entries[i]
		b.log.printf("app: %s:%s in %s (%s, %s; %s)", e.Module, e.Attribute, e.File, strings.ToUpper(answer.Kind), answer.Framework, e.where)
		functions = append(functions, runspec.Function{File: e.File, Route: e.route, Entrypoint: e.Module + ":" + e.Attribute, Kind: answer.Kind})
		if i == 0 {
			result.Entrypoint, result.Kind, result.Framework = e.Module+":"+e.Attribute, answer.Kind, answer.Framework
		}
	}
	if err := b.applyFunctionSettings(functions); err != nil {
		return nil, err
	}
	if len(entries) > 1 || entries[0].route != "" {
		result.Functions = functions
	} else {
		result.MaxDuration, result.MemoryMB = functions[0].MaxDuration, functions[0].MemoryMB
	}
	return result, nil
}

// locateEntrypoints finds the entrypoints in Vercel's order, and imports them: the legacy
// builds of vercel.json, [tool.vercel] entrypoint, Django's manage.py, the usual files (or the
// legacy functions of api/), [project.scripts] app.
func (b *builder) locateEntrypoints(ctx context.Context) ([]entry, []inspected, error) {
	if builds := b.pythonBuilds(); len(builds) > 0 {
		entries, err := b.buildsEntrypoints(ctx, builds)
		return b.importAll(ctx, entries, err)
	}
	declared, err := b.project.vercelEntrypoint()
	if err != nil {
		return nil, nil, err
	}
	if declared != nil {
		entries, err := b.declaredEntry(declared, true)
		return b.importAll(ctx, entries, err)
	}
	if dir, ok := b.djangoProject(); ok {
		entries, err := b.djangoEntrypoint(ctx, dir)
		return b.importAll(ctx, entries, err)
	}
	// The usual files: the first that defines an app is imported in the same Python process
	// that finds it, saving one on the way most builds go.
	candidates := make([]entry, len(entrypointCandidates))
	for i, file := range entrypointCandidates {
		candidates[i] = appEntry(file, "", "found by its file name")
	}
	found, err := b.inspect(ctx, inspectPlan{FirstOf: candidates})
	if err != nil {
		return nil, nil, err
	}
	var picked []entry
	first := ""
	if len(found.Results) == 1 {
		first = found.Results[0].File
		picked = []entry{appEntry(first, found.Results[0].Attribute, "found by its file name")}
	}
	if first == "" || strings.HasPrefix(first, functionsDir+"/") {
		if functions, err := b.legacyFunctions(ctx, first); err != nil || functions != nil {
			return b.importAll(ctx, functions, err)
		}
	}
	if picked != nil {
		return picked, found.Results, nil
	}
	if scripts := b.project.scriptsEntrypoint(); scripts != nil {
		entries, err := b.declaredEntry(scripts, false)
		return b.importAll(ctx, entries, err)
	}
	return nil, nil, b.notFound(ctx, found.Scanned)
}

// importAll imports entries (found with err) and says what each is.
func (b *builder) importAll(ctx context.Context, entries []entry, err error) ([]entry, []inspected, error) {
	if err != nil {
		return nil, nil, err
	}
	found, err := b.inspect(ctx, inspectPlan{Entries: entries})
	if err != nil {
		return nil, nil, err
	}
	if len(found.Results) != len(entries) {
		return nil, nil, failure("importing the app ended early: its output is below")
	}
	return entries, found.Results, nil
}

// inspect has the helper import what plan says, within importTimeout.
func (b *builder) inspect(ctx context.Context, plan inspectPlan) (*inspection, error) {
	importCtx, cancel := context.WithTimeout(ctx, importTimeout)
	defer cancel()
	list, err := json.Marshal(plan)
	if err != nil {
		return nil, err
	}
	var found inspection
	if err := b.runHelperIn(importCtx, b.runDir, &found, "inspect", string(list)); err != nil {
		if ctx.Err() == nil && importCtx.Err() != nil {
			return nil, failure("importing the app did not finish within %s: does it start a server or wait for something at import time? Start servers only under `if __name__ == \"__main__\":`", importTimeout)
		}
		return nil, failure("importing the app failed: %v; its output is below", err)
	}
	return &found, nil
}

// appEntry is the app defined as name in the file rel.
func appEntry(rel, name, where string) entry {
	return entry{File: rel, Module: moduleOf(rel), Attribute: name, where: where}
}

// moduleOf is the module a file of the root directory is imported as.
func moduleOf(rel string) string {
	module := strings.TrimSuffix(rel, ".py")
	module = strings.TrimSuffix(module, "/__init__")
	return strings.ReplaceAll(module, "/", ".")
}

// declaredEntry resolves an entrypoint the project declares: the module's file must exist.
// A missing file is an error when the declaration is Vercel's own ([tool.vercel]).
func (b *builder) declaredEntry(declared *declaredEntrypoint, strict bool) ([]entry, error) {
	files := moduleFiles(declared.module)
	for _, file := range files {
		if sourceFileExists(b.appDir, file) {
			return []entry{{File: file, Module: declared.module, Attribute: declared.attribute, where: "declared by " + declared.where}}, nil
		}
	}
	if strict {
		return nil, failure("%s is %q, but neither %s exists in %s: point it at a module of the project (\"module:object\", such as \"main:app\"), or remove it to let ferry find the app",
			declared.where, declared.module+":"+declared.attribute, strings.Join(files, " nor "), displayRoot(b.spec.RootDirectory))
	}
	return nil, failure("%s is %q, but neither %s exists in %s: fix it, or set [tool.vercel] entrypoint",
		declared.where, declared.module+":"+declared.attribute, strings.Join(files, " nor "), displayRoot(b.spec.RootDirectory))
}

// scan asks the helper which of files define an app, and how.
func (b *builder) scan(ctx context.Context, files []string) ([]scanned, error) {
	var found []scanned
	if len(files) == 0 {
		return nil, nil
	}
	if err := b.runHelper(ctx, &found, "scan", files...); err != nil {
		return nil, failure("reading the app's files failed: %v", err)
	}
	return found, nil
}

// legacyFunctions reads the legacy api/ directory, where each Python file defining an app or
// a handler is a function of its own, served at /api/<path>. first is the api/ file the
// usual names found ("" for none): a project whose only function is that file serves it as
// its app. nil when the directory holds no function, or only first.
func (b *builder) legacyFunctions(ctx context.Context, first string) ([]entry, error) {
	files := pythonFiles(filepath.Join(b.appDir, functionsDir), functionsDir, true)
	found, err := b.scan(ctx, files)
	if err != nil {
		return nil, err
	}
	var functions []entry
	for _, file := range found {
		if file.Name != "" {
			e := appEntry(file.File, file.Name, "a function of the api directory")
			e.route = functionRoute(file.File)
			functions = append(functions, e)
		}
	}
	if len(functions) == 0 || (len(functions) == 1 && functions[0].File == first) {
		return nil, nil
	}
	b.log.printf("%d functions in %s/: each serves its own path", len(functions), functionsDir)
	return functions, nil
}

// functionRoute is the path Vercel serves a function file at: api/users.py at /api/users,
// api/index.py at /api.
func functionRoute(rel string) string {
	route := "/" + strings.TrimSuffix(rel, ".py")
	if route == "/"+functionsDir+"/index" || strings.HasSuffix(route, "/index") {
		route = strings.TrimSuffix(route, "/index")
	}
	return route
}

// pythonFiles lists the .py files under dir, as slash paths prefixed with rel, sorted. With
// functionsOnly, it skips what Vercel skips in api/: names starting with _ or a dot.
func pythonFiles(dir, rel string, functionsOnly bool) []string {
	var files []string
	_ = filepath.WalkDir(dir, func(p string, entry fs.DirEntry, err error) error {
		if err != nil {
			return filepath.SkipDir // what cannot be read holds no function
		}
		name := entry.Name()
		hidden := p != dir && (strings.HasPrefix(name, ".") || name == "__pycache__" || name == "node_modules" ||
			(functionsOnly && strings.HasPrefix(name, "_")))
		switch {
		case entry.IsDir() && hidden:
			return filepath.SkipDir
		case hidden || !entry.Type().IsRegular() || !strings.HasSuffix(name, ".py"):
			return nil
		}
		inside, _ := filepath.Rel(dir, p)
		files = append(files, path.Join(rel, filepath.ToSlash(inside)))
		return nil
	})
	sort.Strings(files)
	return files
}

// pythonBuilds are the builds of vercel.json that use the Python builder.
func (b *builder) pythonBuilds() []vercelconfig.Build {
	if b.vercel == nil {
		return nil
	}
	var builds []vercelconfig.Build
	for _, build := range b.vercel.Builds {
		if build.Builder() == vercelconfig.PythonBuilder {
			builds = append(builds, build)
		}
	}
	return builds
}

// buildsEntrypoints are the Python files the legacy builds name: one is the app; several are
// functions, each at its own path.
func (b *builder) buildsEntrypoints(ctx context.Context, builds []vercelconfig.Build) ([]entry, error) {
	all := pythonFiles(b.appDir, "", false)
	var files []string
	for i, build := range builds {
		matched := 0
		for _, file := range all {
			if vercelconfig.Matches(build.Src, file) && !slices.Contains(files, file) {
				files = append(files, file)
				matched++
			}
		}
		if matched == 0 {
			return nil, failure("%s: builds[%d].src %q matches no Python file in %s: point it at the file that defines the app, such as \"api/index.py\"", vercelconfig.FileName, i, build.Src, displayRoot(b.spec.RootDirectory))
		}
	}
	found, err := b.scan(ctx, files)
	if err != nil {
		return nil, err
	}
	var entries []entry
	for _, file := range found {
		if file.Name == "" {
			return nil, failure("%s is built by %s's builds but %s: define the app there (app = Flask(__name__), app = FastAPI(), or a class handler(BaseHTTPRequestHandler))", file.File, vercelconfig.FileName, file.Problem)
		}
		e := appEntry(file.File, file.Name, "built by "+vercelconfig.FileName+"'s builds")
		if len(found) > 1 {
			e.route = functionRoute(file.File)
		}
		entries = append(entries, e)
	}
	return entries, nil
}

// notFound explains that no app was found: where ferry looked, what it found there, and how to
// declare the app; with the files elsewhere that would do.
func (b *builder) notFound(ctx context.Context, examined []scanned) *Error {
	var message strings.Builder
	fmt.Fprintf(&message, "no app found in %s: ferry looks, as Vercel does, for a top-level `app` or `application` (a WSGI or ASGI application, such as app = Flask(__name__) or app = FastAPI()) or a class `handler` (a BaseHTTPRequestHandler) in %s; then for Python files in %s/ (each a function of its own); then for [project.scripts] app in %s",
		displayRoot(b.spec.RootDirectory), strings.Join(entrypointCandidates, ", "), functionsDir, pyprojectFile)
	for _, file := range examined {
		fmt.Fprintf(&message, "; %s: %s", file.File, file.Problem)
	}
	elsewhere := b.appsElsewhere(ctx)
	if len(elsewhere) == 0 {
		fmt.Fprintf(&message, ". Define the app in one of those files, declare it in %s ([tool.vercel] entrypoint = \"module:app\"), or set root_directory to the folder that holds it", pyprojectFile)
		return failure("%s", message.String())
	}
	described := make([]string, len(elsewhere))
	for i, file := range elsewhere {
		described[i] = fmt.Sprintf("%s (`%s`)", file.File, file.Name)
	}
	fmt.Fprintf(&message, ". These files define an app: %s. Declare the one to serve in %s:\n\n[tool.vercel]\nentrypoint = %q\n\nor move it to one of the files above",
		strings.Join(described, ", "), pyprojectFile, moduleOf(elsewhere[0].File)+":"+elsewhere[0].Name)
	return failure("%s", message.String())
}

// maxFilesSearched bounds the search for apps outside the usual places, for the error message.
const maxFilesSearched = 200

// appsElsewhere lists the files of the project that define an app.
func (b *builder) appsElsewhere(ctx context.Context) []scanned {
	files := pythonFiles(b.appDir, "", false)
	if len(files) > maxFilesSearched {
		files = files[:maxFilesSearched]
	}
	found, err := b.scan(ctx, files)
	if err != nil {
		return nil
	}
	var apps []scanned
	for _, file := range found {
		if file.Name != "" {
			apps = append(apps, file)
		}
	}
	return apps
}

// checkFramework holds the app to the project's framework setting.
func (b *builder) checkFramework(answer inspected) error {
	requested := b.spec.Framework
	if requested != api.FrameworkFlask && requested != api.FrameworkFastAPI {
		return nil
	}
	switch {
	case answer.Kind == runspec.KindHandler:
		return failure("the project's framework is %q, but %s defines a BaseHTTPRequestHandler class `%s`, not a %s app: set framework to \"auto\"", requested, answer.File, answer.Attribute, requested)
	case answer.Framework == requested:
	case answer.Framework == FrameworkOther:
		// Wrapped apps (middleware, WsgiToAsgi) are still fine to serve.
		b.log.printf("the project's framework is %s, but %s is not a %s object: serving it as a %s app", requested, answer.File, requested, strings.ToUpper(answer.Kind))
	case answer.Framework == api.FrameworkFlask || answer.Framework == api.FrameworkFastAPI:
		return failure("the project's framework is %q, but `%s` in %s is a %s app: set framework to %q or \"auto\"", requested, answer.Attribute, answer.File, answer.Framework, answer.Framework)
	default:
		return failure("the project's framework is %q, but `%s` in %s is a %s app: set framework to \"auto\"", requested, answer.Attribute, answer.File, answer.Framework)
	}
	return nil
}

func (b *builder) entrypointFailure(answer inspected) *Error {
	root := displayRoot(b.spec.RootDirectory)
	switch answer.Error {
	case "import_failed":
		return failure("%s failed to import: %s. %s", answer.File, answer.Exception, importAdvice(answer.Exception, root))
	case "not_handler_class":
		return failure("`%s` in %s is a %s, not a subclass of http.server.BaseHTTPRequestHandler: define it as class handler(BaseHTTPRequestHandler) with do_GET, do_POST, ... methods, or define an `app` instead", answer.Attribute, answer.File, answer.Type)
	case "missing_attribute":
		return failure("%s defines `%s` only in a branch that did not run, so it is missing after import: define it at the top level of the module", answer.File, answer.Attribute)
	default: // not_callable
		return failure("`%s` in %s is a %s, not a WSGI or ASGI application: assign the application object itself, such as app = Flask(__name__)", answer.Attribute, answer.File, answer.Type)
	}
}

func importAdvice(exception, root string) string {
	switch {
	case strings.HasPrefix(exception, "ModuleNotFoundError"):
		return "Add the missing package to requirements.txt (offline: pinned to a version installed on the engine's Python) or install it with install_command; if it is a module of your own, check that it is inside the root directory " + root
	case strings.HasPrefix(exception, "KeyError"):
		return "If that is an environment variable, define it for this deployment's target (ferry_env_var), or read it with os.environ.get"
	default:
		return "Fix the error in the traceback below; the app is imported from the root directory " + root + " with the deployment's environment variables"
	}
}

// applyFunctionSettings gives each function the settings of vercel.json's functions whose
// pattern matches its file. Every pattern must match one, as on Vercel.
func (b *builder) applyFunctionSettings(functions []runspec.Function) error {
	if b.vercel == nil || len(b.vercel.Functions) == 0 {
		return nil
	}
	offset := b.runOffset()
	var files []string
	for _, pattern := range sortedNames(b.vercel.Functions) {
		settings := b.vercel.Functions[pattern]
		matched := false
		for i := range functions {
			f := &functions[i]
			if !vercelconfig.Matches(pattern, path.Join(offset, f.File)) {
				continue
			}
			matched = true
			if settings.MaxDuration != 0 {
				f.MaxDuration = settings.MaxDuration
			}
			if settings.Memory != 0 {
				f.MemoryMB = settings.Memory
			}
			f.IncludeFiles = firstNonEmpty(settings.IncludeFiles, f.IncludeFiles)
			f.ExcludeFiles = firstNonEmpty(settings.ExcludeFiles, f.ExcludeFiles)
		}
		if !matched {
			if files == nil {
				for _, f := range functions {
					files = append(files, path.Join(offset, f.File))
				}
			}
			return failure("%s: the pattern %q of functions matches none of the app's files (%s): change it to match the file that defines the app, such as %q",
				vercelconfig.FileName, pattern, strings.Join(files, ", "), files[0])
		}
	}
	return nil
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

// runOffset is the directory the app runs in, relative to the root directory ("" for the root
// itself; a Django project's folder otherwise).
func (b *builder) runOffset() string {
	rel, err := filepath.Rel(b.appDir, b.runDir)
	if err != nil || rel == "." {
		return ""
	}
	return filepath.ToSlash(rel)
}
