package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
)

// WhoAmI names the principal the client's token is: the operator, or a team token.
func (c *Client) WhoAmI(ctx context.Context) (*api.WhoAmI, error) {
	var w api.WhoAmI
	if err := c.do(ctx, http.MethodGet, api.PathWhoAmI, nil, nil, &w); err != nil {
		return nil, err
	}
	return &w, nil
}

// CreateTeam creates a team (the operator only).
func (c *Client) CreateTeam(ctx context.Context, req api.TeamRequest) (*api.Team, error) {
	var t api.Team
	if err := c.do(ctx, http.MethodPost, api.PathTeams, nil, req, &t); err != nil {
		return nil, err
	}
	return &t, nil
}

// GetTeam returns a team by id or name.
func (c *Client) GetTeam(ctx context.Context, idOrName string) (*api.Team, error) {
	var t api.Team
	if err := c.do(ctx, http.MethodGet, expand(api.PathTeam, "team", idOrName), nil, nil, &t); err != nil {
		return nil, err
	}
	return &t, nil
}

// ListTeams returns the teams the client may see: every one for the operator, its own for a token.
func (c *Client) ListTeams(ctx context.Context) ([]api.Team, error) {
	var l api.TeamList
	if err := c.do(ctx, http.MethodGet, api.PathTeams, nil, nil, &l); err != nil {
		return nil, err
	}
	return l.Teams, nil
}

// DeleteTeam deletes a team that owns no project, with its tokens.
func (c *Client) DeleteTeam(ctx context.Context, idOrName string) error {
	return c.do(ctx, http.MethodDelete, expand(api.PathTeam, "team", idOrName), nil, nil, nil)
}

// CreateToken creates a token of a team; the answer is the only one to carry its value.
func (c *Client) CreateToken(ctx context.Context, team string, req api.TokenRequest) (*api.CreatedToken, error) {
	var t api.CreatedToken
	if err := c.do(ctx, http.MethodPost, expand(api.PathTokens, "team", team), nil, req, &t); err != nil {
		return nil, err
	}
	return &t, nil
}

// ListTokens returns a team's tokens, revoked ones included, without their values.
func (c *Client) ListTokens(ctx context.Context, team string) ([]api.Token, error) {
	var l api.TokenList
	if err := c.do(ctx, http.MethodGet, expand(api.PathTokens, "team", team), nil, nil, &l); err != nil {
		return nil, err
	}
	return l.Tokens, nil
}

// RevokeToken revokes a token of a team: it is refused from its next request on.
func (c *Client) RevokeToken(ctx context.Context, team, id string) error {
	return c.do(ctx, http.MethodDelete, expand(api.PathToken, "team", team, "token", id), nil, nil, nil)
}

// ListAudit returns audit events, newest first: of team ("" for every team the client may
// see), at most limit (0: the engine's default), older than event before (0: the newest).
func (c *Client) ListAudit(ctx context.Context, team string, limit int, before int64) ([]api.AuditEvent, error) {
	q := url.Values{}
	if team != "" {
		q.Set("team", team)
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	if before > 0 {
		q.Set("before", strconv.FormatInt(before, 10))
	}
	var l api.AuditList
	if err := c.do(ctx, http.MethodGet, api.PathAudit, q, nil, &l); err != nil {
		return nil, err
	}
	return l.Events, nil
}
