package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
)

const domainColumns = `name, project_id, git_branch, COALESCE(redirect, ''), redirect_status, token, verified_at, checked_at, verification,
	tls_status, tls_issuer, tls_not_after, tls_error, created_at`

func scanDomain(row pgx.Row) (*store.Domain, error) {
	var d store.Domain
	err := row.Scan(&d.Name, &d.ProjectID, &d.GitBranch, &d.Redirect, &d.RedirectStatus, &d.Token, &d.VerifiedAt, &d.CheckedAt, &d.Verification,
		&d.Certificate.Status, &d.Certificate.Issuer, &d.Certificate.NotAfter, &d.Certificate.Error, &d.CreatedAt)
	if err != nil {
		return nil, noRows(err)
	}
	return &d, nil
}

// checkRedirectTarget returns store.ErrNotFound unless d redirects nowhere
// or to a domain of its own project.
func checkRedirectTarget(ctx context.Context, tx pgx.Tx, d *store.Domain) error {
	if d.Redirect == "" {
		return nil
	}
	var found bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM domains WHERE name = $1 AND project_id = $2)`, d.Redirect, d.ProjectID).Scan(&found); err != nil {
		return err
	}
	if !found {
		return store.ErrNotFound
	}
	return nil
}

// CreateDomain implements store.Domains. The new hostname serves what the
// project's own production host serves, pinned or not alike.
func (s *Store) CreateDomain(ctx context.Context, d *store.Domain) error {
	d.CreatedAt = now()
	return s.routesTx(ctx, func(tx pgx.Tx) error {
		if err := checkRedirectTarget(ctx, tx, d); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `INSERT INTO hostnames (hostname, project_id, kind, git_branch, custom)
			SELECT $1, id, CASE WHEN $2 = '' THEN 'production' ELSE 'branch' END, $2, true FROM projects WHERE id = $3`,
			d.Name, d.GitBranch, d.ProjectID)
		if err := affectedOr(tag, hostnameTaken(err), store.ErrNotFound); err != nil {
			return err
		}
		if err := followDomainTarget(ctx, tx, d); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO domains (name, project_id, git_branch, redirect, redirect_status, token, created_at)
			VALUES ($1, $2, $3, NULLIF($4, ''), $5, $6, $7)`, d.Name, d.ProjectID, d.GitBranch, d.Redirect, d.RedirectStatus, d.Token, d.CreatedAt)
		return err
	})
}

// GetDomain implements store.Domains.
func (s *Store) GetDomain(ctx context.Context, name string) (*store.Domain, error) {
	return scanDomain(s.pool.QueryRow(ctx, `SELECT `+domainColumns+` FROM domains WHERE name = $1`, name))
}

// ListDomains implements store.Domains.
func (s *Store) ListDomains(ctx context.Context, projectID string) ([]*store.Domain, error) {
	return listRows(ctx, s.pool, scanDomain, `SELECT `+domainColumns+` FROM domains WHERE $1 = '' OR project_id = $1 ORDER BY name`, projectID)
}

// UpdateDomain implements store.Domains.
func (s *Store) UpdateDomain(ctx context.Context, d *store.Domain) error {
	return s.routesTx(ctx, func(tx pgx.Tx) error {
		if err := checkRedirectTarget(ctx, tx, d); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE domains SET git_branch = $1, redirect = NULLIF($2, ''), redirect_status = $3 WHERE name = $4 AND project_id = $5`,
			d.GitBranch, d.Redirect, d.RedirectStatus, d.Name, d.ProjectID)
		if err := affectedOr(tag, err, store.ErrNotFound); err != nil {
			return err
		}
		var branch string
		if err := tx.QueryRow(ctx, `SELECT git_branch FROM hostnames WHERE hostname = $1`, d.Name).Scan(&branch); err != nil {
			return err
		}
		if branch == d.GitBranch {
			return nil
		}
		_, err = tx.Exec(ctx, `UPDATE hostnames SET kind = CASE WHEN $1 = '' THEN 'production' ELSE 'branch' END, git_branch = $1, pinned = false
			WHERE hostname = $2`, d.GitBranch, d.Name)
		if err != nil {
			return err
		}
		return followDomainTarget(ctx, tx, d)
	})
}

// followDomainTarget points a domain's hostname at what it follows: the project's own production
// host's deployment (pinned with it), or the newest READY deployment of its git branch.
func followDomainTarget(ctx context.Context, tx pgx.Tx, d *store.Domain) error {
	if d.GitBranch == "" {
		_, err := tx.Exec(ctx, `UPDATE hostnames SET
				deployment_id = (SELECT deployment_id FROM hostnames own WHERE own.project_id = $1 AND own.kind = 'production' AND NOT own.custom LIMIT 1),
				pinned = COALESCE((SELECT pinned FROM hostnames own WHERE own.project_id = $1 AND own.kind = 'production' AND NOT own.custom LIMIT 1), false)
			WHERE hostname = $2`, d.ProjectID, d.Name)
		return err
	}
	_, err := tx.Exec(ctx, `UPDATE hostnames SET deployment_id = (
			SELECT id FROM deployments WHERE project_id = $1 AND git_branch = $2 AND state = 'READY' ORDER BY created_at DESC LIMIT 1)
		WHERE hostname = $3`, d.ProjectID, d.GitBranch, d.Name)
	return err
}

// DeleteDomain implements store.Domains.
func (s *Store) DeleteDomain(ctx context.Context, projectID, name string) error {
	return s.routesTx(ctx, func(tx pgx.Tx) error {
		from, err := queryStrings(ctx, tx, `SELECT name FROM domains WHERE redirect = $1 ORDER BY name`, name)
		if err != nil {
			return err
		}
		if len(from) > 0 {
			return &store.RedirectedError{Domain: name, From: from}
		}
		// The domains row goes with its hostname.
		tag, err := tx.Exec(ctx, `DELETE FROM hostnames WHERE hostname = $1 AND project_id = $2 AND custom`, name, projectID)
		return affectedOr(tag, err, store.ErrNotFound)
	})
}

// RecordVerification implements store.Domains.
func (s *Store) RecordVerification(ctx context.Context, name string, checkedAt time.Time, problem string) error {
	// Verifying a domain changes what is served: the routes lock comes first.
	return s.routesTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE domains SET checked_at = $1, verification = $2,
			verified_at = CASE WHEN verified_at IS NULL AND $2 = '' THEN $1 ELSE verified_at END WHERE name = $3`,
			checkedAt.UTC(), problem, name)
		return affectedOr(tag, err, store.ErrNotFound)
	})
}

// RecordCertificate implements store.Domains.
func (s *Store) RecordCertificate(ctx context.Context, name string, c store.Certificate) error {
	_, err := s.pool.Exec(ctx, `UPDATE domains SET tls_status = $1, tls_issuer = $2, tls_not_after = $3, tls_error = $4 WHERE name = $5`,
		c.Status, c.Issuer, c.NotAfter, c.Error, name)
	return err
}
