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
	// A pinned production hostname stays on the deployment an alias put it on.
	`ALTER TABLE hostnames ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0;`,
	integrationsMigration,
	domainsMigration,
	// A deployment may ask for a clean install instead of the build cache.
	`ALTER TABLE deployments ADD COLUMN use_build_cache INTEGER NOT NULL DEFAULT 1;`,
	gitSourcesMigration,
	// A custom domain may follow a git branch, as a 'branch' hostname beside the branch's own
	// URL: custom marks domains' hostnames, so that one URL per branch holds for ferry's own.
	`ALTER TABLE hostnames ADD COLUMN custom INTEGER NOT NULL DEFAULT 0;
	UPDATE hostnames SET custom = 1 WHERE hostname IN (SELECT name FROM domains);
	DROP INDEX hostnames_branch;
	CREATE UNIQUE INDEX hostnames_branch ON hostnames(project_id, git_branch) WHERE kind = 'branch' AND custom = 0;`,
	// The nodes using the store, from their heartbeats: one, for a store of its own.
	`CREATE TABLE nodes (
		id TEXT PRIMARY KEY,
		version TEXT NOT NULL,
		http_address TEXT NOT NULL,
		api_address TEXT NOT NULL,
		started_at TIMESTAMP NOT NULL,
		seen_at TIMESTAMP NOT NULL,
		instances INTEGER NOT NULL,
		builds INTEGER NOT NULL
	);`,
	// What projects used, by day. No reference to projects: usage outlives a deleted project.
	`CREATE TABLE usage (
		project_id TEXT NOT NULL,
		day TEXT NOT NULL,
		requests INTEGER NOT NULL,
		bytes_out INTEGER NOT NULL,
		memory_mb_millis INTEGER NOT NULL,
		build_millis INTEGER NOT NULL,
		PRIMARY KEY (project_id, day)
	);`,
	teamsMigration,
	// A team's plan, by name: its limits are the engine's (api.Plans); "" for none.
	`ALTER TABLE teams ADD COLUMN plan TEXT NOT NULL DEFAULT '';`,
	keysAndProtectionMigration,
	webhooksMigration,
	// Usage keeps its project's team, so that a deleted project still counts for its team.
	// Rows of projects deleted before have no team (''): which team had them is not known.
	`ALTER TABLE usage ADD COLUMN team_id TEXT NOT NULL DEFAULT '';
	UPDATE usage SET team_id = COALESCE((SELECT team_id FROM projects WHERE projects.id = usage.project_id), '');
	CREATE INDEX usage_team_day ON usage(team_id, day);`,
}

// webhooksMigration adds teams' webhooks and the queue of their deliveries. A delivery is
// claimed like a build (claimed_by, lease_until in unix milliseconds); seq orders a webhook's
// deliveries, which are sent one after the other.
const webhooksMigration = `CREATE TABLE webhooks (
		id TEXT PRIMARY KEY,
		team_id TEXT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
		url TEXT NOT NULL,
		events TEXT NOT NULL,
		projects TEXT NOT NULL,
		sealed_secret BLOB NOT NULL,
		created_at TIMESTAMP NOT NULL,
		updated_at TIMESTAMP NOT NULL
	);
	CREATE INDEX webhooks_team ON webhooks(team_id);
	CREATE TABLE webhook_deliveries (
		seq INTEGER PRIMARY KEY AUTOINCREMENT,
		id TEXT NOT NULL UNIQUE,
		webhook_id TEXT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
		event_id TEXT NOT NULL,
		event_type TEXT NOT NULL,
		body BLOB NOT NULL,
		state TEXT NOT NULL,
		attempts INTEGER NOT NULL DEFAULT 0,
		last_status INTEGER NOT NULL DEFAULT 0,
		last_error TEXT NOT NULL DEFAULT '',
		next_attempt_at INTEGER NOT NULL,
		claimed_by TEXT NOT NULL DEFAULT '',
		lease_until INTEGER NOT NULL DEFAULT 0,
		created_at TIMESTAMP NOT NULL,
		delivered_at TIMESTAMP,
		UNIQUE (webhook_id, event_id)
	);
	CREATE INDEX webhook_deliveries_pending ON webhook_deliveries(state, next_attempt_at);
	CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries(webhook_id, seq);`

