-- A store of schema version 3, as an engine of that schema wrote it, with data in it.
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
INSERT INTO env_vars VALUES ('env_greetingaaaaaaaaaaaa', 'prj_hellofixtureaaaaaaaa', 'GREETING', X'AB0B68E7A45AAAADD9B62AF5623BD81A67381EFB603C1CE25D27D6C8FBD6F8885F809CCB0761DE6155FCAF7CB10D5B740854', 'hmac-sha256:7ac4cf6dd5b169eaf50da79d27848bdf3b10fa712de80f092c732ae8d612728b', 'production,preview', '', '', '2025-03-04 05:06:07 +0000 UTC', '2025-03-04 05:06:07 +0000 UTC');
INSERT INTO env_vars VALUES ('env_featureaaaaaaaaaaaaa', 'prj_hellofixtureaaaaaaaa', 'FEATURE', X'EB47484A3505872C32D82E9F1D240E53AD43788AE01D7EC00F56057CDDE0', 'hmac-sha256:b0ad0ac4fa655e312207eda6184315db4eeb78cbde89761430ffa98b8cd0bd65', 'preview', 'feature-x', 'only on feature-x', '2025-03-04 05:06:07 +0000 UTC', '2025-03-04 05:06:07 +0000 UTC');
INSERT INTO env_vars VALUES ('env_tokenaaaaaaaaaaaaaaa', 'prj_apifixtureaaaaaaaaaa', 'API_TOKEN', X'822A8928182C345326F1F6BECCE41D034728ED53C22AC25DE29B5B4CFDB3FD0C1CFEC41736E61DAE', 'hmac-sha256:ab8e9fa46837027e94dce8da39a45a6a005347ae688cb515c9fa56b98b6fed78', 'production', '', '', '2025-03-04 05:06:07 +0000 UTC', '2025-03-04 05:06:07 +0000 UTC');
INSERT INTO deployments VALUES ('dpl_holdprodaaaaaaaaaaaa', 'prj_hellofixtureaaaaaaaa', 'production', 'READY', 'hello-holdproda.localhost', 'cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd', '[{"digest":"abababababababababababababababababababababababababababababababab","mode":420,"path":"app.py","size":120}]', X'62D05F899FE4A61F9687342FBB5B5182D156D105A8A9F287591FF8A8CBAD94C8C36898C105EAF2F1F0B85BACD241040A9C370E23387FEC156E5028A7E1DAD3A5E481F41A578D2D24BFC3229B4481D6C8AA7E2A27E790688190CF916A51A4FECA0D2FF4729C5F672A080C9B5A39C36359B88546FE85BA4E9EE4772DB79A4C0ACC7CEE8613D2DF0947D6668AC6F3A0880E90', '/var/lib/ferry/deployments/dpl_holdprodaaaaaaaaaaaa/src', '/var/lib/ferry/deployments/dpl_holdprodaaaaaaaaaaaa/venv/bin/python', 'app:app', 'wsgi', '', '2025-03-04 05:06:07 +0000 UTC', '2025-03-04 05:06:09 +0000 UTC', '', NULL);
INSERT INTO deployments VALUES ('dpl_hproductionaaaaaaaaa', 'prj_hellofixtureaaaaaaaa', 'production', 'READY', 'hello-hproducti.localhost', 'cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd', '[{"digest":"abababababababababababababababababababababababababababababababab","mode":420,"path":"app.py","size":120}]', X'F0C53A2342E1E68FB968EBF35D5F18EE8C8D3858BC6AB624E6B09527929E35A103E451D810B71BA36B5D18FD168A7D8FDB87541817BE628A222AAE1C919A601C5BBA147DA2D96A3B8FD1A7E06DBEB1F6FC19E892F44D8B7CB54A925C400AB6A0BC2B5513781A16AFAC714B719070B8BA32A138E0BE32CAE0EC2E7C9D9BC73B9253EC8D53B6ECB7F3D4E4B4505F087D47FE', '/var/lib/ferry/deployments/dpl_hproductionaaaaaaaaa/src', '/var/lib/ferry/deployments/dpl_hproductionaaaaaaaaa/venv/bin/python', 'app:app', 'wsgi', '', '2025-03-04 05:07:07 +0000 UTC', '2025-03-04 05:07:09 +0000 UTC', '', NULL);
INSERT INTO deployments VALUES ('dpl_hpreviewaaaaaaaaaaaa', 'prj_hellofixtureaaaaaaaa', 'preview', 'READY', 'hello-hpreviewa.localhost', 'cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd', '[{"digest":"abababababababababababababababababababababababababababababababab","mode":420,"path":"app.py","size":120}]', X'6F77C379BCEC38DFC9F1DB688CBB0BCF9BB17BED0D2713AB79B8F3C4FD78FEA618CB19027893129E9E255761DC5A5799EC3D06CDD40991E8625C4B4FA77802264B5ED1492557088E6D9C0E53994C022410BE6073948806D677F0B0E8003CA72BC321811A168E860AE0682D75B017ED8F45A62D88B0B7949E8E67C816DEC7C4E4CC4E8F7D4EAB4DC44D47A2E09167', '/var/lib/ferry/deployments/dpl_hpreviewaaaaaaaaaaaa/src', '/var/lib/ferry/deployments/dpl_hpreviewaaaaaaaaaaaa/venv/bin/python', 'app:app', 'wsgi', '', '2025-03-04 05:08:07 +0000 UTC', '2025-03-04 05:08:09 +0000 UTC', '', NULL);
INSERT INTO deployments VALUES ('dpl_aerroraaaaaaaaaaaaaa', 'prj_apifixtureaaaaaaaaaa', 'production', 'ERROR', 'api-aerroraaa.localhost', 'cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd', '[{"digest":"abababababababababababababababababababababababababababababababab","mode":420,"path":"app.py","size":120}]', X'987FCE8AF4CC1251682E78A75F5C4AB0923CCF9545F58B0CC8E0EBA8ABC51D1C4308B03D77AB6526B3BB05540CEE2ABBB52BE6B14325AA403DF35C1B32836FEDBB86586C0C3FED666F452D4B995505E033357FCE07104D1D1062B265DBE9129567C7D3AEEDC2F7B2BCADA6C3C62D309CDA2DB928855BD5D46434010CB4CBB8014EB04EC429D798BBCE15B5B6BFE2AA2936', '', '', '', '', 'no entrypoint: add app.py', '2025-03-04 05:09:07 +0000 UTC', NULL, '', NULL);
INSERT INTO deployments VALUES ('dpl_acanceledaaaaaaaaaaa', 'prj_apifixtureaaaaaaaaaa', 'production', 'CANCELED', 'api-acanceled.localhost', 'cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd', '[{"digest":"abababababababababababababababababababababababababababababababab","mode":420,"path":"app.py","size":120}]', X'0BC6B04AEF8118A6438EC616CFB61A98916C17E8E36BCBBBC6B56CC82A25C836F54DF8423F4CCDC59167F93FF32327151A1C68D2CF6A6025C306E42AC6FB2B6D117EEE47A3CA6FD366BD181124078943AA5FAC02CB6302099BDC1BDA8CA22CD7E7091E24A70F42EEFB850EEC80DB0AA34BADA832AB6F00E360B98C83A9A3BAA6056AF9E46E49BC1002FAEC52666ACE8233', '', '', '', '', '', '2025-03-04 05:10:07 +0000 UTC', NULL, '', NULL);
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
CREATE INDEX deployments_queue ON deployments(state, created_at);
PRAGMA user_version = 3;
