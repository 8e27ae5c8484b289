package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
)

const projectColumns = `id, name, framework, root_directory, install_command, build_command, git_repository_url, production_branch, retention, created_at, updated_at, team_id`

func scanProject(row pgx.Row) (*store.Project, error) {
	var p store.Project
	var retention []byte
	err := row.Scan(&p.ID, &p.Name, &p.Framework, &p.RootDirectory, &p.InstallCommand, &p.BuildCommand, &p.GitRepositoryURL, &p.ProductionBranch,
		&retention, &p.CreatedAt, &p.UpdatedAt, &p.TeamID)
	if err != nil {
		return nil, noRows(err)
	}
	if err := json.Unmarshal(retention, &p.Retention); err != nil {
		return nil, fmt.Errorf("project %s: read its retention: %w", p.ID, err)
	}
	return &p, nil
}

// CreateProject inserts p and claims its production hostname.
func (s *Store) CreateProject(ctx context.Context, p *store.Project, productionHost string) error {
	p.CreatedAt = now()
	p.UpdatedAt = p.CreatedAt
	retention, err := json.Marshal(p.Retention)
	if err != nil {
		return err
	}
	if p.TeamID == "" {
		p.TeamID = store.DefaultTeamID
	}
	return s.routesTx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO projects (`+projectColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
			p.ID, p.Name, p.Framework, p.RootDirectory, p.InstallCommand, p.BuildCommand, p.GitRepositoryURL, p.ProductionBranch, retention, p.CreatedAt, p.UpdatedAt, p.TeamID)
		if isUniqueViolation(err) {
			return store.ErrConflict
		}
		if err := teamMissing(err, p.TeamID); err != nil {
			return err
		}
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO hostnames (hostname, project_id, kind) VALUES ($1, $2, 'production')`, productionHost, p.ID)
		return hostnameTaken(err)
	})
}

// GetProject finds a project by id or by name.
func (s *Store) GetProject(ctx context.Context, idOrName string) (*store.Project, error) {
	return scanProject(s.pool.QueryRow(ctx, `SELECT `+projectColumns+` FROM projects WHERE id = $1 OR name = $1`, idOrName))
}

// ListProjects returns every project, by name.
func (s *Store) ListProjects(ctx context.Context) ([]*store.Project, error) {
	return listRows(ctx, s.pool, scanProject, `SELECT `+projectColumns+` FROM projects ORDER BY name`)
}

