// Package runspec describes how a built deployment runs. The build decides it; it is stored
// with the deployment, and the edge and the workers serve from it without importing the
// builder or the deployer. It holds no absolute paths, so a data dir can move.
package runspec

import (
	"fmt"
	"path/filepath"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
)

// Kinds of app: how the workers call into it.
const (
	KindWSGI    = "wsgi"
	KindASGI    = "asgi"
	KindHandler = "handler" // a BaseHTTPRequestHandler subclass named `handler`
)

// Spec is a deployment's run spec.
type Spec struct {
	AppDir     string     `json:"app_dir"`       // the app's root directory, relative to the deployment's directory
	Python     string     `json:"python"`        // the interpreter, relative to the deployment's directory
	Entrypoint string     `json:"entrypoint"`    // "module:attribute", e.g. "app:app" or "api.index:app"
	Kind       string     `json:"kind"`          // KindWSGI, KindASGI or KindHandler
	UID        int        `json:"uid,omitempty"` // the uid its instances run as, when the sandbox gives each project one
	Limits     api.Limits `json:"limits"`        // what each instance may use, frozen at build time
}

// Validate reports a spec that cannot be run: a path that leaves the deployment's directory,
// an unknown kind, a missing entrypoint.
func (s Spec) Validate() error {
	for name, p := range map[string]string{"app_dir": s.AppDir, "python": s.Python} {
		if !filepath.IsLocal(p) {
			return fmt.Errorf("run spec: %s %q is not a path inside the deployment", name, p)
		}
	}
	switch s.Kind {
	case KindWSGI, KindASGI, KindHandler:
	default:
		return fmt.Errorf("run spec: unknown app kind %q (want %q, %q or %q)", s.Kind, KindWSGI, KindASGI, KindHandler)
	}
	if s.Entrypoint == "" {
		return fmt.Errorf("run spec: no entrypoint")
	}
	return nil
}
