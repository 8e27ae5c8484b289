package apiserver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/deploy"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
)

func (s *Server) routeTeams() {
	s.handle("GET", api.PathWhoAmI, s.whoAmI)
	s.handle("GET", api.PathTeams, s.listTeams)
	s.handle("POST", api.PathTeams, s.createTeam)
	s.handle("GET", api.PathTeam, s.getTeam)
	s.handle("DELETE", api.PathTeam, s.deleteTeam)
	s.handle("GET", api.PathTokens, s.listTokens)
	s.handle("POST", api.PathTokens, s.createToken)
	s.handle("DELETE", api.PathToken, s.revokeToken)
	s.handle("GET", api.PathAudit, s.listAudit)
}

func (s *Server) whoAmI(r *http.Request) (int, any, error) {
	p := principalOf(r.Context())
	if p.Operator {
		return http.StatusOK, api.WhoAmI{Operator: true}, nil
	}
	return http.StatusOK, api.WhoAmI{TeamID: p.Team.ID, TeamName: p.Team.Name, TokenID: p.Token.ID, Scopes: p.Token.Scopes}, nil
}

func toAPITeam(t *store.Team) api.Team {
	return api.Team{ID: t.ID, Name: t.Name, Plan: t.Plan, Projects: t.Projects, CreatedAt: t.CreatedAt}
}

// visibleTeam loads a team by id or name, if the caller may reach it: a token, its own team
// only; another answers as a missing one.
func (s *Server) visibleTeam(ctx context.Context, ref string) (*store.Team, error) {
	t, err := s.cfg.Store.GetTeam(ctx, ref)
	p := principalOf(ctx)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !p.Operator && t.ID != p.Team.ID) {
		return nil, notFound("team %q does not exist: list the teams with `ferry teams ls`", ref)
	}
	if err != nil {
		return nil, err
	}
	noteTeam(ctx, t.ID)
	return t, nil
}

func (s *Server) listTeams(r *http.Request) (int, any, error) {
	teams, err := s.cfg.Store.ListTeams(r.Context())
	if err != nil {
		return 0, nil, err
	}
	p := principalOf(r.Context())
	out := api.TeamList{Teams: []api.Team{}}
	for _, t := range teams {
		if p.Operator || t.ID == p.Team.ID {
			out.Teams = append(out.Teams, toAPITeam(t))
		}
	}
	return http.StatusOK, out, nil
}

func (s *Server) getTeam(r *http.Request) (int, any, error) {
	t, err := s.visibleTeam(r.Context(), r.PathValue("team"))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, toAPITeam(t), nil
}

func (s *Server) createTeam(r *http.Request) (int, any, error) {
	var req api.TeamRequest
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	if problem := api.TeamNameProblem(req.Name); problem != "" {
		return 0, nil, badRequest("name", "%s", problem)
	}
	t := &store.Team{ID: deploy.NewID("team"), Name: req.Name}
	err := s.cfg.Store.CreateTeam(r.Context(), t)
	if errors.Is(err, store.ErrConflict) {
		return 0, nil, &api.Error{Code: api.CodeConflict, Field: "name", Message: fmt.Sprintf("a team named %q already exists: choose another name, or import it (terraform import ferry_team.NAME %s)", req.Name, req.Name)}
	}
	if err != nil {
		return 0, nil, err
	}
	noteTeam(r.Context(), t.ID)
	s.cfg.Logger.Info("team created", "team", t.Name, "id", t.ID)
	return http.StatusCreated, toAPITeam(t), nil
}

func (s *Server) deleteTeam(r *http.Request) (int, any, error) {
	t, err := s.visibleTeam(r.Context(), r.PathValue("team"))
	if err != nil {
		return 0, nil, err
	}
	if t.ID == store.DefaultTeamID {
		return 0, nil, &api.Error{Code: api.CodeConflict, Message: "the default team cannot be deleted: it receives the operator's projects that name no team"}
	}
	err = s.cfg.Store.DeleteTeam(r.Context(), t.ID)
	if errors.Is(err, store.ErrTeamNotEmpty) {
		return 0, nil, &api.Error{Code: api.CodeConflict, Message: fmt.Sprintf("team %s still owns %d project(s): delete them, or move them to another team (the project's team), then delete the team", t.Name, t.Projects)}
	}
	if err != nil {
		return 0, nil, err
	}
	s.cfg.Logger.Info("team deleted", "team", t.Name, "id", t.ID)
	return http.StatusNoContent, nil, nil
}

