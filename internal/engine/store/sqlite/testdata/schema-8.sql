-- A store of schema version 8, as an engine of that schema wrote it, with data in it.
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
	, claimed_by TEXT NOT NULL DEFAULT '', lease_until INTEGER, run_spec TEXT);
INSERT INTO "deployments" VALUES('dpl_holdprodaaaaaaaaaaaa','prj_hellofixtureaaaaaaaa','production','READY','hello-holdproda.localhost','cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd','[{"digest":"abababababababababababababababababababababababababababababababab","mode":420,"path":"app.py","size":120}]',X'82ACB6C301B3B6663497932FB8709DC9257BF181EAE16D1C7B96BD6007AC10CCB144BFE77D39A77277DD8EE264B2E0204722CBF752DE0C407238140E51E5060F93A6CAD167D51746634F506E43829CE366720669F0E8E703917FC731FFCCEE7AD5EDABBB4E7CC2E0E3AC335138F09BD7DA21FA3A436F62D66F9761639F7829DC4253A3F8661AED7113632B40D5E04012C5','','2025-03-04 05:06:07 +0000 UTC','2025-03-04 05:06:09 +0000 UTC','',NULL,'{"app_dir":"src","python":"venv/bin/python","entrypoint":"app:app","kind":"wsgi","uid":1200000,"limits":{"memory_mb":2048,"cpu":1,"processes":256,"open_files":4096,"build_minutes":45}}');
INSERT INTO "deployments" VALUES('dpl_hproductionaaaaaaaaa','prj_hellofixtureaaaaaaaa','production','READY','hello-hproducti.localhost','cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd','[{"digest":"abababababababababababababababababababababababababababababababab","mode":420,"path":"app.py","size":120}]',X'1D063C0FA5A06D3A69BE876D37B794D88B86347359D53505F6412DEF274F912DF23C6102CE943AE92326B99D902DB824A2E4BC2E9853BDBCF0F5BA89213436C08A66DCE5A143BBEC340450DFA669CD059EAE564B0FF121A0CE99366AF45DC755EB404519BA1015CBB2A619F680C81C6C74AD4CF8E12837E31B30490C9D2C6041D638A7FF0621991D7A7F177DB5001823BE','','2025-03-04 05:07:07 +0000 UTC','2025-03-04 05:07:09 +0000 UTC','',NULL,'{"app_dir":"src","python":"venv/bin/python","entrypoint":"app:app","kind":"wsgi","uid":1200000,"limits":{"memory_mb":2048,"cpu":1,"processes":256,"open_files":4096,"build_minutes":45}}');
INSERT INTO "deployments" VALUES('dpl_hpreviewaaaaaaaaaaaa','prj_hellofixtureaaaaaaaa','preview','READY','hello-hpreviewa.localhost','cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd','[{"digest":"abababababababababababababababababababababababababababababababab","mode":420,"path":"app.py","size":120}]',X'65D01BAB58F1469D307D201D70B4B16A4E7D174400FE8BFFFAAF6FF93D158D34265A8CF4004D9EC68948826EE5A4E0B6583DFF786B1FC4460A4C25BC6A12C25D39B42C0C7607B945E2F1569BF90E4CD722AB1F57BB360FA72BFEA38B25DE7DEB943D04EDD9DDD1F13E9E40EDE3B8249DD6A066158389B440F5CA3E2D45DDD673357CAD95401E005D4BA1083485A0','','2025-03-04 05:08:07 +0000 UTC','2025-03-04 05:08:09 +0000 UTC','',NULL,'{"app_dir":"src","python":"venv/bin/python","entrypoint":"app:app","kind":"wsgi","uid":1200000,"limits":{"memory_mb":2048,"cpu":1,"processes":256,"open_files":4096,"build_minutes":45}}');
INSERT INTO "deployments" VALUES('dpl_aerroraaaaaaaaaaaaaa','prj_apifixtureaaaaaaaaaa','production','ERROR','api-aerroraaa.localhost','cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd','[{"digest":"abababababababababababababababababababababababababababababababab","mode":420,"path":"app.py","size":120}]',X'F8D20FADDF0A182228B3D571C3B4FAD1DCC534FD84986B14AC2DCE148DA1CCBB794766675EAB4E766CEAC86E37C4076BF4BFD0318EE1074EC3D71F6469A0795D32A57CAC633FFBDA721401CF3B2BEE5F9CE98B5A89B4FE1F6D8EC8EE3F8DE31A477BB6E31A95391A6C63B45CE80FD916D77488FB8F68BDC6AF29F621BFFEA62D6FF50E3E72DF7B5C184ADE759EF01021A6','no entrypoint: add app.py','2025-03-04 05:09:07 +0000 UTC',NULL,'',NULL,NULL);
INSERT INTO "deployments" VALUES('dpl_acanceledaaaaaaaaaaa','prj_apifixtureaaaaaaaaaa','production','CANCELED','api-acanceled.localhost','cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd','[{"digest":"abababababababababababababababababababababababababababababababab","mode":420,"path":"app.py","size":120}]',X'4DD892E14331F0270CAF5681F755494C88D58AC6A806B77FC32897C577741F8CF8B6C6DECF81EA6424C7D642457CBBAABCF74AE51DBF779C2264C14D2A2E81FE071EF9DCE09DE1A840531E9D6469A4722CDF3EA1E711B2AF8AA42313F56EE430B2B80B1320F2998DE848BA6CCCFA9914149C134AC9CAC00A7129A65D2080CD1AFCE5303B4C68D5563678EE73DA69C8A82B','','2025-03-04 05:10:07 +0000 UTC',NULL,'',NULL,NULL);
CREATE TABLE env_var_targets (
		env_var_id TEXT NOT NULL REFERENCES env_vars(id) ON DELETE CASCADE,
		project_id TEXT NOT NULL,
		key TEXT NOT NULL,
		git_branch TEXT NOT NULL,
		target TEXT NOT NULL,
		PRIMARY KEY (env_var_id, target),
		UNIQUE (project_id, key, git_branch, target)
	);
