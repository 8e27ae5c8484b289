// Package runspec describes how a built deployment runs. The build decides it; it is stored
// with the deployment, and the edge and the workers serve from it without importing the
// builder or the deployer. It holds no absolute paths, so a data dir can move.
package runspec

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/vercelconfig"
)

// Kinds of app: how the workers call into it.
const (
	KindWSGI    = "wsgi"
	KindASGI    = "asgi"
	KindHandler = "handler" // a BaseHTTPRequestHandler subclass named `handler`
)

// Spec is a deployment's run spec.
type Spec struct {
	AppDir        string     `json:"app_dir"`                  // the app's root directory, relative to the deployment's directory
	Python        string     `json:"python"`                   // the interpreter, relative to the deployment's directory
	PythonVersion string     `json:"python_version,omitempty"` // of the interpreter, e.g. "3.11.2"
	Entrypoint    string     `json:"entrypoint"`               // "module:attribute", e.g. "app:app" or "api.index:app"
	Kind          string     `json:"kind"`                     // KindWSGI, KindASGI or KindHandler
	UID           int        `json:"uid,omitempty"`            // the uid its instances run as, when the sandbox gives each project one
	Limits        api.Limits `json:"limits"`                   // what each instance may use, frozen at build time
	MaxDuration   int64      `json:"max_duration,omitempty"`   // seconds a request may take (vercel.json's maxDuration); 0: the engine's

	// Functions are the entrypoints of a deployment of several functions (the legacy api/
	// directory of Vercel, or several builds in vercel.json), each serving its own path; the
	// first is also Entrypoint. Empty for a deployment of one app, which serves every path.
	Functions []Function `json:"functions,omitempty"`

	// Vercel is the project's vercel.json as the build read it: the edge applies its routing
	// (rewrites, redirects, headers, routes, cleanUrls, trailingSlash) and serves
	// outputDirectory's files; crons name paths to call. nil without a vercel.json.
	Vercel *vercelconfig.Config `json:"vercel,omitempty"`
	// Output is the digest of the build output's archive (the deployment's src and venv and its
	// build log) in the artifact store, where the engine's nodes share one: a node that did not
	// build the deployment fetches it before starting an instance. "" on a single node.
	Output string `json:"output,omitempty"`
}

// Function is one function of a deployment of several.
type Function struct {
	File         string `json:"file"`       // its source, relative to AppDir, slash-separated: "api/users.py"
	Route        string `json:"route"`      // the path it serves, as on Vercel: "/api/users" ("/api" for api/index.py)
	Entrypoint   string `json:"entrypoint"` // "api.users:handler"
	Kind         string `json:"kind"`
	MaxDuration  int64  `json:"max_duration,omitempty"` // seconds; 0: the deployment's
	MemoryMB     int64  `json:"memory_mb,omitempty"`    // 0: the deployment's limit
	IncludeFiles string `json:"include_files,omitempty"`
	ExcludeFiles string `json:"exclude_files,omitempty"`
}

// FunctionFor is the function that serves urlPath: the one whose route is the longest prefix
// of it. nil for a deployment of one app, or when no route matches.
func (s Spec) FunctionFor(urlPath string) *Function {
	var best *Function
	for i := range s.Functions {
		f := &s.Functions[i]
		route := f.Route
		matches := urlPath == route || strings.HasPrefix(urlPath, strings.TrimSuffix(route, "/")+"/") ||
			urlPath == strings.TrimSuffix(route, "/")+"/" || urlPath == route+".py"
		if matches && (best == nil || len(route) > len(best.Route)) {
			best = f
		}
	}
	return best
}

// Validate reports a spec that cannot be run: a path that leaves the deployment's directory,
// an unknown kind, a missing entrypoint.
func (s Spec) Validate() error {
	for name, p := range map[string]string{"app_dir": s.AppDir, "python": s.Python} {
		if !filepath.IsLocal(p) {
			return fmt.Errorf("run spec: %s %q is not a path inside the deployment", name, p)
		}
	}
	if err := validKind(s.Kind); err != nil {
		return err
	}
	if s.Entrypoint == "" {
		return fmt.Errorf("run spec: no entrypoint")
	}
	for _, f := range s.Functions {
		if err := validKind(f.Kind); err != nil {
			return fmt.Errorf("function %s: %w", f.Route, err)
		}
		if f.Entrypoint == "" || !strings.HasPrefix(f.Route, "/") || !filepath.IsLocal(f.File) {
			return fmt.Errorf("run spec: function %+v needs an entrypoint, a route starting with / and a file inside the app", f)
		}
	}
	return nil
}

func validKind(kind string) error {
	switch kind {
	case KindWSGI, KindASGI, KindHandler:
		return nil
	}
	return fmt.Errorf("run spec: unknown app kind %q (want %q, %q or %q)", kind, KindWSGI, KindASGI, KindHandler)
}
