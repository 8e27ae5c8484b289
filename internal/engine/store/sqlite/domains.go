package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
)

const domainColumns = `name, project_id, git_branch, COALESCE(redirect, ''), redirect_status, token, verified_at, checked_at, verification,
	tls_status, tls_issuer, tls_not_after, tls_error, created_at`

func scanDomain(row interface{ Scan(...any) error }) (*store.Domain, error) {
	var d store.Domain
	var verifiedAt, checkedAt, notAfter sql.NullTime
	err := row.Scan(&d.Name, &d.ProjectID, &d.GitBranch, &d.Redirect, &d.RedirectStatus, &d.Token, &verifiedAt, &checkedAt, &d.Verification,
		&d.Certificate.Status, &d.Certificate.Issuer, &notAfter, &d.Certificate.Error, &d.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	d.VerifiedAt = timePointer(verifiedAt)
	d.CheckedAt = timePointer(checkedAt)
	d.Certificate.NotAfter = timePointer(notAfter)
	return &d, nil
}

func timePointer(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	return &t.Time
}

// checkRedirectTarget returns store.ErrNotFound unless d redirects nowhere
// or to a domain of its own project.
func checkRedirectTarget(ctx context.Context, tx *sql.Tx, d *store.Domain) error {
	if d.Redirect == "" {
		return nil
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM domains WHERE name = ? AND project_id = ?`, d.Redirect, d.ProjectID).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// CreateDomain implements store.Domains. The new hostname serves what the
// project's own production host serves, pinned or not alike.
func (s *Store) CreateDomain(ctx context.Context, d *store.Domain) error {
	d.CreatedAt = now()
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if err := checkRedirectTarget(ctx, tx, d); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO hostnames (hostname, project_id, kind, git_branch, custom)
			SELECT ?, id, CASE WHEN ? = '' THEN 'production' ELSE 'branch' END, ?, 1 FROM projects WHERE id = ?`,
			d.Name, d.GitBranch, d.GitBranch, d.ProjectID)
		if err := affectedOr(res, hostnameTaken(err), store.ErrNotFound); err != nil {
			return err
		}
		if err := followDomainTarget(ctx, tx, d); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO domains (name, project_id, git_branch, redirect, redirect_status, token, created_at)
			VALUES (?, ?, ?, NULLIF(?, ''), ?, ?, ?)`, d.Name, d.ProjectID, d.GitBranch, d.Redirect, d.RedirectStatus, d.Token, d.CreatedAt)
		return err
	})
}

// GetDomain implements store.Domains.
func (s *Store) GetDomain(ctx context.Context, name string) (*store.Domain, error) {
	return scanDomain(s.db.QueryRowContext(ctx, `SELECT `+domainColumns+` FROM domains WHERE name = ?`, name))
}

// ListDomains implements store.Domains.
func (s *Store) ListDomains(ctx context.Context, projectID string) ([]*store.Domain, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+domainColumns+` FROM domains WHERE ? = '' OR project_id = ? ORDER BY name`, projectID, projectID)
	if err != nil {
		return nil, err
	}
	defer func() { _ = rows.Close() }() // rows.Err() reports a failed read
	var out []*store.Domain
	for rows.Next() {
		d, err := scanDomain(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// UpdateDomain implements store.Domains.
func (s *Store) UpdateDomain(ctx context.Context, d *store.Domain) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if err := checkRedirectTarget(ctx, tx, d); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE domains SET git_branch = ?, redirect = NULLIF(?, ''), redirect_status = ? WHERE name = ? AND project_id = ?`,
			d.GitBranch, d.Redirect, d.RedirectStatus, d.Name, d.ProjectID)
		if err := affectedOr(res, err, store.ErrNotFound); err != nil {
			return err
		}
		var branch string
		if err := tx.QueryRowContext(ctx, `SELECT git_branch FROM hostnames WHERE hostname = ?`, d.Name).Scan(&branch); err != nil {
			return err
		}
		if branch == d.GitBranch {
			return nil
		}
		_, err = tx.ExecContext(ctx, `UPDATE hostnames SET kind = CASE WHEN ? = '' THEN 'production' ELSE 'branch' END, git_branch = ?, pinned = 0
			WHERE hostname = ?`, d.GitBranch, d.GitBranch, d.Name)
		if err != nil {
			return err
		}
		return followDomainTarget(ctx, tx, d)
	})
}

// followDomainTarget points a domain's hostname at what it follows: the project's own production
// host's deployment (pinned with it), or the newest READY deployment of its git branch.
func followDomainTarget(ctx context.Context, tx *sql.Tx, d *store.Domain) error {
	if d.GitBranch == "" {
		_, err := tx.ExecContext(ctx, `UPDATE hostnames SET
				deployment_id = (SELECT deployment_id FROM hostnames own WHERE own.project_id = ? AND own.kind = 'production' AND own.custom = 0 LIMIT 1),
				pinned = COALESCE((SELECT pinned FROM hostnames own WHERE own.project_id = ? AND own.kind = 'production' AND own.custom = 0 LIMIT 1), 0)
			WHERE hostname = ?`, d.ProjectID, d.ProjectID, d.Name)
		return err
	}
	_, err := tx.ExecContext(ctx, `UPDATE hostnames SET deployment_id = (
			SELECT id FROM deployments WHERE project_id = ? AND git_branch = ? AND state = 'READY' ORDER BY created_at DESC LIMIT 1)
		WHERE hostname = ?`, d.ProjectID, d.GitBranch, d.Name)
	return err
}

// DeleteDomain implements store.Domains.
func (s *Store) DeleteDomain(ctx context.Context, projectID, name string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT name FROM domains WHERE redirect = ? ORDER BY name`, name)
		if err != nil {
			return err
		}
		var from []string
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				_ = rows.Close() // the scan error is the one to report
				return err
			}
			from = append(from, n)
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return err
		}
		if len(from) > 0 {
			return &store.RedirectedError{Domain: name, From: from}
		}
		// The domains row goes with its hostname.
		res, err := tx.ExecContext(ctx, `DELETE FROM hostnames WHERE hostname = ? AND project_id = ? AND custom = 1`, name, projectID)
		return affectedOr(res, err, store.ErrNotFound)
	})
}

// RecordVerification implements store.Domains.
func (s *Store) RecordVerification(ctx context.Context, name string, checkedAt time.Time, problem string) error {
	res, err := s.db.ExecContext(ctx, `UPDATE domains SET checked_at = ?, verification = ?,
		verified_at = CASE WHEN verified_at IS NULL AND ? = '' THEN ? ELSE verified_at END WHERE name = ?`,
		checkedAt.UTC(), problem, problem, checkedAt.UTC(), name)
	return affectedOr(res, err, store.ErrNotFound)
}

// RecordCertificate implements store.Domains.
func (s *Store) RecordCertificate(ctx context.Context, name string, c store.Certificate) error {
	var notAfter *time.Time
	if c.NotAfter != nil {
		t := c.NotAfter.UTC()
		notAfter = &t
	}
	_, err := s.db.ExecContext(ctx, `UPDATE domains SET tls_status = ?, tls_issuer = ?, tls_not_after = ?, tls_error = ? WHERE name = ?`,
		c.Status, c.Issuer, notAfter, c.Error, name)
	return err
}
