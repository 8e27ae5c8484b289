package sqlite

import (
	"context"
	"database/sql"
	"errors"
)

// SealedSample returns one value sealed with the engine's key (an env var's
// value, an integration's secrets or a deployment's frozen env), or nil when
// the store holds none:
// enough to tell whether a key file belongs to this store.
func (s *Store) SealedSample(ctx context.Context) ([]byte, error) {
	var sealed []byte
	err := s.db.QueryRowContext(ctx, `SELECT sealed FROM (
		SELECT sealed_value AS sealed FROM env_vars
		UNION ALL SELECT sealed_secrets FROM integrations
		UNION ALL SELECT sealed_env FROM deployments
		UNION ALL SELECT sealed_password FROM preview_protection
	) LIMIT 1`).Scan(&sealed)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return sealed, err
}

// ForgetUnkeyedDigests blanks stored value digests that do not start with
// keyedPrefix: they were written as a plain sha256 of the value, which would
// let a copy of the database be used to guess values offline.
func (s *Store) ForgetUnkeyedDigests(ctx context.Context, keyedPrefix string) error {
	_, err := s.db.ExecContext(ctx, `UPDATE env_vars SET value_digest = '' WHERE substr(value_digest, 1, ?) != ?`, len(keyedPrefix), keyedPrefix)
	return err
}