func toAPIToken(t *store.Token) api.Token {
	return api.Token{ID: t.ID, TeamID: t.TeamID, Name: t.Name, Scopes: t.Scopes, Projects: t.Projects, Prefix: t.Prefix,
		ExpiresAt: t.ExpiresAt, RevokedAt: t.RevokedAt, LastUsedAt: t.LastUsedAt, CreatedAt: t.CreatedAt}
}

func (s *Server) listTokens(r *http.Request) (int, any, error) {
	t, err := s.visibleTeam(r.Context(), r.PathValue("team"))
	if err != nil {
		return 0, nil, err
	}
	tokens, err := s.cfg.Store.ListTokens(r.Context(), t.ID)
	if err != nil {
		return 0, nil, err
	}
	out := api.TokenList{Tokens: []api.Token{}}
	for _, tok := range tokens {
		out.Tokens = append(out.Tokens, toAPIToken(tok))
	}
	return http.StatusOK, out, nil
}

// mayIssue refuses a token that would let its maker do more than it can itself: a token
// limited to projects, or one that expires, cannot make one without those bounds.
func mayIssue(p *Principal, req *api.TokenRequest) error {
	if p.Operator {
		return nil
	}
	if len(p.Token.Projects) > 0 {
		return &api.Error{Code: api.CodeForbidden, Message: fmt.Sprintf("token %s is limited to projects, so it may not issue tokens: use an admin token of team %s that is not limited", p.Token.Name, p.Team.Name)}
	}
	if p.Token.ExpiresAt != nil && (req.ExpiresAt == nil || req.ExpiresAt.After(*p.Token.ExpiresAt)) {
		return badRequest("expires_at", "token %s expires at %s, and may not issue a token that outlives it: give an expires_at no later than that", p.Token.Name, p.Token.ExpiresAt.Format(time.RFC3339))
	}
	return nil
}

func (s *Server) createToken(r *http.Request) (int, any, error) {
	ctx := r.Context()
	team, err := s.visibleTeam(ctx, r.PathValue("team"))
	if err != nil {
		return 0, nil, err
	}
	var req api.TokenRequest
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	if problem := api.TokenNameProblem(req.Name); problem != "" {
		return 0, nil, badRequest("name", "%s", problem)
	}
	if problem := api.ScopeProblem(req.Scopes); problem != "" {
		return 0, nil, badRequest("scopes", "%s", problem)
	}
	if req.ExpiresAt != nil && !req.ExpiresAt.After(s.now()) {
		return 0, nil, badRequest("expires_at", "expires_at %s is not in the future: give a later time, or none for a token that does not expire", req.ExpiresAt.Format(time.RFC3339))
	}
	if err := mayIssue(principalOf(ctx), &req); err != nil {
		return 0, nil, err
	}
	var projects []string
	for _, ref := range req.Projects {
		p, err := s.cfg.Store.GetProject(ctx, ref)
		if errors.Is(err, store.ErrNotFound) || (err == nil && p.TeamID != team.ID) {
			return 0, nil, badRequest("projects", "project %q is not a project of team %s: a token reaches only its team's projects", ref, team.Name)
		}
		if err != nil {
			return 0, nil, err
		}
		projects = append(projects, p.ID)
	}
	if err := s.freeExpiredName(ctx, team.ID, req.Name); err != nil {
		return 0, nil, err
	}
	value, hash := newTokenValue()
	tok := &store.Token{ID: deploy.NewID("tok"), TeamID: team.ID, Name: req.Name, Hash: hash, Prefix: value[:tokenDisplayPrefix],
		Scopes: req.Scopes, Projects: projects, ExpiresAt: req.ExpiresAt}
	err = s.cfg.Store.CreateToken(ctx, tok)
	if errors.Is(err, store.ErrConflict) {
		return 0, nil, &api.Error{Code: api.CodeConflict, Field: "name", Message: fmt.Sprintf("team %s already has a token named %q: choose another name, or revoke that one first", team.Name, req.Name)}
	}
	if err != nil {
		return 0, nil, err
	}
	s.cfg.Logger.Info("token created", "team", team.Name, "token", tok.ID, "name", tok.Name)
	return http.StatusCreated, api.CreatedToken{Token: toAPIToken(tok), Value: value}, nil
}

