package api

import (
	"fmt"
	"regexp"
	"time"
)

// Paths of teams, their tokens and the audit log.
const (
	PathTeams  = "/v1/teams"
	PathTeam   = "/v1/teams/{team}" // id or name
	PathTokens = "/v1/teams/{team}/tokens"
	// PathToken revokes a token (DELETE); the token stays listed, revoked.
	PathToken = "/v1/teams/{team}/tokens/{token}"
	// PathAudit lists the audit log, newest first: ?team= (the operator only), ?limit=, ?before= (an event id).
	PathAudit = "/v1/audit"
	// PathWhoAmI names the principal a request is made as.
	PathWhoAmI = "/v1/whoami"
)

// CodeForbidden refuses a request its token's scopes do not allow (403); the message names the
// scope needed.
const CodeForbidden = "forbidden"

// DefaultTeam is the team every project made before teams existed belongs to, and the one the
// operator's new projects go to unless they name another.
const DefaultTeam = "default"

// Scopes of team tokens, each including the ones before it: read answers every GET; deploy adds
// deployments (create, redeploy, cancel, delete), promotion, rollback and aliases; admin adds
// project settings and create/delete, env vars, domains, integrations and its team's tokens.
const (
	ScopeRead   = "read"
	ScopeDeploy = "deploy"
	ScopeAdmin  = "admin"
)

// Scopes lists the scopes from the least to the most allowed.
var Scopes = []string{ScopeRead, ScopeDeploy, ScopeAdmin}

// TokenPrefix starts every team token, so that a leaked one is recognised (by secret scanners,
// by a person) as ferry's.
const TokenPrefix = "ferry_"

// Team owns projects; its tokens reach only them.
type Team struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Plan      string    `json:"plan,omitempty"` // its plan's name (PathTeamPlan); "" for none: no limits
	Projects  int       `json:"projects"`       // how many projects it owns
	CreatedAt time.Time `json:"created_at"`
}

// TeamRequest creates a team (POST PathTeams).
type TeamRequest struct {
	Name string `json:"name"`
}

// TeamList answers GET PathTeams.
type TeamList struct {
	Teams []Team `json:"teams"`
}

// TokenRequest creates a token of a team (POST PathTokens).
type TokenRequest struct {
	Name   string   `json:"name"`
	Scopes []string `json:"scopes"`
	// Projects limits the token to these projects (ids or names); empty: every project of the team.
	Projects  []string   `json:"projects,omitempty"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"` // nil: never
}

// Token is a team token as listed: never its value.
type Token struct {
	ID     string   `json:"id"`
	TeamID string   `json:"team_id"`
	Name   string   `json:"name"`
	Scopes []string `json:"scopes"`
	// Projects are the ids of the projects it is limited to; empty: every project of the team.
	Projects []string `json:"projects,omitempty"`
	// Prefix is the token's first characters, enough to tell which one a person holds.
	Prefix     string     `json:"prefix"`
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"` // to the minute or so
	CreatedAt  time.Time  `json:"created_at"`
}

// CreatedToken answers POST PathTokens: the only answer that carries the token's value.
type CreatedToken struct {
	Token
	Value string `json:"value"`
}

// TokenList answers GET PathTokens.
type TokenList struct {
	Tokens []Token `json:"tokens"`
}

// WhoAmI answers GET PathWhoAmI.
type WhoAmI struct {
	Operator bool     `json:"operator"`
	TeamID   string   `json:"team_id,omitempty"`
	TeamName string   `json:"team_name,omitempty"`
	TokenID  string   `json:"token_id,omitempty"`
	Scopes   []string `json:"scopes,omitempty"`
}

// Actors of audit events.
const (
	ActorOperator = "operator" // the engine's own token, or its unix socket
	ActorToken    = "token"    // a team token
)

// AuditEvent is one change, or one attempt at one, as the audit log keeps it. It never holds a
// secret: request bodies are not kept, only what was acted on.
type AuditEvent struct {
	ID        int64     `json:"id"`
	At        time.Time `json:"at"`
	Actor     string    `json:"actor"`                // ActorOperator or ActorToken
	TokenID   string    `json:"token_id,omitempty"`   // for a token
	TokenName string    `json:"token_name,omitempty"` // for a token
	TeamID    string    `json:"team_id,omitempty"`    // the team of what was changed
	Action    string    `json:"action"`               // such as env.create, deployment.create
	Target    string    `json:"target"`               // the path acted on
	Remote    string    `json:"remote"`               // the client's address
	Status    int       `json:"status"`               // the HTTP status answered
	Error     string    `json:"error,omitempty"`      // the error code, when it failed
}

// AuditList answers GET PathAudit, newest first.
type AuditList struct {
	Events []AuditEvent `json:"events"`
}

// Bounds of GET PathAudit's limit.
const (
	DefaultAuditLimit = 100
	MaxAuditLimit     = 1000
)

var teamName = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// TeamNameProblem says what is wrong with a team name, or "".
func TeamNameProblem(name string) string {
	if !teamName.MatchString(name) {
		return fmt.Sprintf("team name %q is not valid: use 1 to 63 lowercase letters, digits and hyphens, starting and ending with a letter or digit", name)
	}
	return ""
}

// TokenNameProblem says what is wrong with a token name, or "".
func TokenNameProblem(name string) string {
	if name == "" || len(name) > 100 {
		return fmt.Sprintf("token name %q is not valid: give 1 to 100 characters that say who or what uses it (such as ci-deploy)", name)
	}
	return ""
}

// ScopeProblem says what is wrong with a list of scopes, or "".
func ScopeProblem(scopes []string) string {
	if len(scopes) == 0 {
		return "a token needs at least one scope: read, deploy or admin"
	}
	for _, s := range scopes {
		if ScopeRank(s) < 0 {
			return fmt.Sprintf("scope %q is not one of read, deploy, admin", s)
		}
	}
	return ""
}

// ScopeRank orders scopes (read 0, deploy 1, admin 2); -1 for an unknown one.
func ScopeRank(scope string) int {
	for i, s := range Scopes {
		if s == scope {
			return i
		}
	}
	return -1
}
