-- A store of schema version 20, as an engine of that schema wrote it, with data in it.
-- Frozen: never regenerate it from newer code. Values are sealed with testdata/secret.key.
CREATE TABLE deployments (
		id TEXT PRIMARY KEY,
		project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
		target TEXT NOT NULL,
		state TEXT NOT NULL,
		hostname TEXT NOT NULL UNIQUE,
		source_digest TEXT NOT NULL,
		files TEXT NOT NULL,
		sealed_env BLOB NOT NULL,
		error_message TEXT NOT NULL DEFAULT '',
		created_at TIMESTAMP NOT NULL,
		ready_at TIMESTAMP
	, claimed_by TEXT NOT NULL DEFAULT '', lease_until INTEGER, run_spec TEXT, use_build_cache INTEGER NOT NULL DEFAULT 1, git TEXT, git_branch TEXT NOT NULL DEFAULT '', env_digest TEXT NOT NULL DEFAULT '', build_key TEXT NOT NULL DEFAULT '', build_of TEXT NOT NULL DEFAULT '');
INSERT INTO deployments VALUES('dpl_holdprodaaaaaaaaaaaa','prj_hellofixtureaaaaaaaa','production','READY','hello-holdproda.localhost','cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd','[{"digest":"abababababababababababababababababababababababababababababababab","mode":420,"path":"app.py","size":120}]',X'82acb6c301b3b6663497932fb8709dc9257bf181eae16d1c7b96bd6007ac10ccb144bfe77d39a77277dd8ee264b2e0204722cbf752de0c407238140e51e5060f93a6cad167d51746634f506e43829ce366720669f0e8e703917fc731ffccee7ad5edabbb4e7cc2e0e3ac335138f09bd7da21fa3a436f62d66f9761639f7829dc4253a3f8661aed7113632b40d5e04012c5','','2025-03-04 05:06:07 +0000 UTC','2025-03-04 05:06:09 +0000 UTC','',NULL,'{"app_dir":"src","python":"venv/bin/python","entrypoint":"app:app","kind":"wsgi","uid":1200000,"limits":{"memory_mb":2048,"cpu":1,"processes":256,"open_files":4096,"build_minutes":45}}',1,NULL,'','','','');
INSERT INTO deployments VALUES('dpl_hproductionaaaaaaaaa','prj_hellofixtureaaaaaaaa','production','READY','hello-hproducti.localhost','cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd','[{"digest":"abababababababababababababababababababababababababababababababab","mode":420,"path":"app.py","size":120}]',X'1d063c0fa5a06d3a69be876d37b794d88b86347359d53505f6412def274f912df23c6102ce943ae92326b99d902db824a2e4bc2e9853bdbcf0f5ba89213436c08a66dce5a143bbec340450dfa669cd059eae564b0ff121a0ce99366af45dc755eb404519ba1015cbb2a619f680c81c6c74ad4cf8e12837e31b30490c9d2c6041d638a7ff0621991d7a7f177db5001823be','','2025-03-04 05:07:07 +0000 UTC','2025-03-04 05:07:09 +0000 UTC','',NULL,'{"app_dir":"src","python":"venv/bin/python","entrypoint":"app:app","kind":"wsgi","uid":1200000,"limits":{"memory_mb":2048,"cpu":1,"processes":256,"open_files":4096,"build_minutes":45}}',1,NULL,'','','','');
INSERT INTO deployments VALUES('dpl_hpreviewaaaaaaaaaaaa','prj_hellofixtureaaaaaaaa','preview','READY','hello-hpreviewa.localhost','cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd','[{"digest":"abababababababababababababababababababababababababababababababab","mode":420,"path":"app.py","size":120}]',X'65d01bab58f1469d307d201d70b4b16a4e7d174400fe8bfffaaf6ff93d158d34265a8cf4004d9ec68948826ee5a4e0b6583dff786b1fc4460a4c25bc6a12c25d39b42c0c7607b945e2f1569bf90e4cd722ab1f57bb360fa72bfea38b25de7deb943d04edd9ddd1f13e9e40ede3b8249dd6a066158389b440f5ca3e2d45ddd673357cad95401e005d4ba1083485a0','','2025-03-04 05:08:07 +0000 UTC','2025-03-04 05:08:09 +0000 UTC','',NULL,'{"app_dir":"src","python":"venv/bin/python","entrypoint":"app:app","kind":"wsgi","uid":1200000,"limits":{"memory_mb":2048,"cpu":1,"processes":256,"open_files":4096,"build_minutes":45}}',0,'{"url":"https://github.com/acme/hello.git","provider":"github","repo_owner":"acme","repo_slug":"hello","ref":"feature-x","branch":"feature-x","sha":"0123456789abcdef0123456789abcdef01234567","message":"Add the feature","author_name":"Ada","author_email":"ada@example.com","author_login":"ada","committed_at":"2025-03-04T05:08:00Z"}','feature-x','sha256:fixture','fixturebuildkey','');
INSERT INTO deployments VALUES('dpl_aerroraaaaaaaaaaaaaa','prj_apifixtureaaaaaaaaaa','production','ERROR','api-aerroraaa.localhost','cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd','[{"digest":"abababababababababababababababababababababababababababababababab","mode":420,"path":"app.py","size":120}]',X'f8d20faddf0a182228b3d571c3b4fad1dcc534fd84986b14ac2dce148da1ccbb794766675eab4e766ceac86e37c4076bf4bfd0318ee1074ec3d71f6469a0795d32a57cac633ffbda721401cf3b2bee5f9ce98b5a89b4fe1f6d8ec8ee3f8de31a477bb6e31a95391a6c63b45ce80fd916d77488fb8f68bdc6af29f621bffea62d6ff50e3e72df7b5c184ade759ef01021a6','no entrypoint: add app.py','2025-03-04 05:09:07 +0000 UTC',NULL,'',NULL,NULL,1,NULL,'','','','');
INSERT INTO deployments VALUES('dpl_acanceledaaaaaaaaaaa','prj_apifixtureaaaaaaaaaa','production','CANCELED','api-acanceled.localhost','cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd','[{"digest":"abababababababababababababababababababababababababababababababab","mode":420,"path":"app.py","size":120}]',X'4dd892e14331f0270caf5681f755494c88d58ac6a806b77fc32897c577741f8cf8b6c6decf81ea6424c7d642457cbbaabcf74ae51dbf779c2264c14d2a2e81fe071ef9dce09de1a840531e9d6469a4722cdf3ea1e711b2af8aa42313f56ee430b2b80b1320f2998de848ba6cccfa9914149c134ac9cac00a7129a65d2080cd1afce5303b4c68d5563678ee73da69c8a82b','','2025-03-04 05:10:07 +0000 UTC',NULL,'',NULL,NULL,1,NULL,'','','','');
CREATE TABLE env_vars (
		id TEXT PRIMARY KEY,
		project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
		key TEXT NOT NULL,
		sealed_value BLOB NOT NULL,
		value_digest TEXT NOT NULL,
		git_branch TEXT NOT NULL DEFAULT '',
		comment TEXT NOT NULL DEFAULT '',
		created_at TIMESTAMP NOT NULL,
		updated_at TIMESTAMP NOT NULL
	);
