-- A store of schema version 2, as an engine of that schema wrote it, with data in it.
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
	);
CREATE TABLE aliases (
		hostname TEXT PRIMARY KEY,
		project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
		deployment_id TEXT REFERENCES deployments(id) ON DELETE SET NULL,
		production INTEGER NOT NULL
	);
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
INSERT INTO projects VALUES ('prj_hellofixtureaaaaaaaa', 'hello', 'flask', '.', NULL, NULL, '2025-03-04 05:06:07 +0000 UTC', '2025-03-04 05:06:07 +0000 UTC');
INSERT INTO projects VALUES ('prj_apifixtureaaaaaaaaaa', 'api', 'fastapi', 'backend', 'pip install -r requirements.txt', 'python build.py', '2025-03-04 05:06:07 +0000 UTC', '2025-03-04 05:07:07 +0000 UTC');
INSERT INTO env_vars VALUES ('env_greetingaaaaaaaaaaaa', 'prj_hellofixtureaaaaaaaa', 'GREETING', X'175B8400134364E9ED7731A2CE9F9A1966D0378DAA7A973E4FF1A876C532843D90A3B83608C074025FB3E429C5CEFFE03760', 'hmac-sha256:7ac4cf6dd5b169eaf50da79d27848bdf3b10fa712de80f092c732ae8d612728b', 'production,preview', '', '', '2025-03-04 05:06:07 +0000 UTC', '2025-03-04 05:06:07 +0000 UTC');
INSERT INTO env_vars VALUES ('env_featureaaaaaaaaaaaaa', 'prj_hellofixtureaaaaaaaa', 'FEATURE', X'B735C42B0261FEC32EC10FAB86765D4A679C8EEB112CD3FBAE977FBCF34F', 'hmac-sha256:b0ad0ac4fa655e312207eda6184315db4eeb78cbde89761430ffa98b8cd0bd65', 'preview', 'feature-x', 'only on feature-x', '2025-03-04 05:06:07 +0000 UTC', '2025-03-04 05:06:07 +0000 UTC');
INSERT INTO env_vars VALUES ('env_tokenaaaaaaaaaaaaaaa', 'prj_apifixtureaaaaaaaaaa', 'API_TOKEN', X'9A349688F03675B6E20C91DB3CC18CEFBF40F6D369A7B2DBB16E65653A6110D9101D2D243D7B9744', 'hmac-sha256:ab8e9fa46837027e94dce8da39a45a6a005347ae688cb515c9fa56b98b6fed78', 'production', '', '', '2025-03-04 05:06:07 +0000 UTC', '2025-03-04 05:06:07 +0000 UTC');
INSERT INTO deployments VALUES ('dpl_holdprodaaaaaaaaaaaa', 'prj_hellofixtureaaaaaaaa', 'production', 'READY', 'hello-holdproda.localhost', 'cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd', '[{"digest":"abababababababababababababababababababababababababababababababab","mode":420,"path":"app.py","size":120}]', X'C6D5576694E219E102D0D5563667D1BB5E3C145E523C94C5DF81A39957DF599572919DE627D95207073CFA59C63D7C123C16ECBA50FC3CD9A1FF63056508B5CCB62EFF0E5FF36708DE01EA9E3534A45C0E8AF1C29646FB0C0A6810800BE35D059289AD6E95D123AB709624256CF2BDB4AC0C15B1CD695338DF212427E5520A1BC6B26FD72EDD39C07B51A2CBAB1DB2373F', '/var/lib/ferry/deployments/dpl_holdprodaaaaaaaaaaaa/src', '/var/lib/ferry/deployments/dpl_holdprodaaaaaaaaaaaa/venv/bin/python', 'app:app', 'wsgi', '', '2025-03-04 05:06:07 +0000 UTC', '2025-03-04 05:06:09 +0000 UTC');
INSERT INTO deployments VALUES ('dpl_hproductionaaaaaaaaa', 'prj_hellofixtureaaaaaaaa', 'production', 'READY', 'hello-hproducti.localhost', 'cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd', '[{"digest":"abababababababababababababababababababababababababababababababab","mode":420,"path":"app.py","size":120}]', X'CDB7B1E7021CE5B91C02F93B344710503948F6F577E799D29E5825E925D804EC52E670C623C391FA3EE9C5EDBA9F97A5DF54ED88AD5CC28BDB6559125ADC5CCB9E02BC0F2BC257EC50D511A87C8EA2552057A1B1F6F03ED4F2D4BFAB6D656064C64B053B9A930E5BDF4A3D1F6C89871D771A0002336AE71A1643C5912973295AC204C5894F0642F937E09DA91BDDDB1FF0', '/var/lib/ferry/deployments/dpl_hproductionaaaaaaaaa/src', '/var/lib/ferry/deployments/dpl_hproductionaaaaaaaaa/venv/bin/python', 'app:app', 'wsgi', '', '2025-03-04 05:07:07 +0000 UTC', '2025-03-04 05:07:09 +0000 UTC');
INSERT INTO deployments VALUES ('dpl_hpreviewaaaaaaaaaaaa', 'prj_hellofixtureaaaaaaaa', 'preview', 'READY', 'hello-hpreviewa.localhost', 'cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd', '[{"digest":"abababababababababababababababababababababababababababababababab","mode":420,"path":"app.py","size":120}]', X'780D176469A0C0D5941760C8B4537FBF329C45E3AAF79ED475656EDCC9C723A6C2F113197A52B364B7001CFA6F9E5982DB7072E9D4F6BB71996E37379728855FAF4F434BBF99A1620542C5F9ABEFFB6186F9FA44E349F9F570E613F134DF6C95307DE2A85D621812C9E27F7AB8F26E3F9E25134E4DF7F91D4912845D6ED3FCBA45D644C78043D89F2B00D82F39B6', '/var/lib/ferry/deployments/dpl_hpreviewaaaaaaaaaaaa/src', '/var/lib/ferry/deployments/dpl_hpreviewaaaaaaaaaaaa/venv/bin/python', 'app:app', 'wsgi', '', '2025-03-04 05:08:07 +0000 UTC', '2025-03-04 05:08:09 +0000 UTC');
INSERT INTO deployments VALUES ('dpl_aerroraaaaaaaaaaaaaa', 'prj_apifixtureaaaaaaaaaa', 'production', 'ERROR', 'api-aerroraaa.localhost', 'cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd', '[{"digest":"abababababababababababababababababababababababababababababababab","mode":420,"path":"app.py","size":120}]', X'C64DEF7051D572E6B2ABF21278D7500F7037E0408A25BE7C27F8E9720257E6A8F25BEEA0132853FF3E433E6A53E117316255AE458CA7EC2B5BFCB8C3036736302E5B8168B54A17DB13F76A4DE70720CE5244DDA690CC83B14421AA87E08E57E05C9E79965670DA672AFF46C5F311A39ED54A3DAED198F0E90E329E1635EA6DD98BFE3BAF6573AE7D34CF3E70B662D0F11D', '', '', '', '', 'no entrypoint: add app.py', '2025-03-04 05:09:07 +0000 UTC', NULL);
INSERT INTO deployments VALUES ('dpl_acanceledaaaaaaaaaaa', 'prj_apifixtureaaaaaaaaaa', 'production', 'CANCELED', 'api-acanceled.localhost', 'cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd', '[{"digest":"abababababababababababababababababababababababababababababababab","mode":420,"path":"app.py","size":120}]', X'9998476ADFE26BA25687CFFC2FF436374F5B8F04057235129FB3DB1A476BCB9606D4E25F8CE4B1F20B6A296E0498E0E7F0581345B69795D80E123A82788F52E34EA22D79FF235CB722E23F243FB61FF1C6CA633D0D4E6A71E128CA85DA75AD814AE3C2D46968EAD390B729264EE6511F244A7B253C3FEB2BB55DF37DBB2ABC8347CCE00BC5AF1638BD9347F82C91E5A612', '', '', '', '', '', '2025-03-04 05:10:07 +0000 UTC', NULL);
INSERT INTO aliases VALUES ('hello.localhost', 'prj_hellofixtureaaaaaaaa', 'dpl_hproductionaaaaaaaaa', 1);
INSERT INTO aliases VALUES ('api.localhost', 'prj_apifixtureaaaaaaaaaa', NULL, 1);
INSERT INTO project_sandboxes VALUES ('prj_hellofixtureaaaaaaaa', 1200000);
INSERT INTO project_sandboxes VALUES ('prj_apifixtureaaaaaaaaaa', 1200001);
INSERT INTO project_limits VALUES ('prj_apifixtureaaaaaaaaaa', '{"memory_mb":512,"cpu":0.5}');
INSERT INTO deployment_sandboxes VALUES ('dpl_holdprodaaaaaaaaaaaa', 1200000, '{"memory_mb":2048,"cpu":1,"processes":256,"open_files":4096,"build_minutes":45}');
INSERT INTO deployment_sandboxes VALUES ('dpl_hproductionaaaaaaaaa', 1200000, '{"memory_mb":2048,"cpu":1,"processes":256,"open_files":4096,"build_minutes":45}');
INSERT INTO deployment_sandboxes VALUES ('dpl_hpreviewaaaaaaaaaaaa', 1200000, '{"memory_mb":2048,"cpu":1,"processes":256,"open_files":4096,"build_minutes":45}');
CREATE INDEX env_vars_project ON env_vars(project_id, key);
CREATE INDEX deployments_project ON deployments(project_id, created_at);
PRAGMA user_version = 2;
