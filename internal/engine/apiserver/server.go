// Package apiserver is the engine's API: JSON over HTTP as internal/api defines
// it. It validates every request before it changes anything.
package apiserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/artifacts"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/deploy"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/plans"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/secrets"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/secrets/envelope"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/webhooks"
)

// maxJSONBody bounds request bodies other than file uploads.
const maxJSONBody = 8 << 20

// maxFileSize bounds one uploaded file.
const maxFileSize = 256 << 20

// Config wires a Server.
type Config struct {
	Store   store.Store
	Blobs   artifacts.Store
	Secrets secrets.Keeper
	Deploy  *deploy.Service
	Hosts   deploy.Hosts
	URL     func(host string) string // full URL of an app host
	// HTTPSURL is the https URL of an app host, when the engine serves HTTPS.
	HTTPSURL func(host string) string
	Domains  DomainVerifier
	Health   func() api.Health
	Shutdown func() // asks the engine to stop
	Logger   *slog.Logger
	// NodeID names this node; a node whose heartbeats stopped NodeLostAfter ago is lost.
	NodeID        string
	NodeLostAfter time.Duration
	// MaxLimits bound what a project may set as its limits; DefaultMaxLimits() unless configured.
	MaxLimits api.Limits

	// SyncRoutes returns once the edge serves what the store says. Every
	// answer waits for it, so that what a client reads (a READY deployment,
	// a renamed project) is already what the edge serves.
	SyncRoutes func(context.Context) error

	Observe Observability // runtime and access logs, metrics (observe.go)
	// FlushUsage adds what this node metered to the store, so that a usage report has it.
	FlushUsage func(context.Context) error
	// Plans holds teams to their plans; nil: no plan applies.
	Plans *plans.Enforcer
	// Webhooks hears of promotions and rollbacks; nil sends none.
	Webhooks *webhooks.Service

	// Now is the clock of tokens' expiry and of the audit log; nil: time.Now.
	Now func() time.Time

	Keys *envelope.Ring // the store's data key and the keys it is wrapped under (secretkeys.go)
}

// Server serves the engine API.
type Server struct {
	cfg    Config
	mux    *http.ServeMux
	routes []string // "METHOD pattern" of every route registered
}