// freeExpiredName revokes an expired token of the team named name, so that a new token may take
// the name: an expired token is refused already, and its name is what rotating it reuses.
func (s *Server) freeExpiredName(ctx context.Context, teamID, name string) error {
	tokens, err := s.cfg.Store.ListTokens(ctx, teamID)
	if err != nil {
		return err
	}
	now := s.now()
	for _, t := range tokens {
		if t.Name == name && t.RevokedAt == nil && t.ExpiresAt != nil && !now.Before(*t.ExpiresAt) {
			if err := s.cfg.Store.RevokeToken(ctx, teamID, t.ID, now); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *Server) revokeToken(r *http.Request) (int, any, error) {
	team, err := s.visibleTeam(r.Context(), r.PathValue("team"))
	if err != nil {
		return 0, nil, err
	}
	id := r.PathValue("token")
	if p := principalOf(r.Context()); !p.Operator && len(p.Token.Projects) > 0 && p.Token.ID != id {
		return 0, nil, &api.Error{Code: api.CodeForbidden, Message: fmt.Sprintf("token %s is limited to projects, so it may revoke only itself", p.Token.Name)}
	}
	err = s.cfg.Store.RevokeToken(r.Context(), team.ID, id, s.now())
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil, notFound("team %s has no token %q: list its tokens with `ferry tokens ls --team %s`", team.Name, id, team.Name)
	}
	if err != nil {
		return 0, nil, err
	}
	s.cfg.Logger.Info("token revoked", "team", team.Name, "token", id)
	return http.StatusNoContent, nil, nil
}

func (s *Server) listAudit(r *http.Request) (int, any, error) {
	q := r.URL.Query()
	filter := store.AuditFilter{Limit: api.DefaultAuditLimit}
	if text := q.Get("limit"); text != "" {
		n, err := strconv.Atoi(text)
		if err != nil || n < 1 || n > api.MaxAuditLimit {
			return 0, nil, badRequest("limit", "limit %q is not a number of events from 1 to %d", text, api.MaxAuditLimit)
		}
		filter.Limit = n
	}
	if text := q.Get("before"); text != "" {
		n, err := strconv.ParseInt(text, 10, 64)
		if err != nil || n < 1 {
			return 0, nil, badRequest("before", "before %q is not an event id: give the id of the oldest event seen, to list older ones", text)
		}
		filter.Before = n
	}
	p := principalOf(r.Context())
	filter.TeamID = p.teamID()
	if ref := q.Get("team"); ref != "" {
		t, err := s.visibleTeam(r.Context(), ref)
		if err != nil {
			return 0, nil, err
		}
		filter.TeamID = t.ID
	}
	events, err := s.cfg.Store.ListAudit(r.Context(), filter)
	if err != nil {
		return 0, nil, err
	}
	out := api.AuditList{Events: []api.AuditEvent{}}
	for _, e := range events {
		out.Events = append(out.Events, api.AuditEvent{ID: e.ID, At: e.At, Actor: e.Actor, TokenID: e.TokenID, TokenName: e.TokenName,
			TeamID: e.TeamID, Action: e.Action, Target: e.Target, Remote: e.Remote, Status: e.Status, Error: e.Error})
	}
	return http.StatusOK, out, nil
}

// projectTeam is the team a new project, or a project being moved, goes to: the one named,
// else the caller's (the default team for the operator). Only the operator may give a project
// to another team than its own.
func (s *Server) projectTeam(ctx context.Context, ref string) (*store.Team, error) {
	p := principalOf(ctx)
	if ref == "" {
		if p.Operator {
			return s.cfg.Store.GetTeam(ctx, store.DefaultTeamID)
		}
		return p.Team, nil
	}
	t, err := s.visibleTeam(ctx, ref)
	var apiErr *api.Error
	if errors.As(err, &apiErr) {
		apiErr.Field = "team"
	}
	return t, err
}
