package apiserver

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
)

// operatorOnly marks routes no team token may call, whatever its scopes.
const operatorOnly = ""

// access is what a route needs and what the audit log calls it.
type access struct {
	need   string // api.Scope*, or operatorOnly
	action string // the audit log's name of the change; "" for a call that changes nothing
}

// routeAccess classifies every route of the API, in one place: New refuses to register a
// route that is not here, so a new endpoint cannot be reachable by accident. Reads need the
// read scope; what a deployment pipeline does needs deploy; settings, secrets, domains and
// tokens need admin; the engine's own business is the operator's. Which projects a token
// reaches is checked where the project is loaded (Server.project, Server.deployment). The
// handover and the dashboard's login links are not here: the engine serves them on its unix
// socket only, which is the operator's.
var routeAccess = map[string]access{
	"GET " + api.PathHealth: {need: api.ScopeRead},
	"GET " + api.PathWhoAmI: {need: api.ScopeRead},
	"GET " + api.PathNodes:  {need: operatorOnly},
	// The key that opens every team's secrets is the engine's business.
	"GET " + api.PathSecretKeys:   {need: operatorOnly},
	"POST " + api.PathSecretKeys:  {need: operatorOnly, action: "key.rotate"},
	"DELETE " + api.PathSecretKey: {need: operatorOnly, action: "key.retire"},
	"GET " + api.PathUsage:        {need: api.ScopeRead}, // the projects the token sees
	"GET " + api.PathPlans:        {need: api.ScopeRead},
	"GET " + api.PathTeamPlan:     {need: api.ScopeRead},
	"PUT " + api.PathTeamPlan:     {need: operatorOnly, action: "team.plan"},
	"POST " + api.PathShutdown:    {need: operatorOnly, action: "engine.shutdown"},
	"GET " + api.PathMetrics:      {need: operatorOnly}, // every project's series at once
	"GET " + api.PathTeams:        {need: api.ScopeRead},
	"POST " + api.PathTeams:       {need: operatorOnly, action: "team.create"},
	"GET " + api.PathTeam:         {need: api.ScopeRead},
	"DELETE " + api.PathTeam:      {need: operatorOnly, action: "team.delete"},
	"GET " + api.PathTokens:       {need: api.ScopeAdmin},
	"POST " + api.PathTokens:      {need: api.ScopeAdmin, action: "token.create"},
	"DELETE " + api.PathToken:     {need: api.ScopeAdmin, action: "token.revoke"},
	"GET " + api.PathAudit:        {need: api.ScopeAdmin},
	"GET " + api.PathProjects:     {need: api.ScopeRead},
	"POST " + api.PathProjects:    {need: api.ScopeAdmin, action: "project.create"},
	"GET " + api.PathProject:      {need: api.ScopeRead},
	"PUT " + api.PathProject:      {need: api.ScopeAdmin, action: "project.update"},
	"DELETE " + api.PathProject:   {need: api.ScopeAdmin, action: "project.delete"},
	"GET " + api.PathEnvVars:      {need: api.ScopeRead},
	"POST " + api.PathEnvVars:     {need: api.ScopeAdmin, action: "env.create"},
	"GET " + api.PathEnvVar:       {need: api.ScopeRead},
	"PUT " + api.PathEnvVar:       {need: api.ScopeAdmin, action: "env.update"},
	"DELETE " + api.PathEnvVar:    {need: api.ScopeAdmin, action: "env.delete"},
	"GET " + api.PathEnvDigest:    {need: api.ScopeRead},
	// Pulling env values in the clear is a read of secrets: what `vercel env pull` lets a
	// developer of the project do.
	"GET " + api.PathEnvPull: {need: api.ScopeRead},
	// Blobs are addressed by digest and shared by every project; uploading them is part of a
	// deployment, and not a change worth a line of the audit log each.
	"HEAD " + api.PathFiles:               {need: api.ScopeDeploy},
	"PUT " + api.PathFiles:                {need: api.ScopeDeploy},
	"GET " + api.PathDeployments:          {need: api.ScopeRead},
	"POST " + api.PathDeployments:         {need: api.ScopeDeploy, action: "deployment.create"},
	"GET " + api.PathDeployment:           {need: api.ScopeRead},
	"DELETE " + api.PathDeployment:        {need: api.ScopeDeploy, action: "deployment.delete"},
	"GET " + api.PathDeploymentLog:        {need: api.ScopeRead},
	"POST " + api.PathDeploymentCancel:    {need: api.ScopeDeploy, action: "deployment.cancel"},
	"GET " + api.PathDeploymentFiles:      {need: api.ScopeRead},
	"GET " + api.PathDeploymentFile:       {need: api.ScopeRead},
	"GET " + api.PathDeploymentRuntimeLog: {need: api.ScopeRead},
	"GET " + api.PathProjectRuntimeLog:    {need: api.ScopeRead},
	"GET " + api.PathDeploymentRequests:   {need: api.ScopeRead},
	"GET " + api.PathDeploymentMetrics:    {need: api.ScopeRead},
	// Resolving a git ref fetches the repository: part of deploying, not a change.
	"POST " + api.PathGitResolve:            {need: api.ScopeDeploy},
	"GET " + api.PathSupabaseIntegrations:   {need: api.ScopeRead},
	"POST " + api.PathSupabaseIntegrations:  {need: api.ScopeAdmin, action: "integration.create"},
	"GET " + api.PathSupabaseIntegration:    {need: api.ScopeRead},
	"PUT " + api.PathSupabaseIntegration:    {need: api.ScopeAdmin, action: "integration.update"},
	"DELETE " + api.PathSupabaseIntegration: {need: api.ScopeAdmin, action: "integration.delete"},
	"GET " + api.PathProductionAlias:        {need: api.ScopeRead},
	"PUT " + api.PathProductionAlias:        {need: api.ScopeDeploy, action: "alias.set"},
	"DELETE " + api.PathProductionAlias:     {need: api.ScopeDeploy, action: "alias.release"},
	"GET " + api.PathAlias:                  {need: api.ScopeRead},
	"PUT " + api.PathAlias:                  {need: api.ScopeDeploy, action: "alias.set"},
	"DELETE " + api.PathAlias:               {need: api.ScopeDeploy, action: "alias.release"},
	"GET " + api.PathDomains:                {need: api.ScopeRead},
	"POST " + api.PathDomains:               {need: api.ScopeAdmin, action: "domain.create"},
	"GET " + api.PathDomain:                 {need: api.ScopeRead},
	"PUT " + api.PathDomain:                 {need: api.ScopeAdmin, action: "domain.update"},
	"DELETE " + api.PathDomain:              {need: api.ScopeAdmin, action: "domain.delete"},
	"POST " + api.PathDomainVerify:          {need: api.ScopeAdmin, action: "domain.verify"},
	// Webhooks hear of every project of their team and hold a secret: the team's admins' business.
	"GET " + api.PathWebhooks:          {need: api.ScopeAdmin},
	"POST " + api.PathWebhooks:         {need: api.ScopeAdmin, action: "webhook.create"},
	"GET " + api.PathWebhook:           {need: api.ScopeAdmin},
	"PUT " + api.PathWebhook:           {need: api.ScopeAdmin, action: "webhook.update"},
	"DELETE " + api.PathWebhook:        {need: api.ScopeAdmin, action: "webhook.delete"},
	"GET " + api.PathWebhookDeliveries: {need: api.ScopeAdmin},
}

