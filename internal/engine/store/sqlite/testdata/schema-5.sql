-- A store of schema version 5, as an engine of that schema wrote it, with data in it.
-- Frozen: never regenerate it from newer code. Values are sealed with testdata/secret.key.
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
	, claimed_by TEXT NOT NULL DEFAULT '', lease_until INTEGER);
CREATE TABLE project_sandboxes (
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
	);
CREATE TABLE hostnames (
		hostname TEXT PRIMARY KEY,
		project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
		kind TEXT NOT NULL CHECK (kind IN ('deployment', 'production')),
		deployment_id TEXT REFERENCES deployments(id) ON DELETE CASCADE,
		CHECK (kind <> 'deployment' OR deployment_id IS NOT NULL)
	);
CREATE TABLE routes_version (
		singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
		version INTEGER NOT NULL
	);
INSERT INTO projects VALUES ('prj_hellofixtureaaaaaaaa', 'hello', 'flask', '.', NULL, NULL, '2025-03-04 05:06:07 +0000 UTC', '2025-03-04 05:06:07 +0000 UTC');
INSERT INTO projects VALUES ('prj_apifixtureaaaaaaaaaa', 'api', 'fastapi', 'backend', 'pip install -r requirements.txt', 'python build.py', '2025-03-04 05:06:07 +0000 UTC', '2025-03-04 05:07:07 +0000 UTC');
INSERT INTO env_vars VALUES ('env_greetingaaaaaaaaaaaa', 'prj_hellofixtureaaaaaaaa', 'GREETING', X'6DE101BDD549802E2476626746E7E00DDBC450E2DF07CDB24452A3D6B3B1C3CCDF40B3588AF9B4FDA0DFC220943D634D2D69', 'hmac-sha256:7ac4cf6dd5b169eaf50da79d27848bdf3b10fa712de80f092c732ae8d612728b', 'production,preview', '', '', '2025-03-04 05:06:07 +0000 UTC', '2025-03-04 05:06:07 +0000 UTC');
INSERT INTO env_vars VALUES ('env_featureaaaaaaaaaaaaa', 'prj_hellofixtureaaaaaaaa', 'FEATURE', X'C4C50BC895B4252DAE09FD44D92B00373AD70A077DB2D3D164E3BBFA68D3', 'hmac-sha256:b0ad0ac4fa655e312207eda6184315db4eeb78cbde89761430ffa98b8cd0bd65', 'preview', 'feature-x', 'only on feature-x', '2025-03-04 05:06:07 +0000 UTC', '2025-03-04 05:06:07 +0000 UTC');
INSERT INTO env_vars VALUES ('env_tokenaaaaaaaaaaaaaaa', 'prj_apifixtureaaaaaaaaaa', 'API_TOKEN', X'1B519E51974241504C9D853DA9BA524F09FB496D20F5E38245294B5B526B9DF1B838FE502FFECDCF', 'hmac-sha256:ab8e9fa46837027e94dce8da39a45a6a005347ae688cb515c9fa56b98b6fed78', 'production', '', '', '2025-03-04 05:06:07 +0000 UTC', '2025-03-04 05:06:07 +0000 UTC');
INSERT INTO deployments VALUES ('dpl_holdprodaaaaaaaaaaaa', 'prj_hellofixtureaaaaaaaa', 'production', 'READY', 'hello-holdproda.localhost', 'cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd', '[{"digest":"abababababababababababababababababababababababababababababababab","mode":420,"path":"app.py","size":120}]', X'27D968AEE087FD80FB6D6E657E16AAE51F8B7D84C78158C1B0D78C90AB3D8077D6BD08B7B12BA50791EC332DAA15F589A743CF0F8E1EB0AD770F41C673ECCA16931346352D555D5EAF8FA65689D86D24AFBFCE04B2F79F4757C92038E47785F06EFCBA5E6EED81AB856DD26A7CEC904C196F1371B3077C04E9153AFD517F108EC0345275BF56C494F416167B3F90206BF4', 'src', 'venv/bin/python', 'app:app', 'wsgi', '', '2025-03-04 05:06:07 +0000 UTC', '2025-03-04 05:06:09 +0000 UTC', '', NULL);
INSERT INTO deployments VALUES ('dpl_hproductionaaaaaaaaa', 'prj_hellofixtureaaaaaaaa', 'production', 'READY', 'hello-hproducti.localhost', 'cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd', '[{"digest":"abababababababababababababababababababababababababababababababab","mode":420,"path":"app.py","size":120}]', X'CC1EB5EA1D95EDA49D2ECCF779BCF4DE468F9B2968B9301561FD89C1C51A57AC64A02FEE88F80006191CEB444C2D271029812B71E16848DB514C88C5534B371F7D777539B8AD7D9737E62439F0559AF0F5CDA095195BFB3376800F49F767D6ECAE11DF2BCA5661B0140E125D7312CEC7904359263C2E2C73451879462680C7B49B6F52A84FE711D492ACD3517D79E33C56', 'src', 'venv/bin/python', 'app:app', 'wsgi', '', '2025-03-04 05:07:07 +0000 UTC', '2025-03-04 05:07:09 +0000 UTC', '', NULL);
INSERT INTO deployments VALUES ('dpl_hpreviewaaaaaaaaaaaa', 'prj_hellofixtureaaaaaaaa', 'preview', 'READY', 'hello-hpreviewa.localhost', 'cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd', '[{"digest":"abababababababababababababababababababababababababababababababab","mode":420,"path":"app.py","size":120}]', X'D4067F1B792D37324EAD339B087B8EBA56D5F0C7DAAE9BD45087B902CD348859F7AFCF2C402EE9AE7E691246B131FFC0372094FDCAC944F814032F94CE657D6A974E6A04C93A530EDA51C67A0FE160AF32AEEEE5760BF137BE19DC16E4EE3263BE5FE7B9F855A0ED528037EA23CA8C50F10D19AABD48A9E0D064EC539F0FD139481FE758CEC6144AED12D8B9CB04', 'src', 'venv/bin/python', 'app:app', 'wsgi', '', '2025-03-04 05:08:07 +0000 UTC', '2025-03-04 05:08:09 +0000 UTC', '', NULL);
INSERT INTO deployments VALUES ('dpl_aerroraaaaaaaaaaaaaa', 'prj_apifixtureaaaaaaaaaa', 'production', 'ERROR', 'api-aerroraaa.localhost', 'cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd', '[{"digest":"abababababababababababababababababababababababababababababababab","mode":420,"path":"app.py","size":120}]', X'D2B8480DBE42183E7CB3A4D18036473185B842D0E0C339C5C5294C052F176406400FE98F677644B699EB052B7C1A64B770B3CEEB3AA42B85217D815A233976F41C3FEA52CDC4097CE4BE7A3A22353A9E55EC6F1D0F4CA5317831AFFE590C7EBC66DF935F246EC01E9F800B603115B8FB13D5116AFAEF194C429AE04522C002B28649D71D2AE4F43727F24BFC7071CB8257', '', '', '', '', 'no entrypoint: add app.py', '2025-03-04 05:09:07 +0000 UTC', NULL, '', NULL);
INSERT INTO deployments VALUES ('dpl_acanceledaaaaaaaaaaa', 'prj_apifixtureaaaaaaaaaa', 'production', 'CANCELED', 'api-acanceled.localhost', 'cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd', '[{"digest":"abababababababababababababababababababababababababababababababab","mode":420,"path":"app.py","size":120}]', X'EC99A02ACBA5930A48CA655039E70F2347B9AA333B486BD4BB44F3D44ED25E0E230D0F5BF9B1B536D81023669FEDC3ECCAEEF84CCD9614C687AA103853098FCEFF94EC1465E19BB31DDA5A9CE3E70276ACD061AEF280AFE6CF0C65C7AD2DD9DD7F8BE0F994C007291F714938C67F471410CE40A9A3AB8B953B10DBE4A24D3B937118A4656B1D923F98D62B73D26F529436', '', '', '', '', '', '2025-03-04 05:10:07 +0000 UTC', NULL, '', NULL);
INSERT INTO project_sandboxes VALUES ('prj_hellofixtureaaaaaaaa', 1200000);
INSERT INTO project_sandboxes VALUES ('prj_apifixtureaaaaaaaaaa', 1200001);
INSERT INTO project_limits VALUES ('prj_apifixtureaaaaaaaaaa', '{"memory_mb":512,"cpu":0.5}');
INSERT INTO deployment_sandboxes VALUES ('dpl_holdprodaaaaaaaaaaaa', 1200000, '{"memory_mb":2048,"cpu":1,"processes":256,"open_files":4096,"build_minutes":45}');
INSERT INTO deployment_sandboxes VALUES ('dpl_hproductionaaaaaaaaa', 1200000, '{"memory_mb":2048,"cpu":1,"processes":256,"open_files":4096,"build_minutes":45}');
INSERT INTO deployment_sandboxes VALUES ('dpl_hpreviewaaaaaaaaaaaa', 1200000, '{"memory_mb":2048,"cpu":1,"processes":256,"open_files":4096,"build_minutes":45}');
INSERT INTO hostnames VALUES ('hello-holdproda.localhost', 'prj_hellofixtureaaaaaaaa', 'deployment', 'dpl_holdprodaaaaaaaaaaaa');
INSERT INTO hostnames VALUES ('hello-hproducti.localhost', 'prj_hellofixtureaaaaaaaa', 'deployment', 'dpl_hproductionaaaaaaaaa');
INSERT INTO hostnames VALUES ('hello-hpreviewa.localhost', 'prj_hellofixtureaaaaaaaa', 'deployment', 'dpl_hpreviewaaaaaaaaaaaa');
INSERT INTO hostnames VALUES ('api-aerroraaa.localhost', 'prj_apifixtureaaaaaaaaaa', 'deployment', 'dpl_aerroraaaaaaaaaaaaaa');
INSERT INTO hostnames VALUES ('api-acanceled.localhost', 'prj_apifixtureaaaaaaaaaa', 'deployment', 'dpl_acanceledaaaaaaaaaaa');
INSERT INTO hostnames VALUES ('hello.localhost', 'prj_hellofixtureaaaaaaaa', 'production', 'dpl_hproductionaaaaaaaaa');
INSERT INTO hostnames VALUES ('api.localhost', 'prj_apifixtureaaaaaaaaaa', 'production', NULL);
INSERT INTO routes_version VALUES (1, 8);
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
PRAGMA user_version = 5;
