package builder

import (
	"context"
	"strings"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/runspec"
)

// entrypointCandidates are the files that may hold the app, relative to the
// root directory, in the order they are tried (Vercel's names and the usual ones).
// The first that defines `app` or `application` wins; only when none does, the
// first that defines a `handler` class, so adding a Vercel-style handler file
// never changes the app a project already serves.
var entrypointCandidates = []string{
	"app.py", "index.py", "server.py", "main.py", "wsgi.py", "asgi.py", "api/index.py", "api/app.py",
	"src/app.py", "src/index.py", "src/server.py", "src/main.py", "src/wsgi.py", "src/asgi.py", "src/api/index.py", "src/api/app.py",
}

// importTimeout bounds the import check: an app that serves or waits at
// import time would otherwise hang the build.
var importTimeout = 60 * time.Second

// entrypointAnswer is what helper.py's entrypoint command reports.
type entrypointAnswer struct {
	Error     string `json:"error"` // "" | not_found | import_failed | missing_attribute | not_callable | not_handler_class
	File      string `json:"file"`
	Module    string `json:"module"`
	Attribute string `json:"attribute"`
	Kind      string `json:"kind"`
	Framework string `json:"framework"`
	Exception string `json:"exception"` // "ModuleNotFoundError: No module named 'x'"
	Type      string `json:"type"`      // of a non-callable app or a `handler` that is not a handler class ("class" for a class)
	Examined  []struct {
		File    string `json:"file"`
		Problem string `json:"problem"`
	} `json:"examined"` // candidate files that exist but hold no app
}

func (b *builder) findEntrypoint(ctx context.Context) (*Result, error) {
	importCtx, cancel := context.WithTimeout(ctx, importTimeout)
	defer cancel()
	var answer entrypointAnswer
	if err := b.runHelper(importCtx, &answer, "entrypoint", entrypointCandidates...); err != nil {
		if ctx.Err() == nil && importCtx.Err() != nil {
			return nil, failure("importing the app did not finish within %s: does it start a server or wait for something at import time? Start servers only under `if __name__ == \"__main__\":`", importTimeout)
		}
		return nil, failure("importing the app failed: %v; its output is below", err)
	}
	if answer.Error != "" {
		return nil, b.entrypointFailure(answer)
	}

	if requested := b.spec.Framework; requested == api.FrameworkFlask || requested == api.FrameworkFastAPI {
		switch {
		case answer.Kind == runspec.KindHandler:
			return nil, failure("the project's framework is %q, but %s defines a BaseHTTPRequestHandler class `handler`, not a %s app: set framework to \"auto\"", requested, answer.File, requested)
		case answer.Framework == requested:
		case answer.Framework == FrameworkOther:
			// Wrapped apps (middleware, WsgiToAsgi) are still fine to serve.
			b.log.printf("the project's framework is %s, but %s is not a %s object: serving it as a %s app", requested, answer.File, requested, strings.ToUpper(answer.Kind))
		default:
			return nil, failure("the project's framework is %q, but `%s` in %s is a %s app: set framework to %q or \"auto\"", requested, answer.Attribute, answer.File, answer.Framework, answer.Framework)
		}
	}
	entrypoint := answer.Module + ":" + answer.Attribute
	b.log.printf("app: %s in %s (%s, %s)", entrypoint, answer.File, strings.ToUpper(answer.Kind), answer.Framework)
	return &Result{
		AppDir:     b.appDir,
		Python:     b.venvPython,
		Entrypoint: entrypoint,
		Kind:       answer.Kind,
		Framework:  answer.Framework,
	}, nil
}

func (b *builder) entrypointFailure(answer entrypointAnswer) *Error {
	root := displayRoot(b.spec.RootDirectory)
	switch answer.Error {
	case "not_found":
		var found strings.Builder
		for _, examined := range answer.Examined {
			found.WriteString("; " + examined.File + ": " + examined.Problem)
		}
		return failure("no app found in %s: ferry serves the first of %s that defines a top-level `app` or `application` (a WSGI or ASGI application, such as app = Flask(__name__) or app = FastAPI()), else the first that defines a top-level `handler` (a class handler(BaseHTTPRequestHandler) with do_GET, do_POST, ... methods)%s. Add one, or set root_directory to the folder that holds it",
			root, strings.Join(entrypointCandidates, ", "), found.String())
	case "import_failed":
		return failure("%s failed to import: %s. %s", answer.File, answer.Exception, importAdvice(answer.Exception, root))
	case "not_handler_class":
		return failure("`handler` in %s is a %s, not a subclass of http.server.BaseHTTPRequestHandler: define it as class handler(BaseHTTPRequestHandler) with do_GET, do_POST, ... methods, or define an `app` instead", answer.File, answer.Type)
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
