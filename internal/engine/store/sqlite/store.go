// Package sqlite is the engine's store in an embedded SQLite database, the
// default of a single engine: one file in the data dir, no server to run.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
)

// Store is a store.Store in one SQLite database.
type Store struct {
	db *sql.DB
}

var _ store.Store = (*Store)(nil)

// Open opens (creating if needed) the database at path and migrates it.
func Open(ctx context.Context, path string) (*Store, error) {
	dsn := "file:" + path + "?_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	// One writer at a time is what SQLite allows; one connection avoids
	// SQLITE_BUSY between our own goroutines.
	db.SetMaxOpenConns(1)
	s := &Store{db: db}
	if err := s.migrate(ctx); err != nil {
		_ = db.Close() // the migration error is the one to report
		return nil, fmt.Errorf("migrate %s: %w", path, err)
	}
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// migrations are applied in order; PRAGMA user_version records how many ran.
// Never edit one that has shipped: append a new one.
var migrations = []string{
	`CREATE TABLE projects (
		id TEXT PRIMARY KEY,
		name TEXT NOT NULL UNIQUE,
		framework TEXT NOT NULL,
		root_directory TEXT NOT NULL,
		install_command TEXT,
		build_command TEXT,
		created_at TIMESTAMP NOT NULL,
		updated_at TIMESTAMP NOT NULL
	);
	CREATE TABLE env_vars (
		id TEXT PRIMARY KEY,
		project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
		key TEXT NOT NULL,
		sealed_value BLOB NOT NULL,
		value_digest TEXT NOT NULL,
		targets TEXT NOT NULL,
		git_branch TEXT NOT NULL DEFAULT '',
		comment TEXT NOT NULL DEFAULT '',
		created_at TIMESTAMP NOT NULL,
		updated_at TIMESTAMP NOT NULL
	);
	CREATE INDEX env_vars_project ON env_vars(project_id, key);
	CREATE TABLE deployments (
		id TEXT PRIMARY KEY,
		project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
		target TEXT NOT NULL,
		state TEXT NOT NULL,
		hostname TEXT NOT NULL UNIQUE,
		source_digest TEXT NOT NULL,
		files TEXT NOT NULL,
		sealed_env BLOB NOT NULL,
		app_dir TEXT NOT NULL DEFAULT '',
		python TEXT NOT NULL DEFAULT '',
		entrypoint TEXT NOT NULL DEFAULT '',
		kind TEXT NOT NULL DEFAULT '',
		error_message TEXT NOT NULL DEFAULT '',
		created_at TIMESTAMP NOT NULL,
		ready_at TIMESTAMP
	);
	CREATE INDEX deployments_project ON deployments(project_id, created_at);
	CREATE TABLE aliases (
		hostname TEXT PRIMARY KEY,
		project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
		deployment_id TEXT REFERENCES deployments(id) ON DELETE SET NULL,
		production INTEGER NOT NULL
	);`,
	// Sandboxes: a project's uid is never given to another project, even after it is deleted,
	// so nothing a deleted project left behind can be reached by a new one.
	`CREATE TABLE project_sandboxes (
		project_id TEXT PRIMARY KEY,
		uid INTEGER NOT NULL UNIQUE
	);
	CREATE TABLE project_limits (
		project_id TEXT PRIMARY KEY REFERENCES projects(id) ON DELETE CASCADE,
		limits TEXT NOT NULL
	);
	CREATE TABLE deployment_sandboxes (
		deployment_id TEXT PRIMARY KEY REFERENCES deployments(id) ON DELETE CASCADE,
		uid INTEGER NOT NULL,
		limits TEXT NOT NULL
	);`,
	// The store is the build queue: a worker claims a QUEUED row by setting
	// claimed_by (its node) and lease_until (unix milliseconds), and renews
	// the lease while it builds; a row whose lease ran out is claimed again.
	`ALTER TABLE deployments ADD COLUMN claimed_by TEXT NOT NULL DEFAULT '';
	ALTER TABLE deployments ADD COLUMN lease_until INTEGER;
	CREATE INDEX deployments_queue ON deployments(state, created_at);`,
	// One namespace of hostnames: a deployment's own host and a project's
	// production alias (later custom domains and branch URLs) can never name
	// the same host. routes_version counts changes to what the edge serves,
	// kept by triggers so that no writer can forget it. Where an old alias
	// collided with a deployment's host, the deployment (whose URL is
	// immutable) keeps it.
	`CREATE TABLE hostnames (
		hostname TEXT PRIMARY KEY,
		project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
		kind TEXT NOT NULL CHECK (kind IN ('deployment', 'production')),
		deployment_id TEXT REFERENCES deployments(id) ON DELETE CASCADE,
		CHECK (kind <> 'deployment' OR deployment_id IS NOT NULL)
	);
	CREATE INDEX hostnames_project ON hostnames(project_id, kind);
	CREATE INDEX hostnames_deployment ON hostnames(deployment_id);
	INSERT INTO hostnames (hostname, project_id, kind, deployment_id)
		SELECT hostname, project_id, 'deployment', id FROM deployments;
	INSERT OR IGNORE INTO hostnames (hostname, project_id, kind, deployment_id)
		SELECT hostname, project_id, 'production', deployment_id FROM aliases;
	DROP TABLE aliases;
	CREATE TABLE routes_version (
		singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
		version INTEGER NOT NULL
	);
	INSERT INTO routes_version (singleton, version) VALUES (1, 1);
	CREATE TRIGGER hostnames_inserted AFTER INSERT ON hostnames
		BEGIN UPDATE routes_version SET version = version + 1; END;
	CREATE TRIGGER hostnames_updated AFTER UPDATE ON hostnames
		BEGIN UPDATE routes_version SET version = version + 1; END;
	CREATE TRIGGER hostnames_deleted AFTER DELETE ON hostnames
		BEGIN UPDATE routes_version SET version = version + 1; END;
	CREATE TRIGGER deployments_ready AFTER UPDATE OF state ON deployments
		WHEN (OLD.state = 'READY') <> (NEW.state = 'READY')
		BEGIN UPDATE routes_version SET version = version + 1; END;
	CREATE TRIGGER projects_renamed AFTER UPDATE OF name ON projects
		WHEN OLD.name <> NEW.name
		BEGIN UPDATE routes_version SET version = version + 1; END;`,
	// store.Deployment rows hold no absolute paths: app_dir and python become relative to the
	// deployment's own directory (".../<id>/src" -> "src"), so a data dir can move.
	`UPDATE deployments SET
		app_dir = substr(app_dir, instr(app_dir, '/' || id || '/') + length(id) + 2),
		python = substr(python, instr(python, '/' || id || '/') + length(id) + 2)
	WHERE app_dir LIKE '/%' AND instr(app_dir, '/' || id || '/') > 0 AND instr(python, '/' || id || '/') > 0;`,
	// An env var's targets are rows, so that the database itself refuses a key set twice for
	// one target (and branch). key and git_branch are repeated here for that constraint.
	`CREATE TABLE env_var_targets (
		env_var_id TEXT NOT NULL REFERENCES env_vars(id) ON DELETE CASCADE,
		project_id TEXT NOT NULL,
		key TEXT NOT NULL,
		git_branch TEXT NOT NULL,
		target TEXT NOT NULL,
		PRIMARY KEY (env_var_id, target),
		UNIQUE (project_id, key, git_branch, target)
	);
	INSERT OR IGNORE INTO env_var_targets (env_var_id, project_id, key, git_branch, target)
		SELECT id, project_id, key, git_branch, 'production' FROM env_vars WHERE ',' || targets || ',' LIKE '%,production,%'
		UNION ALL SELECT id, project_id, key, git_branch, 'preview' FROM env_vars WHERE ',' || targets || ',' LIKE '%,preview,%'
		UNION ALL SELECT id, project_id, key, git_branch, 'development' FROM env_vars WHERE ',' || targets || ',' LIKE '%,development,%';
	ALTER TABLE env_vars DROP COLUMN targets;`,
	runSpecMigration,
	gitSourcesMigration,
}

// gitSourcesMigration adds git sources, redeploys, branch URLs and retention. Deployments
// record their commit (JSON), branch, env digest, build key, and the deployment whose build
// output they serve. Hostnames get the kind 'branch' with the branch it follows; SQLite cannot
// change a CHECK constraint, so the table is rebuilt (its triggers and indexes with it).
const gitSourcesMigration = `ALTER TABLE deployments ADD COLUMN git TEXT;
	ALTER TABLE deployments ADD COLUMN git_branch TEXT NOT NULL DEFAULT '';
	ALTER TABLE deployments ADD COLUMN env_digest TEXT NOT NULL DEFAULT '';
	ALTER TABLE deployments ADD COLUMN build_key TEXT NOT NULL DEFAULT '';
	ALTER TABLE deployments ADD COLUMN build_of TEXT NOT NULL DEFAULT '';
	CREATE INDEX deployments_build_key ON deployments(project_id, build_key);
	CREATE INDEX deployments_build_of ON deployments(build_of);
	CREATE TABLE hostnames_v2 (
		hostname TEXT PRIMARY KEY,
		project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
		kind TEXT NOT NULL CHECK (kind IN ('deployment', 'production', 'branch')),
		deployment_id TEXT REFERENCES deployments(id) ON DELETE CASCADE,
		git_branch TEXT NOT NULL DEFAULT '',
		CHECK (kind <> 'deployment' OR deployment_id IS NOT NULL),
		CHECK ((kind = 'branch') = (git_branch <> ''))
	);
	INSERT INTO hostnames_v2 (hostname, project_id, kind, deployment_id) SELECT hostname, project_id, kind, deployment_id FROM hostnames;
	DROP TABLE hostnames;
	ALTER TABLE hostnames_v2 RENAME TO hostnames;
	CREATE INDEX hostnames_project ON hostnames(project_id, kind);
	CREATE INDEX hostnames_deployment ON hostnames(deployment_id);
	CREATE UNIQUE INDEX hostnames_branch ON hostnames(project_id, git_branch) WHERE kind = 'branch';
	CREATE TRIGGER hostnames_inserted AFTER INSERT ON hostnames
		BEGIN UPDATE routes_version SET version = version + 1; END;
	CREATE TRIGGER hostnames_updated AFTER UPDATE ON hostnames
		BEGIN UPDATE routes_version SET version = version + 1; END;
	CREATE TRIGGER hostnames_deleted AFTER DELETE ON hostnames
		BEGIN UPDATE routes_version SET version = version + 1; END;
	UPDATE routes_version SET version = version + 1;
	ALTER TABLE projects ADD COLUMN git_repository_url TEXT NOT NULL DEFAULT '';
	ALTER TABLE projects ADD COLUMN production_branch TEXT NOT NULL DEFAULT '';
	ALTER TABLE projects ADD COLUMN retention TEXT NOT NULL DEFAULT '{}';`

// runSpecMigration makes a READY deployment's run spec one JSON document, the build's whole
// answer to "how does this run", sandbox included: routes and more join it without new columns.
const runSpecMigration = `ALTER TABLE deployments ADD COLUMN run_spec TEXT;
	UPDATE deployments SET run_spec = json_object(
		'app_dir', app_dir, 'python', python, 'entrypoint', entrypoint, 'kind', kind,
		'uid', COALESCE((SELECT uid FROM deployment_sandboxes WHERE deployment_id = deployments.id), 0),
		'limits', json(COALESCE((SELECT limits FROM deployment_sandboxes WHERE deployment_id = deployments.id), '{}')))
	WHERE state = 'READY' AND entrypoint <> '';
	ALTER TABLE deployments DROP COLUMN app_dir;
	ALTER TABLE deployments DROP COLUMN python;
	ALTER TABLE deployments DROP COLUMN entrypoint;
	ALTER TABLE deployments DROP COLUMN kind;
	DROP TABLE deployment_sandboxes;`

func (s *Store) migrate(ctx context.Context) error {
	var applied int
	if err := s.db.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&applied); err != nil {
		return err
	}
	if applied > len(migrations) {
		return fmt.Errorf("the database is at schema %d but this engine knows %d: it was written by a newer ferry; run that version", applied, len(migrations))
	}
	for i := applied; i < len(migrations); i++ {
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
			return rollback(tx, fmt.Errorf("migration %d: %w", i+1, err))
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, i+1)); err != nil {
			return rollback(tx, err)
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	return nil
}

// inTx runs fn in a transaction, committing when it returns nil.
func (s *Store) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		return rollback(tx, err)
	}
	return tx.Commit()
}

// rollback rolls tx back after err and returns err, joined with the
// rollback's own failure if any: the one connection may then be unusable,
// which the caller should hear of.
func rollback(tx *sql.Tx, err error) error {
	if rbErr := tx.Rollback(); rbErr != nil && !errors.Is(rbErr, sql.ErrTxDone) {
		return errors.Join(err, fmt.Errorf("roll back: %w", rbErr))
	}
	return err
}

func now() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }
