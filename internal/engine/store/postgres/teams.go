package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
)

// teamMissing maps the violation of a project's or token's reference to its team to
// store.ErrNotFound, and returns other errors as they are (nil stays nil).
func teamMissing(err error, teamID string) error {
	if code, constraint := pgCode(err); code == foreignKeyViolation && (constraint == "projects_team_id_fkey" || constraint == "tokens_team_id_fkey") {
		return fmt.Errorf("team %s: %w", teamID, store.ErrNotFound)
	}
	return err
}

// CreateTeam inserts t.
func (s *Store) CreateTeam(ctx context.Context, t *store.Team) error {
	t.CreatedAt = now()
	_, err := s.pool.Exec(ctx, `INSERT INTO teams (id, name, created_at) VALUES ($1, $2, $3)`, t.ID, t.Name, t.CreatedAt)
	if isUniqueViolation(err) {
		return store.ErrConflict
	}
	return err
}

const teamQuery = `SELECT t.id, t.name, t.plan, t.created_at, (SELECT COUNT(*) FROM projects p WHERE p.team_id = t.id) FROM teams t`

func scanTeam(row pgx.Row) (*store.Team, error) {
	var t store.Team
	if err := row.Scan(&t.ID, &t.Name, &t.Plan, &t.CreatedAt, &t.Projects); err != nil {
		return nil, noRows(err)
	}
	return &t, nil
}

// GetTeam finds a team by id or by name.
func (s *Store) GetTeam(ctx context.Context, idOrName string) (*store.Team, error) {
	return scanTeam(s.pool.QueryRow(ctx, teamQuery+` WHERE t.id = $1 OR t.name = $1`, idOrName))
}

// ListTeams returns every team, by name.
func (s *Store) ListTeams(ctx context.Context) ([]*store.Team, error) {
	return listRows(ctx, s.pool, scanTeam, teamQuery+` ORDER BY t.name`)
}

// DeleteTeam deletes a team and its tokens unless it owns projects: the projects' reference
// to it refuses, in the same statement, a project added meanwhile too.
func (s *Store) DeleteTeam(ctx context.Context, id string) error {
	err := oneRow(s.pool.Exec(ctx, `DELETE FROM teams WHERE id = $1`, id))
	if code, constraint := pgCode(err); code == foreignKeyViolation && constraint == "projects_team_id_fkey" {
		return store.ErrTeamNotEmpty
	}
	return err
}

const tokenColumns = `id, team_id, name, hash, prefix, scopes, projects, expires_at, revoked_at, last_used_at, created_at`

// tokenWithTeamColumns are tokenColumns of tokens joined with teams, then the team's name and creation time.
const tokenWithTeamColumns = `tokens.id, tokens.team_id, tokens.name, tokens.hash, tokens.prefix, tokens.scopes, tokens.projects,
	tokens.expires_at, tokens.revoked_at, tokens.last_used_at, tokens.created_at, teams.name, teams.plan, teams.created_at`

func scanToken(row pgx.Row) (*store.Token, error) {
	var t store.Token
	if err := row.Scan(&t.ID, &t.TeamID, &t.Name, &t.Hash, &t.Prefix, &t.Scopes, &t.Projects, &t.ExpiresAt, &t.RevokedAt, &t.LastUsedAt, &t.CreatedAt); err != nil {
		return nil, noRows(err)
	}
	return &t, nil
}

// CreateToken inserts t.
func (s *Store) CreateToken(ctx context.Context, t *store.Token) error {
	t.CreatedAt = now()
	scopes, err := json.Marshal(t.Scopes)
	if err != nil {
		return err
	}
	projects, err := json.Marshal(append([]string{}, t.Projects...))
	if err != nil {
		return err
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO tokens (`+tokenColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, NULL, $9)`,
		t.ID, t.TeamID, t.Name, t.Hash, t.Prefix, scopes, projects, t.ExpiresAt, t.CreatedAt)
	if isUniqueViolation(err) {
		return store.ErrConflict
	}
	return teamMissing(err, t.TeamID)
}

// TokenByHash finds a token by the hash of its value, with its team.
func (s *Store) TokenByHash(ctx context.Context, hash string) (*store.Token, *store.Team, error) {
	var team store.Team
	tok, err := scanToken(teamAlso{s.pool.QueryRow(ctx, `SELECT `+tokenWithTeamColumns+` FROM tokens JOIN teams ON teams.id = tokens.team_id WHERE tokens.hash = $1`, hash), &team})
	if err != nil {
		return nil, nil, err
	}
	team.ID = tok.TeamID
	return tok, &team, nil
}

// teamAlso scans a token's row followed by its team's name and creation time.
type teamAlso struct {
	row  pgx.Row
	team *store.Team
}

func (r teamAlso) Scan(dest ...any) error {
	return r.row.Scan(append(dest, &r.team.Name, &r.team.Plan, &r.team.CreatedAt)...)
}

// ListTokens returns a team's tokens, by name.
func (s *Store) ListTokens(ctx context.Context, teamID string) ([]*store.Token, error) {
	return listRows(ctx, s.pool, scanToken, `SELECT `+tokenColumns+` FROM tokens WHERE team_id = $1 ORDER BY name`, teamID)
}

// RevokeToken marks a token of the team revoked.
func (s *Store) RevokeToken(ctx context.Context, teamID, id string, at time.Time) error {
	return oneRow(s.pool.Exec(ctx, `UPDATE tokens SET revoked_at = COALESCE(revoked_at, $1) WHERE team_id = $2 AND id = $3`, at.UTC(), teamID, id))
}

// TouchToken records that a token was used at at.
func (s *Store) TouchToken(ctx context.Context, id string, at time.Time) error {
	_, err := s.pool.Exec(ctx, `UPDATE tokens SET last_used_at = $1 WHERE id = $2`, at.UTC(), id)
	return err
}

// AppendAudit stores e.
func (s *Store) AppendAudit(ctx context.Context, e *store.AuditEvent) error {
	return s.pool.QueryRow(ctx, `INSERT INTO audit_events (at, actor, token_id, token_name, team_id, action, target, remote, status, error)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
		e.At.UTC(), e.Actor, e.TokenID, e.TokenName, e.TeamID, e.Action, e.Target, e.Remote, e.Status, e.Error).Scan(&e.ID)
}

// PruneAudit deletes the events recorded before before.
func (s *Store) PruneAudit(ctx context.Context, before time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM audit_events WHERE at < $1`, before)
	return tag.RowsAffected(), err
}

// ListAudit returns events newest first.
func (s *Store) ListAudit(ctx context.Context, f store.AuditFilter) ([]store.AuditEvent, error) {
	return listRows(ctx, s.pool, func(row pgx.Row) (store.AuditEvent, error) {
		var e store.AuditEvent
		err := row.Scan(&e.ID, &e.At, &e.Actor, &e.TokenID, &e.TokenName, &e.TeamID, &e.Action, &e.Target, &e.Remote, &e.Status, &e.Error)
		return e, err
	}, `SELECT id, at, actor, token_id, token_name, team_id, action, target, remote, status, error FROM audit_events
		WHERE ($1 = '' OR team_id = $1) AND ($2 = 0 OR id < $2) ORDER BY id DESC LIMIT $3`,
		f.TeamID, f.Before, f.Limit)
}

// SetTeamPlan puts a team on a plan.
func (s *Store) SetTeamPlan(ctx context.Context, id, plan string) error {
	err := oneRow(s.pool.Exec(ctx, `UPDATE teams SET plan = $1 WHERE id = $2`, plan, id))
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("team %s: %w", id, store.ErrNotFound)
	}
	return err
}