INSERT INTO "env_var_targets" VALUES('env_greetingaaaaaaaaaaaa','prj_hellofixtureaaaaaaaa','GREETING','','production');
INSERT INTO "env_var_targets" VALUES('env_greetingaaaaaaaaaaaa','prj_hellofixtureaaaaaaaa','GREETING','','preview');
INSERT INTO "env_var_targets" VALUES('env_featureaaaaaaaaaaaaa','prj_hellofixtureaaaaaaaa','FEATURE','feature-x','preview');
INSERT INTO "env_var_targets" VALUES('env_tokenaaaaaaaaaaaaaaa','prj_apifixtureaaaaaaaaaa','API_TOKEN','','production');
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
INSERT INTO "env_vars" VALUES('env_greetingaaaaaaaaaaaa','prj_hellofixtureaaaaaaaa','GREETING',X'99D636C27647D74A784DC81B32CBF92C526EF419E714FE9B537E128E504DD87D12CDD6577203CC3EFB5EA374DAB3A93F3B60','hmac-sha256:7ac4cf6dd5b169eaf50da79d27848bdf3b10fa712de80f092c732ae8d612728b','','','2025-03-04 05:06:07 +0000 UTC','2025-03-04 05:06:07 +0000 UTC');
INSERT INTO "env_vars" VALUES('env_featureaaaaaaaaaaaaa','prj_hellofixtureaaaaaaaa','FEATURE',X'609F5341D1210A10441A47779ED91C718D8BEE09FB798E7BD68860D8FF7B','hmac-sha256:b0ad0ac4fa655e312207eda6184315db4eeb78cbde89761430ffa98b8cd0bd65','feature-x','only on feature-x','2025-03-04 05:06:07 +0000 UTC','2025-03-04 05:06:07 +0000 UTC');
INSERT INTO "env_vars" VALUES('env_tokenaaaaaaaaaaaaaaa','prj_apifixtureaaaaaaaaaa','API_TOKEN',X'943C2E89EEF926601F6A3004D8D6668DC5985374DF32FFE1B90B4A136A00551F5E0CE369F4793B29','hmac-sha256:ab8e9fa46837027e94dce8da39a45a6a005347ae688cb515c9fa56b98b6fed78','','','2025-03-04 05:06:07 +0000 UTC','2025-03-04 05:06:07 +0000 UTC');
CREATE TABLE hostnames (
		hostname TEXT PRIMARY KEY,
		project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
		kind TEXT NOT NULL CHECK (kind IN ('deployment', 'production')),
		deployment_id TEXT REFERENCES deployments(id) ON DELETE CASCADE, pinned INTEGER NOT NULL DEFAULT 0,
		CHECK (kind <> 'deployment' OR deployment_id IS NOT NULL)
	);
