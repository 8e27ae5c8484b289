// Package dashboard is ferry's web console: server-rendered pages over the engine API, reached
// in-process through internal/client as any other client reaches it (never the store), with a
// session per logged-in browser. The engine serves it on its TCP API listener (paths outside
// /v1) and on the edge at ferry.<base domain>.
package dashboard

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/client"
	"github.com/ferryhq/terraform-provider-ferry/internal/version"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// Config wires a Dashboard.
type Config struct {
	// API is the engine API as a client reaches it: behind the token check when the engine has
	// a token, so that a wrong token typed into the login page is refused (and throttled) there.
	API http.Handler
	// Token is the engine's API token, "" when its API needs none (the embedded engine). With
	// one, the login page takes it; a browser logged in by a one-time link calls the API with it.
	Token  string
	Logger *slog.Logger
	Now    func() time.Time // the clock of sessions and links; nil: time.Now
}

// Dashboard serves the dashboard's pages.
type Dashboard struct {
	cfg      Config
	mux      *http.ServeMux
	pages    map[string]*template.Template
	sessions *sessions
}

// New returns the dashboard's handler.
func New(cfg Config) *Dashboard {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	d := &Dashboard{cfg: cfg, mux: http.NewServeMux(), pages: parsePages(), sessions: newSessions()}
	static, _ := fs.Sub(staticFiles, "static") // embedded: always there
	d.mux.Handle("GET /static/", http.StripPrefix("/static/", cacheForever(http.FileServerFS(static))))
	d.mux.HandleFunc("GET /login", d.loginPage)
	d.mux.HandleFunc("POST /login", d.loginWithToken)
	d.mux.HandleFunc("GET /login/{link}", d.loginWithLink)
	d.mux.HandleFunc("POST /logout", d.logout)
	d.mux.HandleFunc("GET /{$}", d.page(d.projectsPage))
	d.mux.HandleFunc("GET /usage", d.page(d.usagePage))
	d.mux.HandleFunc("GET /audit", d.page(d.auditPage))
	d.mux.HandleFunc("GET /projects/{project}", d.page(d.projectPage))
	d.mux.HandleFunc("GET /projects/{project}/deployments", d.page(d.deploymentRows))
	d.mux.HandleFunc("POST /projects/{project}/rollback", d.action(d.rollback))
	d.mux.HandleFunc("GET /deployments/{deployment}", d.page(d.deploymentPage))
	d.mux.HandleFunc("GET /deployments/{deployment}/build-log", d.page(d.followBuildLog))
	d.mux.HandleFunc("GET /deployments/{deployment}/runtime-log", d.page(d.followRuntimeLog))
	d.mux.HandleFunc("POST /deployments/{deployment}/promote", d.action(d.promote))
	d.mux.HandleFunc("POST /deployments/{deployment}/redeploy", d.action(d.redeploy))
	d.mux.HandleFunc("GET /deployments/{deployment}/source", d.page(d.sourcePage))
	d.mux.HandleFunc("GET /deployments/{deployment}/source/{path...}", d.page(d.sourceFilePage))
	return d
}

func (d *Dashboard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	// Nothing but the dashboard's own files runs or loads here, and no other site may frame it.
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	d.mux.ServeHTTP(w, r)
}

func cacheForever(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Pages name static files with the build's version: a new build is a new URL.
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		next.ServeHTTP(w, r)
	})
}

func parsePages() map[string]*template.Template {
	funcs := template.FuncMap{
		"age": age, "duration": buildDuration, "short": shortSHA, "firstLine": firstLine,
		"commitURL": commitURL, "join": strings.Join, "bytes": humanBytes, "version": version.String,
	}
	pages := map[string]*template.Template{}
	names, _ := fs.Glob(templateFiles, "templates/*.html")
	for _, name := range names {
		page := strings.TrimSuffix(strings.TrimPrefix(name, "templates/"), ".html")
		if page == "layout" {
			continue
		}
		pages[page] = template.Must(template.New(page).Funcs(funcs).ParseFS(templateFiles, "templates/layout.html", name))
	}
	return pages
}

