package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/ferryhq/terraform-provider-ferry/internal/version"
)

// SchemaVersion is the newest schema this build knows: the number of its
// migrations. A store at an older schema is migrated forward when opened; a
// store at a newer one is refused.
func SchemaVersion() int { return len(migrations) }

// NewerSchemaError is a store written by a newer ferry than this one.
type NewerSchemaError struct {
	Found int // the store's schema
	Known int // the newest this build knows
}

func (e *NewerSchemaError) Error() string {
	return fmt.Sprintf("the store is at schema version %d, but this ferry (version %s) knows schema versions up to %d: a newer ferry wrote it, "+
		"and migrations only go forward. Run ferry of that newer version or later (a provider or `ferry upgrade` of it starts its engine), "+
		"or restore a backup made before the upgrade into a new data dir (`ferry restore`)", e.Found, version.String(), e.Known)
}

// SchemaVersion returns the schema the open store is at. An engine that
// handed its store over reads it before it resumes: a store migrated
// meanwhile is no longer one it may write.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var applied int
	err := s.db.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&applied)
	return applied, err
}

// SchemaOf returns the schema of the database at path without opening it as
// a store (which would migrate it); 0 for an empty or new one.
func SchemaOf(ctx context.Context, path string) (int, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		return 0, err
	}
	defer func() { _ = db.Close() }() // only read
	var applied int
	if err := db.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&applied); err != nil {
		return 0, fmt.Errorf("read the schema version of %s: %w", path, err)
	}
	return applied, nil
}