INSERT INTO "hostnames" VALUES('hello-holdproda.localhost','prj_hellofixtureaaaaaaaa','deployment','dpl_holdprodaaaaaaaaaaaa',0);
INSERT INTO "hostnames" VALUES('hello-hproducti.localhost','prj_hellofixtureaaaaaaaa','deployment','dpl_hproductionaaaaaaaaa',0);
INSERT INTO "hostnames" VALUES('hello-hpreviewa.localhost','prj_hellofixtureaaaaaaaa','deployment','dpl_hpreviewaaaaaaaaaaaa',0);
INSERT INTO "hostnames" VALUES('api-aerroraaa.localhost','prj_apifixtureaaaaaaaaaa','deployment','dpl_aerroraaaaaaaaaaaaaa',0);
INSERT INTO "hostnames" VALUES('api-acanceled.localhost','prj_apifixtureaaaaaaaaaa','deployment','dpl_acanceledaaaaaaaaaaa',0);
INSERT INTO "hostnames" VALUES('hello.localhost','prj_hellofixtureaaaaaaaa','production','dpl_hproductionaaaaaaaaa',0);
INSERT INTO "hostnames" VALUES('api.localhost','prj_apifixtureaaaaaaaaaa','production',NULL,0);
CREATE TABLE project_limits (
		project_id TEXT PRIMARY KEY REFERENCES projects(id) ON DELETE CASCADE,
		limits TEXT NOT NULL
	);
INSERT INTO "project_limits" VALUES('prj_apifixtureaaaaaaaaaa','{"memory_mb":512,"cpu":0.5}');
CREATE TABLE project_sandboxes (
		project_id TEXT PRIMARY KEY,
		uid INTEGER NOT NULL UNIQUE
	);
INSERT INTO "project_sandboxes" VALUES('prj_hellofixtureaaaaaaaa',1200000);
INSERT INTO "project_sandboxes" VALUES('prj_apifixtureaaaaaaaaaa',1200001);
CREATE TABLE projects (
		id TEXT PRIMARY KEY,
		name TEXT NOT NULL UNIQUE,
		framework TEXT NOT NULL,
		root_directory TEXT NOT NULL,
		install_command TEXT,
		build_command TEXT,
		created_at TIMESTAMP NOT NULL,
		updated_at TIMESTAMP NOT NULL
	);
INSERT INTO "projects" VALUES('prj_hellofixtureaaaaaaaa','hello','flask','.',NULL,NULL,'2025-03-04 05:06:07 +0000 UTC','2025-03-04 05:06:07 +0000 UTC');
INSERT INTO "projects" VALUES('prj_apifixtureaaaaaaaaaa','api','fastapi','backend','pip install -r requirements.txt','python build.py','2025-03-04 05:06:07 +0000 UTC','2025-03-04 05:07:07 +0000 UTC');
CREATE TABLE routes_version (
		singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
		version INTEGER NOT NULL
	);
INSERT INTO "routes_version" VALUES(1,8);
CREATE INDEX env_vars_project ON env_vars(project_id, key);
CREATE INDEX deployments_project ON deployments(project_id, created_at);
CREATE INDEX deployments_queue ON deployments(state, created_at);
CREATE INDEX hostnames_project ON hostnames(project_id, kind);
CREATE INDEX hostnames_deployment ON hostnames(deployment_id);
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
		BEGIN UPDATE routes_version SET version = version + 1; END;
PRAGMA user_version = 8;