INSERT INTO env_vars VALUES('env_greetingaaaaaaaaaaaa','prj_hellofixtureaaaaaaaa','GREETING',X'99d636c27647d74a784dc81b32cbf92c526ef419e714fe9b537e128e504dd87d12cdd6577203cc3efb5ea374dab3a93f3b60','hmac-sha256:7ac4cf6dd5b169eaf50da79d27848bdf3b10fa712de80f092c732ae8d612728b','','','2025-03-04 05:06:07 +0000 UTC','2025-03-04 05:06:07 +0000 UTC');
INSERT INTO env_vars VALUES('env_featureaaaaaaaaaaaaa','prj_hellofixtureaaaaaaaa','FEATURE',X'609f5341d1210a10441a47779ed91c718d8bee09fb798e7bd68860d8ff7b','hmac-sha256:b0ad0ac4fa655e312207eda6184315db4eeb78cbde89761430ffa98b8cd0bd65','feature-x','only on feature-x','2025-03-04 05:06:07 +0000 UTC','2025-03-04 05:06:07 +0000 UTC');
INSERT INTO env_vars VALUES('env_tokenaaaaaaaaaaaaaaa','prj_apifixtureaaaaaaaaaa','API_TOKEN',X'943c2e89eef926601f6a3004d8d6668dc5985374df32ffe1b90b4a136a00551f5e0ce369f4793b29','hmac-sha256:ab8e9fa46837027e94dce8da39a45a6a005347ae688cb515c9fa56b98b6fed78','','','2025-03-04 05:06:07 +0000 UTC','2025-03-04 05:06:07 +0000 UTC');
CREATE TABLE project_limits (
		project_id TEXT PRIMARY KEY REFERENCES projects(id) ON DELETE CASCADE,
		limits TEXT NOT NULL
	);
