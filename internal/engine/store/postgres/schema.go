package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// migrationLock is the key of the advisory lock migrations hold, so that
// nodes starting at once migrate one after the other: the later ones find
// the schema current.
const migrationLock = 0x66657272790001 // "ferry" 0001

// migrations are applied in order, each recorded in schema_migrations.
// Never edit one that has shipped: append a new one.
var migrations = []string{
	// The schema the SQLite store reached in its twelve migrations, in PostgreSQL's types. Times
	// are timestamptz; JSON that is queried is jsonb, JSON handed back byte for byte is text.
	`CREATE TABLE projects (
		id TEXT PRIMARY KEY,
		name TEXT NOT NULL CONSTRAINT projects_name_key UNIQUE,
		framework TEXT NOT NULL,
		root_directory TEXT NOT NULL,
		install_command TEXT,
		build_command TEXT,
		git_repository_url TEXT NOT NULL DEFAULT '',
		production_branch TEXT NOT NULL DEFAULT '',
		retention JSONB NOT NULL DEFAULT '{}',
		created_at TIMESTAMPTZ NOT NULL,
		updated_at TIMESTAMPTZ NOT NULL
	);
	-- A project's uid is never given to another project, even after it is deleted.
	CREATE TABLE project_sandboxes (
		project_id TEXT PRIMARY KEY,
		uid INTEGER NOT NULL UNIQUE
	);
	CREATE TABLE project_limits (
		project_id TEXT PRIMARY KEY REFERENCES projects(id) ON DELETE CASCADE,
		limits JSONB NOT NULL
	);
	CREATE TABLE env_vars (
		id TEXT PRIMARY KEY,
		project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
		key TEXT NOT NULL,
		sealed_value BYTEA NOT NULL,
		value_digest TEXT NOT NULL,
		git_branch TEXT NOT NULL DEFAULT '',
		comment TEXT NOT NULL DEFAULT '',
		created_at TIMESTAMPTZ NOT NULL,
		updated_at TIMESTAMPTZ NOT NULL
	);
	CREATE INDEX env_vars_project ON env_vars(project_id, key);
	CREATE TABLE integrations (
		id TEXT PRIMARY KEY,
		project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
		kind TEXT NOT NULL,
		settings TEXT NOT NULL,
		sealed_secrets BYTEA NOT NULL,
		git_branch TEXT NOT NULL DEFAULT '',
		created_at TIMESTAMPTZ NOT NULL,
		updated_at TIMESTAMPTZ NOT NULL
	);
	CREATE INDEX integrations_project ON integrations(project_id, created_at);
	-- The env keys claimed for each target (and branch), by an env var or an integration:
	-- one constraint refuses a key set twice.
	CREATE TABLE env_var_targets (
		env_var_id TEXT REFERENCES env_vars(id) ON DELETE CASCADE,
		integration_id TEXT REFERENCES integrations(id) ON DELETE CASCADE,
		project_id TEXT NOT NULL,
		key TEXT NOT NULL,
		git_branch TEXT NOT NULL,
		target TEXT NOT NULL,
		CHECK ((env_var_id IS NULL) <> (integration_id IS NULL)),
		UNIQUE (env_var_id, target),
		CONSTRAINT env_var_targets_claim UNIQUE (project_id, key, git_branch, target)
	);
	CREATE INDEX env_var_targets_integration ON env_var_targets(integration_id);
	CREATE TABLE deployments (
		id TEXT PRIMARY KEY,
		project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
		target TEXT NOT NULL,
		state TEXT NOT NULL,
		hostname TEXT NOT NULL CONSTRAINT deployments_hostname_key UNIQUE,
		source_digest TEXT NOT NULL,
		files TEXT NOT NULL,
		sealed_env BYTEA NOT NULL,
		run_spec JSONB,
		error_message TEXT NOT NULL DEFAULT '',
		created_at TIMESTAMPTZ NOT NULL,
		ready_at TIMESTAMPTZ,
		claimed_by TEXT NOT NULL DEFAULT '',
		lease_until TIMESTAMPTZ,
		git JSONB,
		git_branch TEXT NOT NULL DEFAULT '',
		env_digest TEXT NOT NULL DEFAULT '',
		build_key TEXT NOT NULL DEFAULT '',
		build_of TEXT NOT NULL DEFAULT '',
		use_build_cache BOOLEAN NOT NULL DEFAULT true
	);
	CREATE INDEX deployments_project ON deployments(project_id, created_at);
	CREATE INDEX deployments_queue ON deployments(state, created_at);
	CREATE INDEX deployments_build_key ON deployments(project_id, build_key);
	CREATE INDEX deployments_build_of ON deployments(build_of);
	-- One namespace of hostnames: deployments' own hosts, production aliases (custom domains
	-- among them) and branch URLs.
	CREATE TABLE hostnames (
		hostname TEXT CONSTRAINT hostnames_pkey PRIMARY KEY,
		project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
		kind TEXT NOT NULL CHECK (kind IN ('deployment', 'production', 'branch')),
		deployment_id TEXT REFERENCES deployments(id) ON DELETE CASCADE,
		pinned BOOLEAN NOT NULL DEFAULT false,
		git_branch TEXT NOT NULL DEFAULT '',
		CHECK (kind <> 'deployment' OR deployment_id IS NOT NULL),
		CHECK ((kind = 'branch') = (git_branch <> ''))
	);
	CREATE INDEX hostnames_project ON hostnames(project_id, kind);
	CREATE INDEX hostnames_deployment ON hostnames(deployment_id);
	CREATE UNIQUE INDEX hostnames_branch ON hostnames(project_id, git_branch) WHERE kind = 'branch';
	CREATE TABLE domains (
		name TEXT PRIMARY KEY REFERENCES hostnames(hostname) ON DELETE CASCADE,
		project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
		git_branch TEXT NOT NULL DEFAULT '',
		redirect TEXT REFERENCES domains(name),
		redirect_status INTEGER NOT NULL DEFAULT 0,
		token TEXT NOT NULL,
		verified_at TIMESTAMPTZ,
		checked_at TIMESTAMPTZ,
		verification TEXT NOT NULL DEFAULT '',
		tls_status TEXT NOT NULL DEFAULT '',
		tls_issuer TEXT NOT NULL DEFAULT '',
		tls_not_after TIMESTAMPTZ,
		tls_error TEXT NOT NULL DEFAULT '',
		created_at TIMESTAMPTZ NOT NULL
	);
	CREATE INDEX domains_project ON domains(project_id, name);
	CREATE INDEX domains_redirect ON domains(redirect);
	-- routes_version counts changes to what the edge serves, kept by triggers so that no
	-- writer can forget it; each change is also announced on the routes channel, delivered
	-- when its transaction commits (and once per transaction: the payload is always the same).
	CREATE TABLE routes_version (
		singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
		version BIGINT NOT NULL
	);
	INSERT INTO routes_version (singleton, version) VALUES (1, 1);
	CREATE FUNCTION ferry_routes_changed() RETURNS trigger LANGUAGE plpgsql AS $$
	BEGIN
		UPDATE routes_version SET version = version + 1;
		PERFORM pg_notify('` + routesChannel + `', '');
		RETURN NULL;
	END $$;
	CREATE TRIGGER hostnames_changed AFTER INSERT OR UPDATE OR DELETE ON hostnames
		FOR EACH ROW EXECUTE FUNCTION ferry_routes_changed();
	CREATE TRIGGER deployments_ready AFTER UPDATE OF state ON deployments
		FOR EACH ROW WHEN ((OLD.state = 'READY') <> (NEW.state = 'READY')) EXECUTE FUNCTION ferry_routes_changed();
	CREATE TRIGGER projects_renamed AFTER UPDATE OF name ON projects
		FOR EACH ROW WHEN (OLD.name <> NEW.name) EXECUTE FUNCTION ferry_routes_changed();
	CREATE TRIGGER domains_changed AFTER INSERT OR DELETE ON domains
		FOR EACH ROW EXECUTE FUNCTION ferry_routes_changed();
	CREATE TRIGGER domains_routed AFTER UPDATE OF verified_at, redirect, redirect_status ON domains
		FOR EACH ROW WHEN ((OLD.verified_at IS NULL) <> (NEW.verified_at IS NULL) OR OLD.redirect IS DISTINCT FROM NEW.redirect
			OR OLD.redirect_status <> NEW.redirect_status)
		EXECUTE FUNCTION ferry_routes_changed();`,
	// A custom domain may follow a git branch, as a 'branch' hostname beside the branch's own
	// URL: custom marks domains' hostnames, so that one URL per branch holds for ferry's own.
	`ALTER TABLE hostnames ADD COLUMN custom BOOLEAN NOT NULL DEFAULT false;
	UPDATE hostnames SET custom = true WHERE hostname IN (SELECT name FROM domains);
	DROP INDEX hostnames_branch;
	CREATE UNIQUE INDEX hostnames_branch ON hostnames(project_id, git_branch) WHERE kind = 'branch' AND NOT custom;`,
	// The nodes using the store, from their heartbeats.
	`CREATE TABLE nodes (
		id TEXT PRIMARY KEY,
		version TEXT NOT NULL,
		http_address TEXT NOT NULL,
		api_address TEXT NOT NULL,
		started_at TIMESTAMPTZ NOT NULL,
		seen_at TIMESTAMPTZ NOT NULL,
		instances INTEGER NOT NULL,
		builds INTEGER NOT NULL
	);`,
	// What projects used, by day. No reference to projects: usage outlives a deleted project.
	`CREATE TABLE usage (
		project_id TEXT NOT NULL,
		day DATE NOT NULL,
		requests BIGINT NOT NULL,
		bytes_out BIGINT NOT NULL,
		memory_mb_millis BIGINT NOT NULL,
		build_millis BIGINT NOT NULL,
		PRIMARY KEY (project_id, day)
	);`,
	// Teams, their tokens and the audit log; every project made before belongs to "default".
	`CREATE TABLE teams (
		id TEXT PRIMARY KEY,
		name TEXT NOT NULL CONSTRAINT teams_name_key UNIQUE,
		created_at TIMESTAMPTZ NOT NULL
	);
	INSERT INTO teams (id, name, created_at) VALUES ('team_default', 'default', now());
	ALTER TABLE projects ADD COLUMN team_id TEXT NOT NULL DEFAULT 'team_default' CONSTRAINT projects_team_id_fkey REFERENCES teams(id);
	CREATE INDEX projects_team ON projects(team_id);
	CREATE TABLE tokens (
		id TEXT PRIMARY KEY,
		team_id TEXT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
		name TEXT NOT NULL,
		hash TEXT NOT NULL UNIQUE,
		prefix TEXT NOT NULL,
		scopes JSONB NOT NULL,
		projects JSONB NOT NULL,
		expires_at TIMESTAMPTZ,
		revoked_at TIMESTAMPTZ,
		last_used_at TIMESTAMPTZ,
		created_at TIMESTAMPTZ NOT NULL
	);
	-- A name is held by a token until it is revoked: replacing a token reuses its name.
	CREATE UNIQUE INDEX tokens_active_name ON tokens(team_id, name) WHERE revoked_at IS NULL;
	CREATE TABLE audit_events (
		id BIGSERIAL PRIMARY KEY,
		at TIMESTAMPTZ NOT NULL,
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
	CREATE INDEX audit_events_team ON audit_events(team_id, id);`,
	// A team's plan, by name: its limits are the engine's (api.Plans); "" for none.
	`ALTER TABLE teams ADD COLUMN plan TEXT NOT NULL DEFAULT '';`,
	// Envelope encryption: the data key (which seals every value) wrapped under each
	// key-encryption key the nodes may be given, by its fingerprint. Preview protection: a
	// project's preview password and CI bypass secret, sealed; a change to it is a route change.
	`CREATE TABLE secret_keys (
		fingerprint TEXT PRIMARY KEY,
		wrapped_data_key BYTEA NOT NULL,
		created_at TIMESTAMPTZ NOT NULL
	);
	CREATE TABLE preview_protection (
		project_id TEXT PRIMARY KEY REFERENCES projects(id) ON DELETE CASCADE,
		sealed_password BYTEA NOT NULL,
		password_digest TEXT NOT NULL,
		sealed_bypass BYTEA,
		bypass_digest TEXT NOT NULL DEFAULT '',
		updated_at TIMESTAMPTZ NOT NULL
	);
	CREATE TRIGGER preview_protection_changed AFTER INSERT OR UPDATE OR DELETE ON preview_protection
		FOR EACH ROW EXECUTE FUNCTION ferry_routes_changed();`,
	// Teams' webhooks and the queue of their deliveries, claimed like builds (claimed_by,
	// lease_until in unix milliseconds); seq orders a webhook's deliveries, sent one after the other.
	`CREATE TABLE webhooks (
		id TEXT PRIMARY KEY,
		team_id TEXT NOT NULL CONSTRAINT webhooks_team_id_fkey REFERENCES teams(id) ON DELETE CASCADE,
		url TEXT NOT NULL,
		events JSONB NOT NULL,
		projects JSONB NOT NULL,
		sealed_secret BYTEA NOT NULL,
		created_at TIMESTAMPTZ NOT NULL,
		updated_at TIMESTAMPTZ NOT NULL
	);
	CREATE INDEX webhooks_team ON webhooks(team_id);
	CREATE TABLE webhook_deliveries (
		seq BIGSERIAL PRIMARY KEY,
		id TEXT NOT NULL UNIQUE,
		webhook_id TEXT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
		event_id TEXT NOT NULL,
		event_type TEXT NOT NULL,
		body BYTEA NOT NULL,
		state TEXT NOT NULL,
		attempts INTEGER NOT NULL DEFAULT 0,
		last_status INTEGER NOT NULL DEFAULT 0,
		last_error TEXT NOT NULL DEFAULT '',
		next_attempt_at BIGINT NOT NULL,
		claimed_by TEXT NOT NULL DEFAULT '',
		lease_until BIGINT NOT NULL DEFAULT 0,
		created_at TIMESTAMPTZ NOT NULL,
		delivered_at TIMESTAMPTZ,
		UNIQUE (webhook_id, event_id)
	);
	CREATE INDEX webhook_deliveries_pending ON webhook_deliveries(state, next_attempt_at);
	CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries(webhook_id, seq);`,
	// Usage keeps its project's team, so that a deleted project still counts for its team.
	// Rows of projects deleted before have no team (''): which team had them is not known.
	`ALTER TABLE usage ADD COLUMN team_id TEXT NOT NULL DEFAULT '';
	UPDATE usage SET team_id = projects.team_id FROM projects WHERE projects.id = usage.project_id;
	CREATE INDEX usage_team_day ON usage(team_id, day);`,
}

