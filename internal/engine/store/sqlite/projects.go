package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
)

const projectColumns = `id, name, framework, root_directory, install_command, build_command, git_repository_url, production_branch, retention, created_at, updated_at, team_id`

func scanProject(row interface{ Scan(...any) error }) (*store.Project, error) {
	var p store.Project
	var install, build sql.NullString
	var retention []byte
	err := row.Scan(&p.ID, &p.Name, &p.Framework, &p.RootDirectory, &install, &build, &p.GitRepositoryURL, &p.ProductionBranch, &retention, &p.CreatedAt, &p.UpdatedAt, &p.TeamID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(retention, &p.Retention); err != nil {
		return nil, fmt.Errorf("project %s: read its retention: %w", p.ID, err)
	}
	if install.Valid {
		p.InstallCommand = &install.String
	}
	if build.Valid {
		p.BuildCommand = &build.String
	}
	return &p, nil
}

func isUniqueViolation(err error) bool {
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
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
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if err := teamExists(ctx, tx, p.TeamID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO projects (`+projectColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			p.ID, p.Name, p.Framework, p.RootDirectory, p.InstallCommand, p.BuildCommand, p.GitRepositoryURL, p.ProductionBranch, retention, p.CreatedAt, p.UpdatedAt, p.TeamID)
		if isUniqueViolation(err) {
			return store.ErrConflict
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO hostnames (hostname, project_id, kind, deployment_id) VALUES (?, ?, 'production', NULL)`,
			productionHost, p.ID)
		return hostnameTaken(err)
	})
}

// GetProject finds a project by id or by name.
func (s *Store) GetProject(ctx context.Context, idOrName string) (*store.Project, error) {
	return scanProject(s.db.QueryRowContext(ctx,
		`SELECT `+projectColumns+` FROM projects WHERE id = ? OR name = ?`, idOrName, idOrName))
}

// ListProjects returns every project, by name.
func (s *Store) ListProjects(ctx context.Context) ([]*store.Project, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+projectColumns+` FROM projects ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer func() { _ = rows.Close() }() // rows.Err() reports a failed read
	var out []*store.Project
	for rows.Next() {
		p, err := scanProject(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// UpdateProject replaces a project's settings and moves its production
// alias to productionHost and its branch hostnames to branchHost(branch), in
// one transaction: concurrent renames leave the name and the aliases of the
// same one.
func (s *Store) UpdateProject(ctx context.Context, p *store.Project, productionHost string, branchHost func(branch string) string) error {
	p.UpdatedAt = now()
	retention, err := json.Marshal(p.Retention)
	if err != nil {
		return err
	}
	if p.TeamID == "" {
		p.TeamID = store.DefaultTeamID
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if err := teamExists(ctx, tx, p.TeamID); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE projects SET name = ?, framework = ?, root_directory = ?, install_command = ?, build_command = ?,
			git_repository_url = ?, production_branch = ?, retention = ?, updated_at = ?, team_id = ? WHERE id = ?`,
			p.Name, p.Framework, p.RootDirectory, p.InstallCommand, p.BuildCommand, p.GitRepositoryURL, p.ProductionBranch, retention, p.UpdatedAt, p.TeamID, p.ID)
		if isUniqueViolation(err) {
			return store.ErrConflict
		}
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.ErrNotFound
		}
		if err := renameBranchHosts(ctx, tx, p.ID, branchHost); err != nil {
			return err
		}
		res, err = tx.ExecContext(ctx, `UPDATE hostnames SET hostname = ? WHERE project_id = ? AND `+ownProductionHost, productionHost, p.ID)
		if err != nil {
			return hostnameTaken(err)
		}
		if n, _ := res.RowsAffected(); n > 0 {
			return nil
		}
		// A project whose alias lost a collision in the migration to one namespace gets it back.
		_, err = tx.ExecContext(ctx, `INSERT INTO hostnames (hostname, project_id, kind, deployment_id) VALUES (?, ?, 'production', NULL)`, productionHost, p.ID)
		return hostnameTaken(err)
	})
}

// DeleteProject deletes a project; its env vars, deployments and hostnames
// go with it. It returns the ids of the deployments deleted, listed in the
// same transaction.
func (s *Store) DeleteProject(ctx context.Context, id string) ([]string, error) {
	var deleted []string
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		if deleted, err = queryStrings(ctx, tx, `SELECT id FROM deployments WHERE project_id = ?
			UNION SELECT build_of FROM deployments WHERE project_id = ? AND build_of <> ''`, id, id); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM projects WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.ErrNotFound
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return deleted, nil
}

// renameBranchHosts gives each branch hostname of a project the name branchHost says.
func renameBranchHosts(ctx context.Context, tx *sql.Tx, projectID string, branchHost func(string) string) error {
	branches, err := queryStrings(ctx, tx, `SELECT git_branch FROM hostnames WHERE project_id = ? AND kind = 'branch' AND custom = 0`, projectID)
	if err != nil {
		return err
	}
	for _, b := range branches {
		_, err := tx.ExecContext(ctx, `UPDATE hostnames SET hostname = ? WHERE project_id = ? AND kind = 'branch' AND custom = 0 AND git_branch = ?`, branchHost(b), projectID, b)
		if err != nil {
			return hostnameTaken(err)
		}
	}
	return nil
}

// queryStrings returns the one column of text that query selects.
func queryStrings(ctx context.Context, q queryer, query string, args ...any) ([]string, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			_ = rows.Close() // the scan error is the one to report
			return nil, err
		}
		out = append(out, v)
	}
	return out, errors.Join(rows.Err(), rows.Close())
}
