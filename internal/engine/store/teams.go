package store

import (
	"context"
	"errors"
	"time"
)

// DefaultTeamID is the id of the team named api.DefaultTeam, made by the migration that added
// teams: it owns every project made before.
const DefaultTeamID = "team_default"

// ErrTeamNotEmpty refuses to delete a team that still owns projects.
var ErrTeamNotEmpty = errors.New("the team owns projects")

// Teams keeps teams, their tokens and the audit log. A token is kept by the hash of its value
// only; the value itself is never stored.
type Teams interface {
	// CreateTeam inserts t: ErrConflict for a name in use.
	CreateTeam(ctx context.Context, t *Team) error
	// GetTeam finds a team by id or by name.
	GetTeam(ctx context.Context, idOrName string) (*Team, error)
	// ListTeams returns every team, by name, with how many projects each owns.
	ListTeams(ctx context.Context) ([]*Team, error)
	// DeleteTeam deletes a team and its tokens: ErrTeamNotEmpty, and nothing deleted, while it
	// owns projects.
	DeleteTeam(ctx context.Context, id string) error
	// SetTeamPlan puts a team on a plan ("" for none): ErrNotFound when there is no such team.
	SetTeamPlan(ctx context.Context, id, plan string) error

	// CreateToken inserts t: ErrConflict for a name in use in its team, ErrNotFound when the
	// team is gone.
	CreateToken(ctx context.Context, t *Token) error
	// TokenByHash finds a token by the hash of its value, with its team, in one read: it is the
	// check of every request made with a team token.
	TokenByHash(ctx context.Context, hash string) (*Token, *Team, error)
	// ListTokens returns a team's tokens, by name, revoked ones included.
	ListTokens(ctx context.Context, teamID string) ([]*Token, error)
	// RevokeToken marks a token of the team revoked at at (a token already revoked keeps its
	// first time). ErrNotFound when the team has no such token.
	RevokeToken(ctx context.Context, teamID, id string, at time.Time) error
	// TouchToken records that a token was used at at.
	TouchToken(ctx context.Context, id string, at time.Time) error

	// AppendAudit stores e, giving it its id.
	AppendAudit(ctx context.Context, e *AuditEvent) error
	// ListAudit returns events newest first: of one team unless f.TeamID is "", older than
	// f.Before unless it is 0, at most f.Limit.
	ListAudit(ctx context.Context, f AuditFilter) ([]AuditEvent, error)
	// PruneAudit deletes the events recorded before before, and says how many it deleted.
	PruneAudit(ctx context.Context, before time.Time) (int64, error)
}

// Team is a stored team.
type Team struct {
	ID        string
	Name      string
	Plan      string // the name of its plan; "" for none: no limits
	Projects  int    // how many projects it owns, as listed
	CreatedAt time.Time
}

// Token is a stored team token.
type Token struct {
	ID         string
	TeamID     string
	Name       string
	Hash       string   // hex SHA-256 of the value
	Prefix     string   // the value's first characters, for display
	Scopes     []string // api.Scope*
	Projects   []string // ids; empty: every project of the team
	ExpiresAt  *time.Time
	RevokedAt  *time.Time
	LastUsedAt *time.Time
	CreatedAt  time.Time
}

// AuditEvent is a stored audit event; see api.AuditEvent.
type AuditEvent struct {
	ID        int64
	At        time.Time
	Actor     string
	TokenID   string
	TokenName string
	TeamID    string
	Action    string
	Target    string
	Remote    string
	Status    int
	Error     string
}

// AuditFilter selects audit events.
type AuditFilter struct {
	TeamID string
	Before int64
	Limit  int
}