// New returns the API handler.
func New(cfg Config) *Server {
	s := &Server{cfg: cfg, mux: http.NewServeMux()}
	s.handle("GET", api.PathHealth, s.health)
	s.handle("GET", api.PathNodes, s.listNodes)
	s.handle("GET", api.PathUsage, s.usage)
	s.handle("GET", api.PathPlans, s.listPlans)
	s.handle("GET", api.PathTeamPlan, s.getTeamPlan)
	s.handle("PUT", api.PathTeamPlan, s.setTeamPlan)
	s.handle("POST", api.PathShutdown, s.shutdown)
	s.handle("GET", api.PathProjects, s.listProjects)
	s.handle("POST", api.PathProjects, s.createProject)
	s.handle("GET", api.PathProject, s.getProject)
	s.handle("PUT", api.PathProject, s.updateProject)
	s.handle("DELETE", api.PathProject, s.deleteProject)
	s.handle("GET", api.PathEnvVars, s.listEnvVars)
	s.handle("POST", api.PathEnvVars, s.createEnvVar)
	s.handle("GET", api.PathEnvVar, s.getEnvVar)
	s.handle("PUT", api.PathEnvVar, s.updateEnvVar)
	s.handle("DELETE", api.PathEnvVar, s.deleteEnvVar)
	s.handle("HEAD", api.PathFiles, s.hasFile)
	s.handle("PUT", api.PathFiles, s.putFile)
	s.handle("GET", api.PathDeployments, s.listDeployments)
	s.handle("POST", api.PathDeployments, s.createDeployment)
	s.handle("GET", api.PathDeployment, s.getDeployment)
	s.handle("DELETE", api.PathDeployment, s.deleteDeployment)
	s.route("GET", api.PathDeploymentLog, http.HandlerFunc(s.deploymentLogOrStream))
	s.handle("POST", api.PathDeploymentCancel, s.cancelDeployment)
	s.handle("GET", api.PathDeploymentFiles, s.listDeploymentFiles)
	s.route("GET", api.PathDeploymentFile, http.HandlerFunc(s.deploymentFile))
	s.handle("GET", api.PathEnvDigest, s.envDigest)
	s.handle("GET", api.PathEnvPull, s.envPull)
	s.handle("POST", api.PathGitResolve, s.resolveGit)
	s.handle("GET", api.PathSupabaseIntegrations, s.listSupabaseIntegrations)
	s.handle("POST", api.PathSupabaseIntegrations, s.createSupabaseIntegration)
	s.handle("GET", api.PathSupabaseIntegration, s.getSupabaseIntegration)
	s.handle("PUT", api.PathSupabaseIntegration, s.updateSupabaseIntegration)
	s.handle("DELETE", api.PathSupabaseIntegration, s.deleteSupabaseIntegration)
	for _, path := range []string{api.PathProductionAlias, api.PathAlias} {
		s.handle("GET", path, s.getAlias)
		s.handle("PUT", path, s.putAlias)
		s.handle("DELETE", path, s.deleteAlias)
	}
	s.handle("GET", api.PathDomains, s.listDomains)
	s.handle("POST", api.PathDomains, s.createDomain)
	s.handle("GET", api.PathDomain, s.getDomain)
	s.handle("PUT", api.PathDomain, s.updateDomain)
	s.handle("DELETE", api.PathDomain, s.deleteDomain)
	s.handle("POST", api.PathDomainVerify, s.verifyDomain)
	s.routeObservability()
	s.routeTeams()
	s.routeSecretKeys()
	s.routeWebhooks()
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, &api.Error{Code: api.CodeNotFound, Message: fmt.Sprintf("no API route %s %s", r.Method, r.URL.Path)})
	})
	return s
}

// handlerFunc returns a value to encode as JSON with status, or an error.
type handlerFunc func(r *http.Request) (status int, body any, err error)

func (s *Server) handle(method, pattern string, h handlerFunc) {
	s.route(method, pattern, s.jsonHandler(h))
}

