package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
)

// SetPreviewProtection protects a project's previews with p.
func (s *Store) SetPreviewProtection(ctx context.Context, p *store.PreviewProtection) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO preview_protection (project_id, sealed_password, password_digest, sealed_bypass, bypass_digest, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (project_id) DO UPDATE SET sealed_password = excluded.sealed_password, password_digest = excluded.password_digest,
			sealed_bypass = excluded.sealed_bypass, bypass_digest = excluded.bypass_digest, updated_at = excluded.updated_at`,
		p.ProjectID, p.SealedPassword, p.PasswordDigest, p.SealedBypass, p.BypassDigest, p.UpdatedAt.UTC())
	if code, _ := pgCode(err); code == foreignKeyViolation {
		return store.ErrNotFound
	}
	return err
}

// GetPreviewProtection returns a project's protection.
func (s *Store) GetPreviewProtection(ctx context.Context, projectID string) (*store.PreviewProtection, error) {
	p := &store.PreviewProtection{ProjectID: projectID}
	err := s.pool.QueryRow(ctx, `SELECT sealed_password, password_digest, sealed_bypass, bypass_digest, updated_at FROM preview_protection WHERE project_id = $1`,
		projectID).Scan(&p.SealedPassword, &p.PasswordDigest, &p.SealedBypass, &p.BypassDigest, &p.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	p.UpdatedAt = p.UpdatedAt.UTC()
	return p, err
}

// DeletePreviewProtection removes a project's protection.
func (s *Store) DeletePreviewProtection(ctx context.Context, projectID string) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM preview_protection WHERE project_id = $1`, projectID)
	return err
}
