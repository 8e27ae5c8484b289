package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
)

// teamExists is nil when the team is there, ErrNotFound when not: projects.team_id has no
// foreign key (see teamsMigration), so writers of it check in their transaction.
func teamExists(ctx context.Context, tx *sql.Tx, id string) error {
	var one int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM teams WHERE id = ?`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("team %s: %w", id, store.ErrNotFound)
	}
	return err
}

// CreateTeam inserts t.
func (s *Store) CreateTeam(ctx context.Context, t *store.Team) error {
	t.CreatedAt = now()
	_, err := s.db.ExecContext(ctx, `INSERT INTO teams (id, name, created_at) VALUES (?, ?, ?)`, t.ID, t.Name, t.CreatedAt)
	if isUniqueViolation(err) {
		return store.ErrConflict
	}
	return err
}

const teamQuery = `SELECT t.id, t.name, t.plan, t.created_at, (SELECT COUNT(*) FROM projects p WHERE p.team_id = t.id) FROM teams t`

func scanTeam(row scanner) (*store.Team, error) {
	var t store.Team
	err := row.Scan(&t.ID, &t.Name, &t.Plan, &t.CreatedAt, &t.Projects)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	return &t, err
}

// GetTeam finds a team by id or by name.
func (s *Store) GetTeam(ctx context.Context, idOrName string) (*store.Team, error) {
	return scanTeam(s.db.QueryRowContext(ctx, teamQuery+` WHERE t.id = ? OR t.name = ?`, idOrName, idOrName))
}

// ListTeams returns every team, by name.
func (s *Store) ListTeams(ctx context.Context) ([]*store.Team, error) {
	return listRows(ctx, s.db, scanTeam, teamQuery+` ORDER BY t.name`)
}

// DeleteTeam deletes a team and its tokens unless it owns projects.
func (s *Store) DeleteTeam(ctx context.Context, id string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		var projects int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM projects WHERE team_id = ?`, id).Scan(&projects); err != nil {
			return err
		}
		if projects > 0 {
			return store.ErrTeamNotEmpty
		}
		return oneRow(tx.ExecContext(ctx, `DELETE FROM teams WHERE id = ?`, id))
	})
}

const tokenColumns = `id, team_id, name, hash, prefix, scopes, projects, expires_at, revoked_at, last_used_at, created_at`

// tokenWithTeamColumns are tokenColumns of tokens joined with teams, then the team's name and creation time.
const tokenWithTeamColumns = `tokens.id, tokens.team_id, tokens.name, tokens.hash, tokens.prefix, tokens.scopes, tokens.projects,
	tokens.expires_at, tokens.revoked_at, tokens.last_used_at, tokens.created_at, teams.name, teams.plan, teams.created_at`

func scanToken(row scanner) (*store.Token, error) {
	var t store.Token
	var scopes, projects string
	var expires, revoked, used sql.NullTime
	err := row.Scan(&t.ID, &t.TeamID, &t.Name, &t.Hash, &t.Prefix, &scopes, &projects, &expires, &revoked, &used, &t.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if err := errors.Join(json.Unmarshal([]byte(scopes), &t.Scopes), json.Unmarshal([]byte(projects), &t.Projects)); err != nil {
		return nil, fmt.Errorf("token %s: %w", t.ID, err)
	}
	t.ExpiresAt, t.RevokedAt, t.LastUsedAt = nullTime(expires), nullTime(revoked), nullTime(used)
	return &t, nil
}

func nullTime(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	v := t.Time.UTC()
	return &v
}

func utcOrNil(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UTC()
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
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if err := teamExists(ctx, tx, t.TeamID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO tokens (`+tokenColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, ?)`,
			t.ID, t.TeamID, t.Name, t.Hash, t.Prefix, string(scopes), string(projects), utcOrNil(t.ExpiresAt), t.CreatedAt)
		if isUniqueViolation(err) {
			return store.ErrConflict
		}
		return err
	})
}

// TokenByHash finds a token by the hash of its value, with its team.
func (s *Store) TokenByHash(ctx context.Context, hash string) (*store.Token, *store.Team, error) {
	var team store.Team
	tok, err := scanToken(teamAlso{s.db.QueryRowContext(ctx, `SELECT `+tokenWithTeamColumns+` FROM tokens JOIN teams ON teams.id = tokens.team_id WHERE tokens.hash = ?`, hash), &team})
	if err != nil {
		return nil, nil, err
	}
	team.ID = tok.TeamID
	return tok, &team, nil
}

// teamAlso scans a token's row followed by its team's name and creation time.
type teamAlso struct {
	row  scanner
	team *store.Team
}

func (r teamAlso) Scan(dest ...any) error {
	return r.row.Scan(append(dest, &r.team.Name, &r.team.Plan, &r.team.CreatedAt)...)
}

// ListTokens returns a team's tokens, by name.
func (s *Store) ListTokens(ctx context.Context, teamID string) ([]*store.Token, error) {
	return listRows(ctx, s.db, scanToken, `SELECT `+tokenColumns+` FROM tokens WHERE team_id = ? ORDER BY name`, teamID)
}

// RevokeToken marks a token of the team revoked.
func (s *Store) RevokeToken(ctx context.Context, teamID, id string, at time.Time) error {
	return oneRow(s.db.ExecContext(ctx, `UPDATE tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE team_id = ? AND id = ?`, at.UTC(), teamID, id))
}

// TouchToken records that a token was used at at.
func (s *Store) TouchToken(ctx context.Context, id string, at time.Time) error {
	_, err := s.db.ExecContext(ctx, `UPDATE tokens SET last_used_at = ? WHERE id = ?`, at.UTC(), id)
	return err
}

// AppendAudit stores e.
func (s *Store) AppendAudit(ctx context.Context, e *store.AuditEvent) error {
	return s.db.QueryRowContext(ctx, `INSERT INTO audit_events (at, actor, token_id, token_name, team_id, action, target, remote, status, error)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		e.At.UTC(), e.Actor, e.TokenID, e.TokenName, e.TeamID, e.Action, e.Target, e.Remote, e.Status, e.Error).Scan(&e.ID)
}

// ListAudit returns events newest first.
func (s *Store) ListAudit(ctx context.Context, f store.AuditFilter) ([]store.AuditEvent, error) {
	return listRows(ctx, s.db, func(row scanner) (store.AuditEvent, error) {
		var e store.AuditEvent
		err := row.Scan(&e.ID, &e.At, &e.Actor, &e.TokenID, &e.TokenName, &e.TeamID, &e.Action, &e.Target, &e.Remote, &e.Status, &e.Error)
		return e, err
	}, `SELECT id, at, actor, token_id, token_name, team_id, action, target, remote, status, error FROM audit_events
		WHERE (? = '' OR team_id = ?) AND (? = 0 OR id < ?) ORDER BY id DESC LIMIT ?`,
		f.TeamID, f.TeamID, f.Before, f.Before, f.Limit)
}

// PruneAudit deletes the events recorded before before.
func (s *Store) PruneAudit(ctx context.Context, before time.Time) (int64, error) {
	return rowsAffected(s.db.ExecContext(ctx, `DELETE FROM audit_events WHERE at < ?`, before.UTC()))
}

// SetTeamPlan puts a team on a plan.
func (s *Store) SetTeamPlan(ctx context.Context, id, plan string) error {
	err := oneRow(s.db.ExecContext(ctx, `UPDATE teams SET plan = ? WHERE id = ?`, plan, id))
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("team %s: %w", id, store.ErrNotFound)
	}
	return err
}
