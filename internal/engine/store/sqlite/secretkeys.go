package sqlite

import (
	"context"
	"database/sql"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
)

// ListSecretKeys returns the wrapped data keys, oldest first.
func (s *Store) ListSecretKeys(ctx context.Context) ([]store.SecretKey, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT fingerprint, wrapped_data_key, created_at FROM secret_keys ORDER BY created_at, fingerprint`)
	if err != nil {
		return nil, err
	}
	defer func() { _ = rows.Close() }() // read to the end, or the error is reported
	var keys []store.SecretKey
	for rows.Next() {
		var k store.SecretKey
		if err := rows.Scan(&k.Fingerprint, &k.WrappedDataKey, &k.CreatedAt); err != nil {
			return nil, err
		}
		k.CreatedAt = k.CreatedAt.UTC()
		keys = append(keys, k)
	}
	return keys, rows.Err()
}

// AddSecretKey stores k; with first, only while no key is stored.
func (s *Store) AddSecretKey(ctx context.Context, k store.SecretKey, first bool) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if first {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM secret_keys`).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return store.ErrConflict
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO secret_keys (fingerprint, wrapped_data_key, created_at) VALUES (?, ?, ?)`,
			k.Fingerprint, k.WrappedDataKey, k.CreatedAt.UTC())
		if isUniqueViolation(err) {
			return store.ErrConflict
		}
		return err
	})
}

// RetireSecretKey deletes the wrap of fingerprint, unless it is the last one.
func (s *Store) RetireSecretKey(ctx context.Context, fingerprint string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		var n, found int
		if err := tx.QueryRowContext(ctx, `SELECT count(*), count(*) FILTER (WHERE fingerprint = ?) FROM secret_keys`, fingerprint).Scan(&n, &found); err != nil {
			return err
		}
		switch {
		case found == 0:
			return store.ErrNotFound
		case n == 1:
			return store.ErrLastKey
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM secret_keys WHERE fingerprint = ?`, fingerprint)
		return err
	})
}

// ReplaceSecretKeys deletes every wrapped data key and stores k.
func (s *Store) ReplaceSecretKeys(ctx context.Context, k store.SecretKey) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM secret_keys`); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO secret_keys (fingerprint, wrapped_data_key, created_at) VALUES (?, ?, ?)`,
			k.Fingerprint, k.WrappedDataKey, k.CreatedAt.UTC())
		return err
	})
}
