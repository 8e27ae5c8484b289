// Package edge is the HTTP front of the apps: it routes each request by its
// Host to a deployment (directly by the deployment's own hostname, or through
// an alias such as the production domain) and hands it to the runtime.
package edge

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/builder"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/deploy"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/sandbox"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/secrets"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/workers"
)

// Runtime serves a request with a deployment's app.
type Runtime interface {
	ServeHTTP(w http.ResponseWriter, r *http.Request, app workers.App)
}

// route is where one hostname leads.
type route struct {
	app     *workers.App // nil: the alias points at no deployment yet
	project string
}

// Router maps hostnames to deployments. Its table is rebuilt from the store
// on every change and swapped atomically, so a request sees either the old
// or the new routes, never a mix: moving an alias is instant.
type Router struct {
	store   *store.Store
	secrets *secrets.Box
	runtime Runtime
	logger  *slog.Logger
	routes  atomic.Pointer[map[string]route]
}

// New returns a Router with an empty table; call Reload to fill it.
func New(st *store.Store, box *secrets.Box, rt Runtime, logger *slog.Logger) *Router {
	r := &Router{store: st, secrets: box, runtime: rt, logger: logger}
	empty := map[string]route{}
	r.routes.Store(&empty)
	return r
}

// Reload rebuilds the routing table from the store.
func (r *Router) Reload(ctx context.Context) error {
	ready, err := r.store.ReadyDeployments(ctx)
	if err != nil {
		return err
	}
	projects, err := r.store.ListProjects(ctx)
	if err != nil {
		return err
	}
	names := map[string]string{}
	for _, p := range projects {
		names[p.ID] = p.Name
	}
	sandboxes, err := r.store.DeploymentSandboxes(ctx)
	if err != nil {
		return err
	}
	table := map[string]route{}
	byID := map[string]route{}
	for _, d := range ready {
		frozen, err := deploy.OpenEnv(r.secrets, d)
		if err != nil {
			r.logger.Error("cannot open a deployment's env; it will not be served", "deployment", d.ID, "error", err)
			continue
		}
		venv := filepath.Dir(filepath.Dir(d.Python))
		confined := sandboxes[d.ID]
		rt := route{project: names[d.ProjectID], app: &workers.App{
			ID:         d.ID,
			Dir:        d.AppDir,
			Python:     d.Python,
			Entrypoint: d.Entrypoint,
			Kind:       d.Kind,
			Env:        builder.ProcessEnv(frozen, venv),
			Root:       filepath.Dir(venv),
			Identity:   sandbox.Identity{UID: confined.UID, GID: confined.UID},
			Limits:     deploy.InstanceLimits(confined.Limits),
		}}
		table[d.Hostname] = rt
		byID[d.ID] = rt
	}
	aliases, err := r.store.ListAliases(ctx)
	if err != nil {
		return err
	}
	for _, a := range aliases {
		rt, ok := byID[a.DeploymentID]
		if !ok {
			rt = route{project: names[a.ProjectID]}
		}
		table[a.Hostname] = rt
	}
	r.routes.Store(&table)
	return nil
}

// ServeHTTP routes one request.
func (r *Router) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	host := strings.ToLower(req.Host)
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(host, ".")
	rt, ok := (*r.routes.Load())[host]
	switch {
	case !ok:
		http.Error(w, fmt.Sprintf("ferry: no deployment or domain is named %q on this engine", host), http.StatusNotFound)
	case rt.app == nil:
		http.Error(w, fmt.Sprintf("ferry: project %q has no ready production deployment yet", rt.project), http.StatusNotFound)
	default:
		r.runtime.ServeHTTP(w, req, *rt.app)
	}
}