INSERT INTO project_limits VALUES('prj_apifixtureaaaaaaaaaa','{"memory_mb":512,"cpu":0.5}');
CREATE TABLE project_sandboxes (
		project_id TEXT PRIMARY KEY,
		uid INTEGER NOT NULL UNIQUE
	);
INSERT INTO project_sandboxes VALUES('prj_hellofixtureaaaaaaaa',1200000);
INSERT INTO project_sandboxes VALUES('prj_apifixtureaaaaaaaaaa',1200001);
CREATE TABLE projects (
		id TEXT PRIMARY KEY,
		name TEXT NOT NULL UNIQUE,
		framework TEXT NOT NULL,
		root_directory TEXT NOT NULL,
		install_command TEXT,
		build_command TEXT,
		created_at TIMESTAMP NOT NULL,
		updated_at TIMESTAMP NOT NULL
	, git_repository_url TEXT NOT NULL DEFAULT '', production_branch TEXT NOT NULL DEFAULT '', retention TEXT NOT NULL DEFAULT '{}', team_id TEXT NOT NULL DEFAULT 'team_default');
INSERT INTO projects VALUES('prj_hellofixtureaaaaaaaa','hello','flask','.',NULL,NULL,'2025-03-04 05:06:07 +0000 UTC','2025-03-04 05:06:07 +0000 UTC','https://github.com/acme/hello.git','main','{"preview":"30d"}','team_default');
INSERT INTO projects VALUES('prj_apifixtureaaaaaaaaaa','api','fastapi','backend','pip install -r requirements.txt','python build.py','2025-03-04 05:06:07 +0000 UTC','2025-03-04 05:07:07 +0000 UTC','','','{}','team_fixtureaaaaaaaaaaa');
CREATE TABLE routes_version (
		singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
		version INTEGER NOT NULL
	);
INSERT INTO routes_version VALUES(1,25);
CREATE TABLE integrations (
		id TEXT PRIMARY KEY,
		project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
		kind TEXT NOT NULL,
		settings TEXT NOT NULL,
		sealed_secrets BLOB NOT NULL,
		git_branch TEXT NOT NULL DEFAULT '',
		created_at TIMESTAMP NOT NULL,
		updated_at TIMESTAMP NOT NULL
	);