// UpdateProject replaces a project's settings and moves its production
// hostname to productionHost and its branch hostnames to branchHost(branch),
// in one transaction.
func (s *Store) UpdateProject(ctx context.Context, p *store.Project, productionHost string, branchHost func(branch string) string) error {
	p.UpdatedAt = now()
	retention, err := json.Marshal(p.Retention)
	if err != nil {
		return err
	}
	if p.TeamID == "" {
		p.TeamID = store.DefaultTeamID
	}
	return s.routesTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE projects SET name = $1, framework = $2, root_directory = $3, install_command = $4, build_command = $5,
			git_repository_url = $6, production_branch = $7, retention = $8, updated_at = $9, team_id = $11 WHERE id = $10`,
			p.Name, p.Framework, p.RootDirectory, p.InstallCommand, p.BuildCommand, p.GitRepositoryURL, p.ProductionBranch, retention, p.UpdatedAt, p.ID, p.TeamID)
		if isUniqueViolation(err) {
			return store.ErrConflict
		}
		if err := teamMissing(err, p.TeamID); err != nil {
			return err
		}
		if err := oneRow(tag, err); err != nil {
			return err
		}
		branches, err := queryStrings(ctx, tx, `SELECT git_branch FROM hostnames WHERE project_id = $1 AND kind = 'branch' AND NOT custom`, p.ID)
		if err != nil {
			return err
		}
		for _, b := range branches {
			_, err := tx.Exec(ctx, `UPDATE hostnames SET hostname = $1 WHERE project_id = $2 AND kind = 'branch' AND NOT custom AND git_branch = $3`, branchHost(b), p.ID, b)
			if err != nil {
				return hostnameTaken(err)
			}
		}
		tag, err = tx.Exec(ctx, `UPDATE hostnames SET hostname = $1 WHERE project_id = $2 AND `+ownProductionHost, productionHost, p.ID)
		if err != nil {
			return hostnameTaken(err)
		}
		if tag.RowsAffected() > 0 {
			return nil
		}
		_, err = tx.Exec(ctx, `INSERT INTO hostnames (hostname, project_id, kind) VALUES ($1, $2, 'production')`, productionHost, p.ID)
		return hostnameTaken(err)
	})
}

// DeleteProject deletes a project with its env vars, deployments and
// hostnames, and returns the ids of the deployments deleted, listed in the
// same transaction.
func (s *Store) DeleteProject(ctx context.Context, id string) ([]string, error) {
	var deleted []string
	err := s.routesTx(ctx, func(tx pgx.Tx) error {
		var err error
		// FOR UPDATE: a deployment inserted meanwhile waits, then finds its project gone.
		if _, err = tx.Exec(ctx, `SELECT 1 FROM projects WHERE id = $1 FOR UPDATE`, id); err != nil {
			return err
		}
		if deleted, err = queryStrings(ctx, tx, `SELECT id FROM deployments WHERE project_id = $1
			UNION SELECT build_of FROM deployments WHERE project_id = $1 AND build_of <> ''`, id); err != nil {
			return err
		}
		return oneRow(tx.Exec(ctx, `DELETE FROM projects WHERE id = $1`, id))
	})
	if err != nil {
		return nil, err
	}
	return deleted, nil
}

// ProjectLimits returns the limits set on a project; nil when none are.
func (s *Store) ProjectLimits(ctx context.Context, projectID string) (*api.Limits, error) {
	var raw []byte
	err := s.pool.QueryRow(ctx, `SELECT limits FROM project_limits WHERE project_id = $1`, projectID).Scan(&raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var l api.Limits
	if err := json.Unmarshal(raw, &l); err != nil {
		return nil, fmt.Errorf("project %s limits: %w", projectID, err)
	}
	return &l, nil
}

// SetProjectLimits sets (or, with nil, clears) a project's limits.
func (s *Store) SetProjectLimits(ctx context.Context, projectID string, l *api.Limits) error {
	if l == nil {
		_, err := s.pool.Exec(ctx, `DELETE FROM project_limits WHERE project_id = $1`, projectID)
		return err
	}
	raw, err := json.Marshal(l)
	if err != nil {
		return err
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO project_limits (project_id, limits) VALUES ($1, $2)
		ON CONFLICT (project_id) DO UPDATE SET limits = excluded.limits`, projectID, raw)
	return err
}

// ProjectUID returns the uid a project's builds and instances run as, allocating the next one
// of [first, last] on first use. Uids are handed out in order and never reused.
func (s *Store) ProjectUID(ctx context.Context, projectID string, first, last int) (int, error) {
	var uid int
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		// Nodes allocating at once would read the same highest uid: they take turns.
		if _, err := tx.Exec(ctx, `LOCK TABLE project_sandboxes IN SHARE ROW EXCLUSIVE MODE`); err != nil {
			return err
		}
		err := tx.QueryRow(ctx, `SELECT uid FROM project_sandboxes WHERE project_id = $1`, projectID).Scan(&uid)
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		var highest *int
		if err := tx.QueryRow(ctx, `SELECT MAX(uid) FROM project_sandboxes WHERE uid BETWEEN $1 AND $2`, first, last).Scan(&highest); err != nil {
			return err
		}
		uid = first
		if highest != nil {
			uid = *highest + 1
		}
		if uid > last {
			return fmt.Errorf("%w (%d-%d): give the engine a wider range", store.ErrUIDsExhausted, first, last)
		}
		_, err = tx.Exec(ctx, `INSERT INTO project_sandboxes (project_id, uid) VALUES ($1, $2)`, projectID, uid)
		return err
	})
	return uid, err
}
