package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"
)

// Project is a stored project.
type Project struct {
	ID             string
	Name           string
	Framework      string
	RootDirectory  string
	InstallCommand *string
	BuildCommand   *string
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

const projectColumns = `id, name, framework, root_directory, install_command, build_command, created_at, updated_at`

func scanProject(row interface{ Scan(...any) error }) (*Project, error) {
	var p Project
	var install, build sql.NullString
	err := row.Scan(&p.ID, &p.Name, &p.Framework, &p.RootDirectory, &install, &build, &p.CreatedAt, &p.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
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

// CreateProject inserts p and its production alias hostname.
func (s *Store) CreateProject(ctx context.Context, p *Project, productionHost string) error {
	p.CreatedAt = now()
	p.UpdatedAt = p.CreatedAt
	return s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO projects (`+projectColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			p.ID, p.Name, p.Framework, p.RootDirectory, p.InstallCommand, p.BuildCommand, p.CreatedAt, p.UpdatedAt)
		if isUniqueViolation(err) {
			return ErrConflict
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO aliases (hostname, project_id, deployment_id, production) VALUES (?, ?, NULL, 1)`,
			productionHost, p.ID)
		if isUniqueViolation(err) {
			return ErrConflict
		}
		return err
	})
}

// GetProject finds a project by id or by name.
func (s *Store) GetProject(ctx context.Context, idOrName string) (*Project, error) {
	return scanProject(s.db.QueryRowContext(ctx,
		`SELECT `+projectColumns+` FROM projects WHERE id = ? OR name = ?`, idOrName, idOrName))
}

// ListProjects returns every project, by name.
func (s *Store) ListProjects(ctx context.Context) ([]*Project, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+projectColumns+` FROM projects ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Project
	for rows.Next() {
		p, err := scanProject(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// UpdateProject replaces a project's settings. A rename moves its
// production alias to newProductionHost.
func (s *Store) UpdateProject(ctx context.Context, p *Project, oldProductionHost, newProductionHost string) error {
	p.UpdatedAt = now()
	return s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE projects SET name = ?, framework = ?, root_directory = ?, install_command = ?, build_command = ?, updated_at = ? WHERE id = ?`,
			p.Name, p.Framework, p.RootDirectory, p.InstallCommand, p.BuildCommand, p.UpdatedAt, p.ID)
		if isUniqueViolation(err) {
			return ErrConflict
		}
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		if oldProductionHost != newProductionHost {
			_, err = tx.ExecContext(ctx, `UPDATE aliases SET hostname = ? WHERE hostname = ? AND project_id = ?`,
				newProductionHost, oldProductionHost, p.ID)
			if isUniqueViolation(err) {
				return ErrConflict
			}
		}
		return err
	})
}

// DeleteProject deletes a project; its env vars, deployments and aliases go with it.
func (s *Store) DeleteProject(ctx context.Context, id string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM projects WHERE id = ?`, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}