INSERT INTO integrations VALUES('int_fixtureaaaaaaaaaaaaa','prj_apifixtureaaaaaaaaaa','supabase','{"driver":"asyncpg","pool_mode":"transaction"}',X'ec057aa04fdd1e22a62356c179ce05b95514d812ee248cad9cefd7614109194afe497ded97d2296762651ed1de1b7e7b6bcd166b7b9e656ea18ad8931bf7e4bdad79f531e88c40273069d128a99b31c8ec861e359c4321d829f807372f80815148b0f20a20bf7861c5bd2db2f25a15918f8fc83de90c6f72a2882214399da8b3fec1c240c65f61b19ec7f1caf8de8c753d5932022e996539b98182475fd80343a717b2e8','','2026-11-30 20:51:11.381 +0000 UTC','2026-11-30 20:51:11.381 +0000 UTC');
CREATE TABLE IF NOT EXISTS "env_var_targets" (
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
INSERT INTO env_var_targets VALUES('env_greetingaaaaaaaaaaaa',NULL,'prj_hellofixtureaaaaaaaa','GREETING','','production');
INSERT INTO env_var_targets VALUES('env_greetingaaaaaaaaaaaa',NULL,'prj_hellofixtureaaaaaaaa','GREETING','','preview');
INSERT INTO env_var_targets VALUES('env_featureaaaaaaaaaaaaa',NULL,'prj_hellofixtureaaaaaaaa','FEATURE','feature-x','preview');
INSERT INTO env_var_targets VALUES('env_tokenaaaaaaaaaaaaaaa',NULL,'prj_apifixtureaaaaaaaaaa','API_TOKEN','','production');
INSERT INTO env_var_targets VALUES(NULL,'int_fixtureaaaaaaaaaaaaa','prj_apifixtureaaaaaaaaaa','DATABASE_URL','','production');
INSERT INTO env_var_targets VALUES(NULL,'int_fixtureaaaaaaaaaaaaa','prj_apifixtureaaaaaaaaaa','POSTGRES_URL','','production');
CREATE TABLE domains (
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
INSERT INTO domains VALUES('www.hello.test','prj_hellofixtureaaaaaaaa','',NULL,0,'fixture-token-www','2025-03-04 06:00:00 +0000 UTC','2025-03-04 06:00:00 +0000 UTC','','','',NULL,'','2026-11-30 21:03:28.328 +0000 UTC');
INSERT INTO domains VALUES('hello.test','prj_hellofixtureaaaaaaaa','','www.hello.test',308,'fixture-token-apex',NULL,NULL,'','','',NULL,'','2026-11-30 21:03:28.33 +0000 UTC');
INSERT INTO domains VALUES('feature.hello.test','prj_hellofixtureaaaaaaaa','feature-x',NULL,0,'fixture-token-feature',NULL,NULL,'','','',NULL,'','2026-11-30 21:34:41.79 +0000 UTC');
CREATE TABLE IF NOT EXISTS "hostnames" (
		hostname TEXT PRIMARY KEY,
		project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
		kind TEXT NOT NULL CHECK (kind IN ('deployment', 'production', 'branch')),
		deployment_id TEXT REFERENCES deployments(id) ON DELETE CASCADE,
		pinned INTEGER NOT NULL DEFAULT 0,
		git_branch TEXT NOT NULL DEFAULT '', custom INTEGER NOT NULL DEFAULT 0,
		CHECK (kind <> 'deployment' OR deployment_id IS NOT NULL),
		CHECK ((kind = 'branch') = (git_branch <> ''))
	);
INSERT INTO hostnames VALUES('hello-holdproda.localhost','prj_hellofixtureaaaaaaaa','deployment','dpl_holdprodaaaaaaaaaaaa',0,'',0);
INSERT INTO hostnames VALUES('hello-hproducti.localhost','prj_hellofixtureaaaaaaaa','deployment','dpl_hproductionaaaaaaaaa',0,'',0);
INSERT INTO hostnames VALUES('hello-hpreviewa.localhost','prj_hellofixtureaaaaaaaa','deployment','dpl_hpreviewaaaaaaaaaaaa',0,'',0);
INSERT INTO hostnames VALUES('api-aerroraaa.localhost','prj_apifixtureaaaaaaaaaa','deployment','dpl_aerroraaaaaaaaaaaaaa',0,'',0);
INSERT INTO hostnames VALUES('api-acanceled.localhost','prj_apifixtureaaaaaaaaaa','deployment','dpl_acanceledaaaaaaaaaaa',0,'',0);
INSERT INTO hostnames VALUES('hello.localhost','prj_hellofixtureaaaaaaaa','production','dpl_hproductionaaaaaaaaa',0,'',0);
INSERT INTO hostnames VALUES('api.localhost','prj_apifixtureaaaaaaaaaa','production',NULL,0,'',0);
INSERT INTO hostnames VALUES('www.hello.test','prj_hellofixtureaaaaaaaa','production','dpl_hproductionaaaaaaaaa',0,'',1);
INSERT INTO hostnames VALUES('hello.test','prj_hellofixtureaaaaaaaa','production','dpl_hproductionaaaaaaaaa',0,'',1);
INSERT INTO hostnames VALUES('hello-git-feature-x.localhost','prj_hellofixtureaaaaaaaa','branch','dpl_hpreviewaaaaaaaaaaaa',0,'feature-x',0);
INSERT INTO hostnames VALUES('feature.hello.test','prj_hellofixtureaaaaaaaa','branch','dpl_hpreviewaaaaaaaaaaaa',0,'feature-x',1);
CREATE TABLE nodes (
		id TEXT PRIMARY KEY,
		version TEXT NOT NULL,
		http_address TEXT NOT NULL,
		api_address TEXT NOT NULL,
		started_at TIMESTAMP NOT NULL,
		seen_at TIMESTAMP NOT NULL,
		instances INTEGER NOT NULL,
		builds INTEGER NOT NULL
	);
INSERT INTO nodes VALUES('fixture-node','0.1.0-fixture','127.0.0.1:3080','127.0.0.1:3443','2026-11-30 09:00:00 +0000 UTC','2026-11-30 09:01:00 +0000 UTC',3,1);
CREATE TABLE usage (
		project_id TEXT NOT NULL,
		day TEXT NOT NULL,
		requests INTEGER NOT NULL,
		bytes_out INTEGER NOT NULL,
		memory_mb_millis INTEGER NOT NULL,
		build_millis INTEGER NOT NULL, team_id TEXT NOT NULL DEFAULT '',
		PRIMARY KEY (project_id, day)
	);
INSERT INTO usage VALUES('prj_hellofixtureaaaaaaaa','2025-03-04',120,48000,2048000,95000,'team_default');
INSERT INTO usage VALUES('prj_hellofixtureaaaaaaaa','2025-03-05',7,2800,512000,0,'team_default');
INSERT INTO usage VALUES('prj_deletedfixtureaaaaaa','2025-03-04',3,900,0,41000,'');
INSERT INTO usage VALUES('prj_deletedwithteamaaaaa','2025-03-06',9,900,0,0,'team_default');
CREATE TABLE teams (
		id TEXT PRIMARY KEY,
		name TEXT NOT NULL UNIQUE,
		created_at TIMESTAMP NOT NULL
	, plan TEXT NOT NULL DEFAULT '');
INSERT INTO teams VALUES('team_default','default','2025-03-04 05:06:07+00:00','');
INSERT INTO teams VALUES('team_fixtureaaaaaaaaaaa','platform','2026-12-01 03:14:59.001 +0000 UTC','pro');
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
INSERT INTO tokens VALUES('tok_fixtureaaaaaaaaaaaa','team_fixtureaaaaaaaaaaa','ci','5f0c8b0c2a0e3f3b7d6d9d1f0ae2c2fbd8a7c0d8f1b7f2e5d9c8a3b4e6f70123','ferry_fixt','["deploy"]','["prj_apifixtureaaaaaaaaaa"]','2027-01-01 00:00:00 +0000 UTC',NULL,NULL,'2026-12-01 03:14:59.023 +0000 UTC');
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
INSERT INTO audit_events VALUES(1,'2026-12-01 03:00:00 +0000 UTC','token','tok_fixtureaaaaaaaaaaaa','ci','team_fixtureaaaaaaaaaaa','deployment.create','/v1/deployments','192.0.2.7',201,'');
CREATE TABLE secret_keys (
		fingerprint TEXT PRIMARY KEY,
		wrapped_data_key BLOB NOT NULL,
		created_at TIMESTAMP NOT NULL
	);
INSERT INTO secret_keys VALUES('f7f43e4a3647d4082816',X'50c5fb00f671b7f1ac707bd0601e6596b9c08affbbc2f2a0f262b673dcfa31f703552150c56f52681432feb7e908427b097a39da7ef44396bba94464','2025-03-04 05:08:07 +0000 UTC');
CREATE TABLE preview_protection (
		project_id TEXT PRIMARY KEY REFERENCES projects(id) ON DELETE CASCADE,
		sealed_password BLOB NOT NULL,
		password_digest TEXT NOT NULL,
		sealed_bypass BLOB,
		bypass_digest TEXT NOT NULL DEFAULT '',
		updated_at TIMESTAMP NOT NULL
	);
INSERT INTO preview_protection VALUES('prj_apifixtureaaaaaaaaaa',X'ca777e0a5651715d451cbfd61965bd8311a8ec20d983405b7ed284527c9879b52939ec','hmac-sha256:6904d25db15c71efd7d55b43e2d0263a6525d8e26c9f7889ce4d36d859aaa9bd',X'3ddad3d53c83f54bd4989f6bb68486d13e69a94edf25f62da9f2c8518b4f38f7aa8bfc236373bcbffd8c1e58e2b389b223148d59ffe0b1a4a344a42848','hmac-sha256:47b4f7ce96dd511f186ef3586546ae041a81208b52da6f8b9f2141bf651a6569','2025-03-04 05:08:07 +0000 UTC');
CREATE TABLE webhooks (
		id TEXT PRIMARY KEY,
		team_id TEXT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
		url TEXT NOT NULL,
		events TEXT NOT NULL,
		projects TEXT NOT NULL,
		sealed_secret BLOB NOT NULL,
		created_at TIMESTAMP NOT NULL,
		updated_at TIMESTAMP NOT NULL
	);
INSERT INTO webhooks VALUES('hook_fixtureaaaaaaaaaaa','team_fixtureaaaaaaaaaaa','https://hooks.example.com/ferry','["deployment.created","deployment.ready"]','[]',X'9251dfcc430fa04ab729e57acfa2cbd038a80b691b5a9e07ee4d3a4be303aeaaf62651afa2992bb853ca2b3d928240','2026-12-01 04:00:29.96 +0000 UTC','2026-12-01 04:00:29.96 +0000 UTC');
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
INSERT INTO webhook_deliveries VALUES(1,'dlv_fixtureaaaaaaaaaaa1','hook_fixtureaaaaaaaaaaa','evt_fixtureaaaaaaaaaaa1','deployment.created',X'7b226964223a226576745f66697874757265616161616161616161616131222c2274797065223a226465706c6f796d656e742e63726561746564227d','delivered',1,204,'',1796097629961,'',0,'2026-12-01 04:00:29.961 +0000 UTC','2026-12-01 04:00:29.962 +0000 UTC');
INSERT INTO webhook_deliveries VALUES(2,'dlv_fixtureaaaaaaaaaaa2','hook_fixtureaaaaaaaaaaa','evt_fixtureaaaaaaaaaaa2','deployment.ready',X'7b226964223a226576745f66697874757265616161616161616161616132222c2274797065223a226465706c6f796d656e742e7265616479227d','pending',0,0,'',1796097629961,'',0,'2026-12-01 04:00:29.961 +0000 UTC',NULL);
DELETE FROM sqlite_sequence;
INSERT INTO sqlite_sequence VALUES('audit_events',1);
INSERT INTO sqlite_sequence VALUES('webhook_deliveries',2);
CREATE INDEX env_vars_project ON env_vars(project_id, key);
CREATE INDEX deployments_project ON deployments(project_id, created_at);
CREATE INDEX deployments_queue ON deployments(state, created_at);
CREATE INDEX integrations_project ON integrations(project_id, created_at);
CREATE INDEX env_var_targets_integration ON env_var_targets(integration_id);
CREATE INDEX domains_project ON domains(project_id, name);
CREATE INDEX domains_redirect ON domains(redirect);
CREATE INDEX deployments_build_key ON deployments(project_id, build_key);
CREATE INDEX deployments_build_of ON deployments(build_of);
CREATE INDEX hostnames_project ON hostnames(project_id, kind);
CREATE INDEX hostnames_deployment ON hostnames(deployment_id);
CREATE UNIQUE INDEX hostnames_branch ON hostnames(project_id, git_branch) WHERE kind = 'branch' AND custom = 0;
CREATE INDEX projects_team ON projects(team_id);
CREATE UNIQUE INDEX tokens_active_name ON tokens(team_id, name) WHERE revoked_at IS NULL;
CREATE INDEX audit_events_team ON audit_events(team_id, id);
CREATE INDEX webhooks_team ON webhooks(team_id);
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries(state, next_attempt_at);
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries(webhook_id, seq);
CREATE INDEX usage_team_day ON usage(team_id, day);
CREATE TRIGGER deployments_ready AFTER UPDATE OF state ON deployments
		WHEN (OLD.state = 'READY') <> (NEW.state = 'READY')
		BEGIN UPDATE routes_version SET version = version + 1; END;
CREATE TRIGGER projects_renamed AFTER UPDATE OF name ON projects
		WHEN OLD.name <> NEW.name
		BEGIN UPDATE routes_version SET version = version + 1; END;
CREATE TRIGGER domains_inserted AFTER INSERT ON domains
		BEGIN UPDATE routes_version SET version = version + 1; END;
CREATE TRIGGER domains_routed AFTER UPDATE OF verified_at, redirect, redirect_status ON domains
		WHEN (OLD.verified_at IS NULL) <> (NEW.verified_at IS NULL) OR OLD.redirect IS NOT NEW.redirect OR OLD.redirect_status <> NEW.redirect_status
		BEGIN UPDATE routes_version SET version = version + 1; END;
CREATE TRIGGER domains_deleted AFTER DELETE ON domains
		BEGIN UPDATE routes_version SET version = version + 1; END;
CREATE TRIGGER hostnames_inserted AFTER INSERT ON hostnames
		BEGIN UPDATE routes_version SET version = version + 1; END;
CREATE TRIGGER hostnames_updated AFTER UPDATE ON hostnames
		BEGIN UPDATE routes_version SET version = version + 1; END;
CREATE TRIGGER hostnames_deleted AFTER DELETE ON hostnames
		BEGIN UPDATE routes_version SET version = version + 1; END;
CREATE TRIGGER preview_protection_inserted AFTER INSERT ON preview_protection
		BEGIN UPDATE routes_version SET version = version + 1; END;
CREATE TRIGGER preview_protection_updated AFTER UPDATE ON preview_protection
		BEGIN UPDATE routes_version SET version = version + 1; END;
CREATE TRIGGER preview_protection_deleted AFTER DELETE ON preview_protection
		BEGIN UPDATE routes_version SET version = version + 1; END;
PRAGMA user_version = 20;
