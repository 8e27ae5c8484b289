package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
)

// SetPreviewProtection protects a project's previews with p.
func (s *Store) SetPreviewProtection(ctx context.Context, p *store.PreviewProtection) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO preview_protection (project_id, sealed_password, password_digest, sealed_bypass, bypass_digest, updated_at)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (project_id) DO UPDATE SET sealed_password = excluded.sealed_password, password_digest = excluded.password_digest,
			sealed_bypass = excluded.sealed_bypass, bypass_digest = excluded.bypass_digest, updated_at = excluded.updated_at`,
		p.ProjectID, p.SealedPassword, p.PasswordDigest, p.SealedBypass, p.BypassDigest, p.UpdatedAt.UTC())
	if err != nil && strings.Contains(err.Error(), "FOREIGN KEY constraint failed") {
		return store.ErrNotFound
	}
	return err
}

// GetPreviewProtection returns a project's protection.
func (s *Store) GetPreviewProtection(ctx context.Context, projectID string) (*store.PreviewProtection, error) {
	p := &store.PreviewProtection{ProjectID: projectID}
	err := s.db.QueryRowContext(ctx, `SELECT sealed_password, password_digest, sealed_bypass, bypass_digest, updated_at FROM preview_protection WHERE project_id = ?`,
		projectID).Scan(&p.SealedPassword, &p.PasswordDigest, &p.SealedBypass, &p.BypassDigest, &p.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	p.UpdatedAt = p.UpdatedAt.UTC()
	return p, err
}

// DeletePreviewProtection removes a project's protection.
func (s *Store) DeletePreviewProtection(ctx context.Context, projectID string) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM preview_protection WHERE project_id = ?`, projectID)
	return err
}