// teamsMigration adds teams, their tokens and the audit log. Every project made before belongs
// to the team "default". projects.team_id has no REFERENCES clause because SQLite cannot add
// one with a default: DeleteTeam checks for projects in its transaction instead.
const teamsMigration = `CREATE TABLE teams (
		id TEXT PRIMARY KEY,
		name TEXT NOT NULL UNIQUE,
		created_at TIMESTAMP NOT NULL
	);
	INSERT INTO teams (id, name, created_at) VALUES ('team_default', 'default', strftime('%Y-%m-%d %H:%M:%f+00:00', 'now'));
	ALTER TABLE projects ADD COLUMN team_id TEXT NOT NULL DEFAULT 'team_default';
	CREATE INDEX projects_team ON projects(team_id);
	CREATE TABLE tokens (
		id TEXT PRIMARY KEY,
		team_id TEXT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
		name TEXT NOT NULL,
		hash TEXT NOT NULL UNIQUE,
		prefix TEXT NOT NULL,
		scopes TEXT NOT NULL,
		projects TEXT NOT NULL,
		expires_at TIMESTAMP,
		revoked_at TIMESTAMP,
		last_used_at TIMESTAMP,
		created_at TIMESTAMP NOT NULL
	);
	-- A name is held by a token until it is revoked: replacing a token reuses its name.
	CREATE UNIQUE INDEX tokens_active_name ON tokens(team_id, name) WHERE revoked_at IS NULL;
	CREATE TABLE audit_events (
		id INTEGER PRIMARY KEY AUTOINCREMENT,
		at TIMESTAMP NOT NULL,
		actor TEXT NOT NULL,
		token_id TEXT NOT NULL,
		token_name TEXT NOT NULL,
		team_id TEXT NOT NULL,
		action TEXT NOT NULL,
		target TEXT NOT NULL,
		remote TEXT NOT NULL,
		status INTEGER NOT NULL,
		error TEXT NOT NULL
	);
	CREATE INDEX audit_events_team ON audit_events(team_id, id);`

// keysAndProtectionMigration adds envelope encryption and preview protection. secret_keys
// holds the data key (which seals every value) wrapped under each key-encryption key the
// engine may be given, by that key's fingerprint: rotating the given key adds a row, and no
// value is sealed again. preview_protection holds a project's preview password and CI bypass
// secret, sealed; the edge serves what it says, so its changes count as route changes.
const keysAndProtectionMigration = `CREATE TABLE secret_keys (
		fingerprint TEXT PRIMARY KEY,
		wrapped_data_key BLOB NOT NULL,
		created_at TIMESTAMP NOT NULL
	);
	CREATE TABLE preview_protection (
		project_id TEXT PRIMARY KEY REFERENCES projects(id) ON DELETE CASCADE,
		sealed_password BLOB NOT NULL,
		password_digest TEXT NOT NULL,
		sealed_bypass BLOB,
		bypass_digest TEXT NOT NULL DEFAULT '',
		updated_at TIMESTAMP NOT NULL
	);
	CREATE TRIGGER preview_protection_inserted AFTER INSERT ON preview_protection
		BEGIN UPDATE routes_version SET version = version + 1; END;
	CREATE TRIGGER preview_protection_updated AFTER UPDATE ON preview_protection
		BEGIN UPDATE routes_version SET version = version + 1; END;
	CREATE TRIGGER preview_protection_deleted AFTER DELETE ON preview_protection
		BEGIN UPDATE routes_version SET version = version + 1; END;`

// integrationsMigration adds integrations. The keys an integration injects are claimed in
// env_var_targets beside env vars' own, so that one constraint refuses a key set twice for a
// target (and branch), by a var or an integration: the table is rebuilt with a claim's owner
// being either.
const integrationsMigration = `CREATE TABLE integrations (
		id TEXT PRIMARY KEY,
		project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
		kind TEXT NOT NULL,
		settings TEXT NOT NULL,
		sealed_secrets BLOB NOT NULL,
		git_branch TEXT NOT NULL DEFAULT '',
		created_at TIMESTAMP NOT NULL,
		updated_at TIMESTAMP NOT NULL
	);
	CREATE INDEX integrations_project ON integrations(project_id, created_at);
	CREATE TABLE env_key_claims (
		env_var_id TEXT REFERENCES env_vars(id) ON DELETE CASCADE,
		integration_id TEXT REFERENCES integrations(id) ON DELETE CASCADE,
		project_id TEXT NOT NULL,
		key TEXT NOT NULL,
		git_branch TEXT NOT NULL,
		target TEXT NOT NULL,
		CHECK ((env_var_id IS NULL) <> (integration_id IS NULL)),
		UNIQUE (env_var_id, target),
		UNIQUE (project_id, key, git_branch, target)
	);
	INSERT INTO env_key_claims (env_var_id, project_id, key, git_branch, target)
		SELECT env_var_id, project_id, key, git_branch, target FROM env_var_targets;
	DROP TABLE env_var_targets;
	ALTER TABLE env_key_claims RENAME TO env_var_targets;
	CREATE INDEX env_var_targets_integration ON env_var_targets(integration_id);`

