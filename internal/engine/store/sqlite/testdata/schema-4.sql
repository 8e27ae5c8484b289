-- A store of schema version 4, as an engine of that schema wrote it, with data in it.
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
INSERT INTO env_vars VALUES ('env_greetingaaaaaaaaaaaa', 'prj_hellofixtureaaaaaaaa', 'GREETING', X'26D7DFE568D27AD1D893EED74C5D384FF2B3E4566351760C2DD545BF6C7D59500D3055C0C0BF7D840E8826C169ED4ED4FA31', 'hmac-sha256:7ac4cf6dd5b169eaf50da79d27848bdf3b10fa712de80f092c732ae8d612728b', 'production,preview', '', '', '2025-03-04 05:06:07 +0000 UTC', '2025-03-04 05:06:07 +0000 UTC');
INSERT INTO env_vars VALUES ('env_featureaaaaaaaaaaaaa', 'prj_hellofixtureaaaaaaaa', 'FEATURE', X'79F64D1BA665D098EEE93A619E949C67417857B84281BEA34E6C1AE88CA2', 'hmac-sha256:b0ad0ac4fa655e312207eda6184315db4eeb78cbde89761430ffa98b8cd0bd65', 'preview', 'feature-x', 'only on feature-x', '2025-03-04 05:06:07 +0000 UTC', '2025-03-04 05:06:07 +0000 UTC');
INSERT INTO env_vars VALUES ('env_tokenaaaaaaaaaaaaaaa', 'prj_apifixtureaaaaaaaaaa', 'API_TOKEN', X'28D92F43C16777D259FA82EFEA4562FD35A4E32B7980F0EBE60B8F1B12FEC89E433C03CB8B128947', 'hmac-sha256:ab8e9fa46837027e94dce8da39a45a6a005347ae688cb515c9fa56b98b6fed78', 'production', '', '', '2025-03-04 05:06:07 +0000 UTC', '2025-03-04 05:06:07 +0000 UTC');
INSERT INTO deployments VALUES ('dpl_holdprodaaaaaaaaaaaa', 'prj_hellofixtureaaaaaaaa', 'production', 'READY', 'hello-holdproda.localhost', 'cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd', '[{"digest":"abababababababababababababababababababababababababababababababab","mode":420,"path":"app.py","size":120}]', X'F279B9846D8ADA8D1E6EA6C704856F1ACBDBB85D27FF6F94D377588B93C40B8AB6F609FDDF1D963AB64A88FA04738E69316F082F449A5B6FAD99C59FC0A3D47326C3414211E5676DA70AC07B6D92358C8B48233689FA6F74056FE066C06945565E3E009E6D8C75A99BAF1EFA09FD12D13997076AE0F37AAD2A166B26E9E79AE4549C8FEE70C7ACA161111D3B8FC8F6C732', '/var/lib/ferry/deployments/dpl_holdprodaaaaaaaaaaaa/src', '/var/lib/ferry/deployments/dpl_holdprodaaaaaaaaaaaa/venv/bin/python', 'app:app', 'wsgi', '', '2025-03-04 05:06:07 +0000 UTC', '2025-03-04 05:06:09 +0000 UTC', '', NULL);
INSERT INTO deployments VALUES ('dpl_hproductionaaaaaaaaa', 'prj_hellofixtureaaaaaaaa', 'production', 'READY', 'hello-hproducti.localhost', 'cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd', '[{"digest":"abababababababababababababababababababababababababababababababab","mode":420,"path":"app.py","size":120}]', X'4F9B8C6CF54E251C5AFB4B480411EB9384B6EA79F6B4AA304A56E723FC6BC6B79BB66FDED86CD6C4224F96A6088D29F10978DBFA45D4668F2A2E9C36EBA4FE4F02AE086123E7C06DA657B7F4035DEF82F4A9A23AF57B28F4E7C80995E82DC629FF42DE9DADC4F156C96393B0D733526D6AB1FFC7947386B952790A4DA91975F88EAE24152DE8EF758523724B9BCA67A0B8', '/var/lib/ferry/deployments/dpl_hproductionaaaaaaaaa/src', '/var/lib/ferry/deployments/dpl_hproductionaaaaaaaaa/venv/bin/python', 'app:app', 'wsgi', '', '2025-03-04 05:07:07 +0000 UTC', '2025-03-04 05:07:09 +0000 UTC', '', NULL);
INSERT INTO deployments VALUES ('dpl_hpreviewaaaaaaaaaaaa', 'prj_hellofixtureaaaaaaaa', 'preview', 'READY', 'hello-hpreviewa.localhost', 'cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd', '[{"digest":"abababababababababababababababababababababababababababababababab","mode":420,"path":"app.py","size":120}]', X'A710A91CCA86FA169951FD3BEE201E65B8F353D919569CD4E648D8293F73A7371E6015F397F5127AB5FD3BF10F18AB50971A23A9BF7F36B5A699FECB93E464214753640E12AF1C4D33F7E24AD94CA35868763D9BD5999756A3F9AEDCDB801219EE72370C2C05223FF3BA49148CA0F5B18379C20F7AF1A96E8CBC798AD2C561A27F95D99165E9E79901D86B58E838', '/var/lib/ferry/deployments/dpl_hpreviewaaaaaaaaaaaa/src', '/var/lib/ferry/deployments/dpl_hpreviewaaaaaaaaaaaa/venv/bin/python', 'app:app', 'wsgi', '', '2025-03-04 05:08:07 +0000 UTC', '2025-03-04 05:08:09 +0000 UTC', '', NULL);
INSERT INTO deployments VALUES ('dpl_aerroraaaaaaaaaaaaaa', 'prj_apifixtureaaaaaaaaaa', 'production', 'ERROR', 'api-aerroraaa.localhost', 'cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd', '[{"digest":"abababababababababababababababababababababababababababababababab","mode":420,"path":"app.py","size":120}]', X'FBCE4235F22A2BA52A8F24090E0DE98AE630ABF27343984ED6DB9D1F60E998D7186B09FEA9B30044C00706A80C4BE82BBDF18965EE95C9C6E13EB6C369653563C691ECDCD58A16E804D69E1B7C85EDD06F4EFBBC907E65106BBF00AF3E447A3FA9CEFC908A13FA169704EDBE6C2E349C3EDDE23601D2993FF4C7BBE6D718167E837AF5498403B67D5221E074710EA9C126', '', '', '', '', 'no entrypoint: add app.py', '2025-03-04 05:09:07 +0000 UTC', NULL, '', NULL);
INSERT INTO deployments VALUES ('dpl_acanceledaaaaaaaaaaa', 'prj_apifixtureaaaaaaaaaa', 'production', 'CANCELED', 'api-acanceled.localhost', 'cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd', '[{"digest":"abababababababababababababababababababababababababababababababab","mode":420,"path":"app.py","size":120}]', X'C9F219B088B548D7AD84746FFDC01A4793AA657661ACB70F7A2DC0D853CD4D0FBA0CB9B6E86B3B2B35ABE2926C2927C60C9444B75D27E476670B977A44AE8AE569F7D6BE0D0C469A248F976B09A1B529CBE68E86883B664B64AA2F3E8A9BA35AA747BE9D434EF0F0BB12AF4106C84CA1797460AE7B3F516053445474D06061A194D90C58E8E2A5D62B1BC0D8D0A6B75019', '', '', '', '', '', '2025-03-04 05:10:07 +0000 UTC', NULL, '', NULL);
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
PRAGMA user_version = 4;
