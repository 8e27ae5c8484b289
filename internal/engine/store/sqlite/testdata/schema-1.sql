-- A store of schema version 1, as an engine of that schema wrote it, with data in it.
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
INSERT INTO projects VALUES ('prj_hellofixtureaaaaaaaa', 'hello', 'flask', '.', NULL, NULL, '2025-03-04 05:06:07 +0000 UTC', '2025-03-04 05:06:07 +0000 UTC');
INSERT INTO projects VALUES ('prj_apifixtureaaaaaaaaaa', 'api', 'fastapi', 'backend', 'pip install -r requirements.txt', 'python build.py', '2025-03-04 05:06:07 +0000 UTC', '2025-03-04 05:07:07 +0000 UTC');
INSERT INTO env_vars VALUES ('env_greetingaaaaaaaaaaaa', 'prj_hellofixtureaaaaaaaa', 'GREETING', X'040AFBD0E9F4DD6E6CC1BE70BA591F107739FE6AB2BFFF15246EEEA3C9CBB8DEE1F5DF688CA4D16D00DB74B8D2072A56041E', 'hmac-sha256:7ac4cf6dd5b169eaf50da79d27848bdf3b10fa712de80f092c732ae8d612728b', 'production,preview', '', '', '2025-03-04 05:06:07 +0000 UTC', '2025-03-04 05:06:07 +0000 UTC');
INSERT INTO env_vars VALUES ('env_featureaaaaaaaaaaaaa', 'prj_hellofixtureaaaaaaaa', 'FEATURE', X'BC90AAE7C351F8115B0B42799BB74B52974183E4D137FC9367E9319F96C8', 'hmac-sha256:b0ad0ac4fa655e312207eda6184315db4eeb78cbde89761430ffa98b8cd0bd65', 'preview', 'feature-x', 'only on feature-x', '2025-03-04 05:06:07 +0000 UTC', '2025-03-04 05:06:07 +0000 UTC');
INSERT INTO env_vars VALUES ('env_tokenaaaaaaaaaaaaaaa', 'prj_apifixtureaaaaaaaaaa', 'API_TOKEN', X'106867D75B4F7323E743E6980E0F53F744F5D3EC804BD31BEE34D91B3EC80C1C6F57FAC4C5E008C5', 'hmac-sha256:ab8e9fa46837027e94dce8da39a45a6a005347ae688cb515c9fa56b98b6fed78', 'production', '', '', '2025-03-04 05:06:07 +0000 UTC', '2025-03-04 05:06:07 +0000 UTC');
INSERT INTO deployments VALUES ('dpl_holdprodaaaaaaaaaaaa', 'prj_hellofixtureaaaaaaaa', 'production', 'READY', 'hello-holdproda.localhost', 'cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd', '[{"digest":"abababababababababababababababababababababababababababababababab","mode":420,"path":"app.py","size":120}]', X'430A0F83023E44D25F154BBF5DEF24C8C798D9908FB96927FF7569250D7977D9BDBB1B80DAC4E4F632D050BAA0529068569C9300FDD752032C8F74F9782439995754738AFB943FCD61670C444AC4585FDEDA5DF07711AABD57ED9803BE2614089B8C3F18283704F05588E5E99425C6A238BA613D95ADB6A51D08B44608F214CCABBECEB092AE4BC156C300B40AF7F77C12', '/var/lib/ferry/deployments/dpl_holdprodaaaaaaaaaaaa/src', '/var/lib/ferry/deployments/dpl_holdprodaaaaaaaaaaaa/venv/bin/python', 'app:app', 'wsgi', '', '2025-03-04 05:06:07 +0000 UTC', '2025-03-04 05:06:09 +0000 UTC');
INSERT INTO deployments VALUES ('dpl_hproductionaaaaaaaaa', 'prj_hellofixtureaaaaaaaa', 'production', 'READY', 'hello-hproducti.localhost', 'cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd', '[{"digest":"abababababababababababababababababababababababababababababababab","mode":420,"path":"app.py","size":120}]', X'8993FB5092422902CA6D3AC735E4967804ECC44ECC6A72E9C56F856EB61B151FE18899CAD953058426DD49F7734B653C93F29036AEE593E98DECA141365C2B7714625EA5346D0FA7A3F150C1843C21F5873BDD80C210EC59BB2DC27BDB05AE91F41F22FEDE73AEC3FC3E7FD6368E6B199DC8AAFDAB488485FDCB507DC9D77E5E36E3D648B84BCE42125623193CBD2D9371', '/var/lib/ferry/deployments/dpl_hproductionaaaaaaaaa/src', '/var/lib/ferry/deployments/dpl_hproductionaaaaaaaaa/venv/bin/python', 'app:app', 'wsgi', '', '2025-03-04 05:07:07 +0000 UTC', '2025-03-04 05:07:09 +0000 UTC');
INSERT INTO deployments VALUES ('dpl_hpreviewaaaaaaaaaaaa', 'prj_hellofixtureaaaaaaaa', 'preview', 'READY', 'hello-hpreviewa.localhost', 'cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd', '[{"digest":"abababababababababababababababababababababababababababababababab","mode":420,"path":"app.py","size":120}]', X'3633DD922318433EA381EF66F3A26B735D51CB3A6AB9C6A67C54EE2722915EBDD6F7B8F696C73749E91827A549F3C89BC1C09842C9A26A0162C053DC529C9C1816AAF5844C3DE8F753AE30117762A5E395FF07C947E71417F86CA44901E6CB4B6DE1E4BD4D91F534BB015749D13EBC5E3EAA782608551E0FBFB346FECC7C6BF0D662073DD029B6C2F88ACBE1EB01', '/var/lib/ferry/deployments/dpl_hpreviewaaaaaaaaaaaa/src', '/var/lib/ferry/deployments/dpl_hpreviewaaaaaaaaaaaa/venv/bin/python', 'app:app', 'wsgi', '', '2025-03-04 05:08:07 +0000 UTC', '2025-03-04 05:08:09 +0000 UTC');
INSERT INTO deployments VALUES ('dpl_aerroraaaaaaaaaaaaaa', 'prj_apifixtureaaaaaaaaaa', 'production', 'ERROR', 'api-aerroraaa.localhost', 'cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd', '[{"digest":"abababababababababababababababababababababababababababababababab","mode":420,"path":"app.py","size":120}]', X'74827F2A54A6FF1200B709B7FCD559E04272E38E81426B04A4AE252050639A8C5CE0AE1B05065664123C21C37F10731368E441A3144537FC44BAA10C63C8ADFABF110ADD8C0EFE9A0946C19BC294FFB9C6ACB565837F308DC4E95E7EB64D8166DDC7548D16E3A4DDB97A5A50E9E6CAC45604E2943AC88CB074F7988983CEAD5CD523221F8795ED2B283EECA2B753887B60', '', '', '', '', 'no entrypoint: add app.py', '2025-03-04 05:09:07 +0000 UTC', NULL);
INSERT INTO deployments VALUES ('dpl_acanceledaaaaaaaaaaa', 'prj_apifixtureaaaaaaaaaa', 'production', 'CANCELED', 'api-acanceled.localhost', 'cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd', '[{"digest":"abababababababababababababababababababababababababababababababab","mode":420,"path":"app.py","size":120}]', X'CD4D693BD21CD26DFFDF1A27BD9CC26F2C38882FB1374760E621E40260C2E0071EA8B8A34A788731F53627FA11859DF0D55E5E6EEC1E7A84D517B9632788FFE4C118008B897084A3F1DFB14E7DA964C4155B67CB29291AE242E480DFB630AEAA6D2E26A6ABF5216E735FAAF512DE4B8D1541F37F6DB28401EB9CE1560500BBF6A09E35D7A14E254CBD8D05542CB17973E6', '', '', '', '', '', '2025-03-04 05:10:07 +0000 UTC', NULL);
INSERT INTO aliases VALUES ('hello.localhost', 'prj_hellofixtureaaaaaaaa', 'dpl_hproductionaaaaaaaaa', 1);
INSERT INTO aliases VALUES ('api.localhost', 'prj_apifixtureaaaaaaaaaa', NULL, 1);
CREATE INDEX env_vars_project ON env_vars(project_id, key);
CREATE INDEX deployments_project ON deployments(project_id, created_at);
PRAGMA user_version = 1;
