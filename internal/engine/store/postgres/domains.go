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
		tag, err := tx.Exec(ctx, `INSERT INTO hostnames (hostname, project_id, kind, deployment_id, pinned)
			SELECT $1, id, 'production',
				(SELECT deployment_id FROM hostnames WHERE project_id = projects.id AND `+ownProductionHost+` LIMIT 1),
				COALESCE((SELECT pinned FROM hostnames WHERE project_id = projects.id AND `+ownProductionHost+` LIMIT 1), false)
			FROM projects WHERE id = $2`, d.Name, d.ProjectID)
		if err := affectedOr(tag, hostnameTaken(err), store.ErrNotFound); err != nil {
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
		return affectedOr(tag, err, store.ErrNotFound)
	})
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
		tag, err := tx.Exec(ctx, `DELETE FROM hostnames WHERE hostname = $1 AND project_id = $2 AND hostname IN (SELECT name FROM domains)`, name, projectID)
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