// domainsMigration adds custom domains. Each is also a 'production' row of hostnames (which it
// goes with), so that it is one name in the one namespace and moves with promotions, rollbacks
// and aliases; this table holds the rest. A domain that another redirects to cannot be deleted
// from under it. What the edge serves changes when a domain comes, goes, is verified or becomes
// a redirect: the triggers count those changes, not the bookkeeping of DNS checks and certificates.
const domainsMigration = `CREATE TABLE domains (
		name TEXT PRIMARY KEY REFERENCES hostnames(hostname) ON DELETE CASCADE,
		project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
		git_branch TEXT NOT NULL DEFAULT '',
		redirect TEXT REFERENCES domains(name),
		redirect_status INTEGER NOT NULL DEFAULT 0,
		token TEXT NOT NULL,
		verified_at TIMESTAMP,
		checked_at TIMESTAMP,
		verification TEXT NOT NULL DEFAULT '',
		tls_status TEXT NOT NULL DEFAULT '',
		tls_issuer TEXT NOT NULL DEFAULT '',
		tls_not_after TIMESTAMP,
		tls_error TEXT NOT NULL DEFAULT '',
		created_at TIMESTAMP NOT NULL
	);
	CREATE INDEX domains_project ON domains(project_id, name);
	CREATE INDEX domains_redirect ON domains(redirect);
	CREATE TRIGGER domains_inserted AFTER INSERT ON domains
		BEGIN UPDATE routes_version SET version = version + 1; END;
	CREATE TRIGGER domains_routed AFTER UPDATE OF verified_at, redirect, redirect_status ON domains
		WHEN (OLD.verified_at IS NULL) <> (NEW.verified_at IS NULL) OR OLD.redirect IS NOT NEW.redirect OR OLD.redirect_status <> NEW.redirect_status
		BEGIN UPDATE routes_version SET version = version + 1; END;
	CREATE TRIGGER domains_deleted AFTER DELETE ON domains
		BEGIN UPDATE routes_version SET version = version + 1; END;`

// gitSourcesMigration adds git sources, redeploys, branch URLs and retention. Deployments
// record their commit (JSON), branch, env digest, build key, and the deployment whose build
// output they serve. Hostnames get the kind 'branch' with the branch it follows; SQLite cannot
// change a CHECK constraint, so the table is rebuilt (its triggers and indexes with it). Dropping
// the old table deletes its rows first, and with them, by their foreign key, the custom domains:
// those are kept aside and put back.
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
		pinned INTEGER NOT NULL DEFAULT 0,
		git_branch TEXT NOT NULL DEFAULT '',
		CHECK (kind <> 'deployment' OR deployment_id IS NOT NULL),
		CHECK ((kind = 'branch') = (git_branch <> ''))
	);
	INSERT INTO hostnames_v2 (hostname, project_id, kind, deployment_id, pinned)
		SELECT hostname, project_id, kind, deployment_id, pinned FROM hostnames;
	CREATE TEMP TABLE domains_kept AS SELECT * FROM domains;
	DROP TABLE hostnames;
	ALTER TABLE hostnames_v2 RENAME TO hostnames;
	INSERT INTO domains SELECT * FROM domains_kept;
	DROP TABLE domains_kept;
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

// migrate applies the pending migrations in one transaction: a store is at
// its old schema or the new one, never in between, so that an engine of the
// old schema can still open it after a failed upgrade.
func (s *Store) migrate(ctx context.Context) error {
	applied, err := s.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	if applied > len(migrations) {
		return &NewerSchemaError{Found: applied, Known: len(migrations)}
	}
	if applied == len(migrations) {
		return nil
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		for i := applied; i < len(migrations); i++ {
			if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
				return fmt.Errorf("migration %d: %w", i+1, err)
			}
		}
		_, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, len(migrations)))
		return err
	})
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

// oneRow is the outcome of an update or delete of one row: ErrNotFound when
// it touched none.
func oneRow(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// rowsAffected is how many rows an update or delete touched.
func rowsAffected(res sql.Result, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// scanner is a row to scan: *sql.Row or *sql.Rows.
type scanner interface{ Scan(...any) error }

// listRows runs query and scans every row of its answer with scan.
func listRows[T any](ctx context.Context, db *sql.DB, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer func() { _ = rows.Close() }() // rows.Err() reports a failed read
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