// SchemaVersion is the newest schema this build knows: the number of its migrations.
func SchemaVersion() int { return len(migrations) }

// NewerSchemaError is a database migrated by a newer ferry than this one.
type NewerSchemaError struct {
	Found int // the database's schema
	Known int // the newest this build knows
}

func (e *NewerSchemaError) Error() string {
	return fmt.Sprintf("the database is at schema version %d, but this ferry knows versions up to %d: a newer ferry migrated it, "+
		"and migrations only go forward. Run every node on that newer ferry or later", e.Found, e.Known)
}

// migrate applies the pending migrations in one transaction under an
// advisory lock: nodes that start at once take turns, and a database is at
// its old schema or the new one, never in between.
func (s *Store) migrate(ctx context.Context) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrationLock)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version INTEGER PRIMARY KEY,
			applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
		)`); err != nil {
			return err
		}
		applied, err := schemaVersion(ctx, tx)
		if err != nil {
			return err
		}
		if applied > len(migrations) {
			return &NewerSchemaError{Found: applied, Known: len(migrations)}
		}
		for i := applied; i < len(migrations); i++ {
			// Without arguments, pgx sends the simple protocol, which runs several statements.
			if _, err := tx.Exec(ctx, migrations[i]); err != nil {
				return fmt.Errorf("migration %d: %w", i+1, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, i+1); err != nil {
				return err
			}
		}
		return nil
	})
}

func schemaVersion(ctx context.Context, q querier) (int, error) {
	var applied int
	err := q.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&applied)
	return applied, err
}

// SchemaVersion returns the schema the database is at.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) { return schemaVersion(ctx, s.pool) }