// jsonHandler answers with what h returns, once the edge serves what the store says.
func (s *Server) jsonHandler(h handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		status, body, err := h(r)
		if err == nil {
			err = s.cfg.SyncRoutes(r.Context())
		}
		if err != nil {
			s.writeFailure(w, r, err)
			return
		}
		if body == nil {
			w.WriteHeader(status)
			return
		}
		// Encoded before the status is sent, so that a value that cannot be
		// encoded is an internal error rather than an empty success.
		data, err := json.Marshal(body)
		if err != nil {
			s.writeFailure(w, r, fmt.Errorf("encoding the answer to %s %s: %w", r.Method, r.URL.Path, err))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(append(data, '\n')) // a failed write means the client has gone
	}
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// badRequest is an input error with the field at fault.
func badRequest(field, format string, args ...any) *api.Error {
	return &api.Error{Code: api.CodeBadRequest, Field: field, Message: fmt.Sprintf(format, args...)}
}

func notFound(format string, args ...any) *api.Error {
	return &api.Error{Code: api.CodeNotFound, Message: fmt.Sprintf(format, args...)}
}

func (s *Server) writeFailure(w http.ResponseWriter, r *http.Request, err error) {
	var apiErr *api.Error
	var inputErr *deploy.InputError
	switch {
	case errors.As(err, &apiErr):
	case errors.As(err, &inputErr):
		apiErr = &api.Error{Code: inputErr.Code, Field: inputErr.Field, Message: inputErr.Message, Missing: inputErr.Missing}
	default:
		// The error's text may name paths or hold data of the engine: it goes
		// to the log only, and the answer carries an id to find it there.
		requestID := deploy.NewID("req")
		s.cfg.Logger.Error("request failed", "request_id", requestID, "method", r.Method, "path", r.URL.Path, "error", err)
		w.Header().Set("X-Request-Id", requestID)
		apiErr = &api.Error{Code: api.CodeInternal, Message: fmt.Sprintf("internal error in the engine (request %s): nothing was changed by the failed step; retry, and if it persists look for %s in the engine's log", requestID, requestID)}
	}
	status := map[string]int{
		api.CodeBadRequest:   http.StatusBadRequest,
		api.CodeNotFound:     http.StatusNotFound,
		api.CodeConflict:     http.StatusConflict,
		api.CodeMissingFiles: http.StatusPreconditionFailed,
		api.CodeUnauthorized: http.StatusUnauthorized,
		api.CodeForbidden:    http.StatusForbidden,
		api.CodeOverPlan:     http.StatusForbidden,
		api.CodeTooLarge:     http.StatusRequestEntityTooLarge,
		api.CodeRateLimited:  http.StatusTooManyRequests,
		api.CodeQueueFull:    http.StatusTooManyRequests,
		api.CodeVerifyFailed: http.StatusUnprocessableEntity,
	}[apiErr.Code]
	if status == 0 {
		status = http.StatusInternalServerError
	}
	if n := noteOf(r.Context()); n != nil {
		n.code = apiErr.Code
	}
	writeError(w, status, apiErr)
}

func writeError(w http.ResponseWriter, status int, e *api.Error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(e) // an api.Error always encodes; a failed write means the client has gone
}

// decode reads a JSON body strictly: unknown fields are refused, so that a
// misspelt field is an error rather than silently ignored, and so is anything
// after the object, which a sender meant to be read.
func decode(r *http.Request, into any) error {
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, maxJSONBody))
	dec.DisallowUnknownFields()
	err := dec.Decode(into)
	if err == nil {
		if _, next := dec.Token(); next != io.EOF {
			err = errTrailingData
			if errors.As(next, new(*http.MaxBytesError)) {
				err = next
			}
		}
	}
	var tooLarge *http.MaxBytesError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &tooLarge):
		return &api.Error{Code: api.CodeTooLarge, Message: fmt.Sprintf("the request body is over the limit of %d bytes (%d MiB) for this call: send less at once", tooLarge.Limit, tooLarge.Limit>>20)}
	case errors.Is(err, errTrailingData):
		return badRequest("", "the request body has data after its JSON object: send exactly one object")
	}
	return badRequest("", "the request body is not valid JSON for this call: %v", err)
}

var errTrailingData = errors.New("data after the JSON object")

func (s *Server) health(r *http.Request) (int, any, error) {
	h := s.cfg.Health()
	if !principalOf(r.Context()).Operator {
		// Where the engine keeps its data and which process it is are the operator's business.
		h.DataDir, h.PID = "", 0
	}
	return http.StatusOK, h, nil
}

func (s *Server) shutdown(r *http.Request) (int, any, error) {
	go s.cfg.Shutdown()
	return http.StatusAccepted, nil, nil
}

// project loads the project named by the {project} path parameter.
func (s *Server) project(ctx context.Context, r *http.Request) (*store.Project, error) {
	return s.visibleProject(ctx, r.PathValue("project"))
}

// visibleProject loads a project by id or name, if the caller may reach it: another team's
// project answers exactly as a missing one, so that a token learns nothing of it.
func (s *Server) visibleProject(ctx context.Context, ref string) (*store.Project, error) {
	p, err := s.cfg.Store.GetProject(ctx, ref)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !principalOf(ctx).sees(p)) {
		return nil, notFound("project %q does not exist", ref)
	}
	if err != nil {
		return nil, err
	}
	noteTeam(ctx, p.TeamID)
	return p, nil
}

// wantsSecrets reports whether a request asks for secret values in the clear (?decrypt=true).
func wantsSecrets(r *http.Request) bool {
	v := strings.ToLower(r.URL.Query().Get("decrypt"))
	return v == "1" || v == "true"
}