// route registers h for method and pattern behind the check of routeAccess.
func (s *Server) route(method, pattern string, h http.Handler) {
	key := method + " " + pattern
	a, ok := routeAccess[key]
	if !ok {
		panic(fmt.Sprintf("apiserver: route %s has no entry in routeAccess: classify it (scope needed, audit action)", key))
	}
	s.routes = append(s.routes, key)
	s.mux.Handle(key, s.guard(a, h))
}

// auditNote is what a handler learns of a change for its line in the audit log.
type auditNote struct {
	teamID string // the team of what was changed
	code   string // the api.Error code of a failure
}

type auditNoteKey struct{}

func noteOf(ctx context.Context) *auditNote {
	n, _ := ctx.Value(auditNoteKey{}).(*auditNote)
	return n
}

// noteTeam records the team of what a change touches, for its audit event.
func noteTeam(ctx context.Context, teamID string) {
	if n := noteOf(ctx); n != nil && n.teamID == "" {
		n.teamID = teamID
	}
}

// guard refuses a principal without the scope a route needs, and writes one audit event for
// each change (allowed or not).
func (s *Server) guard(a access, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := principalOf(r.Context())
		note := &auditNote{}
		ctx := context.WithValue(r.Context(), auditNoteKey{}, note)
		status := &statusRecorder{ResponseWriter: w}
		if err := p.allows(a.need); err != nil {
			s.writeFailure(status, r.WithContext(ctx), err)
		} else {
			h.ServeHTTP(status, r.WithContext(ctx))
		}
		if a.action != "" {
			s.audit(r, p, a.action, note, status.code())
		}
	})
}

func (s *Server) audit(r *http.Request, p *Principal, action string, note *auditNote, status int) {
	e := store.AuditEvent{At: s.now().UTC(), Actor: api.ActorOperator, TeamID: note.teamID, Action: action,
		Target: r.URL.Path, Remote: remoteOf(r), Status: status, Error: note.code}
	if !p.Operator {
		e.Actor, e.TokenID, e.TokenName = api.ActorToken, p.Token.ID, p.Token.Name
		if e.TeamID == "" {
			e.TeamID = p.Team.ID
		}
	}
	// The change is made (or refused) already; a lost event is logged, not answered as a failure.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 10*time.Second)
	defer cancel()
	if err := s.cfg.Store.AppendAudit(ctx, &e); err != nil {
		s.cfg.Logger.Error("writing an audit event failed", "action", action, "target", e.Target, "error", err)
	}
}

// remoteOf is the address a request came from: the unix socket's callers have none.
func remoteOf(r *http.Request) string {
	if r.RemoteAddr == "" || r.RemoteAddr == "@" {
		return "unix socket"
	}
	return r.RemoteAddr
}

// statusRecorder remembers the status a handler answered.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (w *statusRecorder) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusRecorder) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(p)
}

// Flush lets followed logs stream through the recorder.
func (w *statusRecorder) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection.
func (w *statusRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusRecorder) code() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}