// view is what every page's template gets.
type view struct {
	Title    string
	CSRF     string // "" when logged out
	Flash    string
	Problem  string // what went wrong, in the engine's words
	Data     any
	Fragment bool
}

func (d *Dashboard) render(w http.ResponseWriter, status int, page string, v view) {
	t := d.pages[page]
	name := "layout"
	if v.Fragment {
		name = "content"
	}
	var out strings.Builder
	if err := t.ExecuteTemplate(&out, name, v); err != nil {
		d.cfg.Logger.Error("dashboard: rendering a page failed", "page", page, "error", err)
		http.Error(w, "the dashboard could not render this page; see the engine's log", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(out.String())) // a failed write means the browser has gone
}

// request is one page request of a logged-in browser.
type request struct {
	*http.Request
	ctx     context.Context // carries the browser's address to the API's throttle
	api     *client.Client
	session *session
}

// page serves a page to logged-in browsers and the login page to others.
func (d *Dashboard) page(h func(http.ResponseWriter, *request)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s := d.current(r)
		if s == nil {
			d.renderLogin(w, http.StatusUnauthorized, "")
			return
		}
		h(w, &request{Request: r, ctx: withBrowser(r.Context(), r.RemoteAddr), api: s.api, session: s})
	}
}

// action is page for form posts: each must come from the dashboard's own page (same origin,
// the session's CSRF token).
func (d *Dashboard) action(h func(http.ResponseWriter, *request)) http.HandlerFunc {
	return d.page(func(w http.ResponseWriter, r *request) {
		if !sameOrigin(r.Request) || !r.session.validCSRF(r.Request) {
			d.render(w, http.StatusForbidden, "problem", view{Title: "Refused", CSRF: r.session.csrf,
				Problem: "This form did not come from this dashboard's page (or the page is older than your session): reload the page and try again."})
			return
		}
		h(w, r)
	})
}

// fail shows what the engine answered, with its status; an API that no longer takes the
// session's token logs the browser out.
func (d *Dashboard) fail(w http.ResponseWriter, r *request, err error) {
	status, message := http.StatusBadGateway, err.Error()
	if apiErr, ok := client.AsError(err); ok {
		status = apiErr.StatusCode
		if status == http.StatusUnauthorized {
			d.end(r.Request)
			// The engine's reason (a team token revoked or expired) names the token, never its value.
			d.renderLogin(w, http.StatusUnauthorized, "The engine no longer takes this session's token ("+apiErr.Message+"): log in again.")
			return
		}
	} else if errors.Is(err, context.Canceled) {
		return // the browser has gone
	}
	d.render(w, status, "problem", view{Title: "Problem", CSRF: r.session.csrf, Problem: message})
}

func fmtSize(n int64, unit int64, suffix string) string {
	return fmt.Sprintf("%.1f %s", float64(n)/float64(unit), suffix)
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return fmtSize(n, 1<<20, "MiB")
	case n >= 1<<10:
		return fmtSize(n, 1<<10, "KiB")
	}
	return fmt.Sprintf("%d B", n)
}

// projectOf is the project the path names; when it cannot be had, the answer says why.
func (d *Dashboard) projectOf(w http.ResponseWriter, r *request) (*api.Project, bool) {
	p, err := r.api.GetProject(r.ctx, r.PathValue("project"))
	if err != nil {
		d.fail(w, r, err)
		return nil, false
	}
	return p, true
}

// deploymentOf is the deployment the path names; when it cannot be had, the answer says why.
func (d *Dashboard) deploymentOf(w http.ResponseWriter, r *request) (*api.Deployment, bool) {
	dep, err := r.api.GetDeployment(r.ctx, r.PathValue("deployment"))
	if err != nil {
		d.fail(w, r, err)
		return nil, false
	}
	return dep, true
}
