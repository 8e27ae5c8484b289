package dburl

// What each driver reads from a URL, and what it needs added.

// schemes is the URL scheme each driver takes. SQLAlchemy picks its dialect
// from the scheme and, since 1.4, refuses postgres://.
var schemes = map[Driver]string{
	AsyncPG:            "postgresql",
	Psycopg:            "postgresql",
	Psycopg2:           "postgresql",
	SQLAlchemyAsyncPG:  "postgresql+asyncpg",
	SQLAlchemyPsycopg2: "postgresql+psycopg2",
	SQLAlchemyPsycopg:  "postgresql+psycopg",
	Prisma:             "postgresql",
}

var schemeReasons = map[Driver]string{
	AsyncPG:            "the scheme every driver accepts",
	Psycopg:            "the scheme every driver accepts",
	Psycopg2:           "the scheme every driver accepts",
	SQLAlchemyAsyncPG:  "SQLAlchemy picks its dialect and driver from the scheme",
	SQLAlchemyPsycopg2: "SQLAlchemy picks its dialect and driver from the scheme",
	SQLAlchemyPsycopg:  "SQLAlchemy picks its dialect and driver from the scheme (psycopg 3 needs SQLAlchemy 2.0)",
	Prisma:             "the scheme every driver accepts",
}

// unreadParameters says why a parameter the driver does not read must go.
var unreadParameters = map[Driver]string{
	AsyncPG:            "asyncpg does not read it, and would send it to the server as a setting, which the server or pooler refuses",
	Psycopg:            "not a libpq keyword: libpq refuses the whole URL",
	Psycopg2:           "not a libpq keyword: libpq refuses the whole URL",
	SQLAlchemyAsyncPG:  "SQLAlchemy would pass it to asyncpg.connect(), which takes no such argument, or no string for it",
	SQLAlchemyPsycopg2: "not a libpq keyword: libpq refuses the whole URL",
	SQLAlchemyPsycopg:  "not a libpq keyword: libpq refuses the whole URL",
	Prisma:             "Prisma does not read it",
}

// sslModes are libpq's values of sslmode, which asyncpg takes as well.
var sslModes = []string{"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}

func set(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// libpqParameters are libpq's connection keywords (PostgreSQL 16), which
// psycopg2 and psycopg 3 hand to libpq.
var libpqParameters = set("host", "hostaddr", "port", "dbname", "user", "password", "passfile", "require_auth",
	"channel_binding", "connect_timeout", "client_encoding", "options", "application_name",
	"fallback_application_name", "keepalives", "keepalives_idle", "keepalives_interval", "keepalives_count",
	"tcp_user_timeout", "replication", "gssencmode", "sslmode", "requiressl", "sslcompression", "sslcert", "sslkey",
	"sslpassword", "sslcertmode", "sslrootcert", "sslcrl", "sslcrldir", "sslsni", "requirepeer",
	"ssl_min_protocol_version", "ssl_max_protocol_version", "krbsrvname", "gsslib", "gssdelegation", "service",
	"target_session_attrs", "load_balance_hosts")

// parameters are what each driver reads from a URL's query.
var parameters = map[Driver]map[string]bool{
	// asyncpg's DSN parser; it sends anything else to the server as a setting.
	// application_name is such a setting, one that servers and poolers accept.
	AsyncPG: set("host", "port", "dbname", "database", "user", "password", "passfile", "sslmode", "sslcert", "sslkey",
		"sslrootcert", "sslcrl", "sslpassword", "ssl_min_protocol_version", "ssl_max_protocol_version", "application_name"),
	Psycopg:            libpqParameters,
	Psycopg2:           libpqParameters,
	SQLAlchemyPsycopg2: libpqParameters,
	SQLAlchemyPsycopg:  libpqParameters,
	// SQLAlchemy passes parameters to asyncpg.connect() as keyword arguments,
	// as strings: only ssl takes a string; prepared_statement_cache_size is
	// SQLAlchemy's own, converted to a number.
	SQLAlchemyAsyncPG: set("ssl", "prepared_statement_cache_size"),
	// Prisma's PostgreSQL connector.
	Prisma: set("schema", "connection_limit", "connect_timeout", "pool_timeout", "socket_timeout", "sslmode", "sslcert",
		"sslidentity", "sslpassword", "sslaccept", "pgbouncer", "statement_cache_size", "application_name", "options", "host"),
}

// addition is a parameter a driver needs through a transaction pooler.
type addition struct{ key, value, why string }

var additions = map[Driver][]addition{
	SQLAlchemyAsyncPG: {{"prepared_statement_cache_size", "0",
		"SQLAlchemy's own cache of prepared statements cannot outlive a transaction on a transaction pooler"}},
	Prisma: {{"pgbouncer", "true",
		"Prisma's setting for a transaction pooler: no named prepared statements"}},
}

// driverSettings are what the runtime sets in the driver through a
// transaction pooler, where a URL cannot say it.
var driverSettings = map[Driver][]string{
	AsyncPG:           {AsyncPGNoStatementCache, AsyncPGUniqueStatements},
	SQLAlchemyAsyncPG: {AsyncPGNoStatementCache, AsyncPGUniqueStatements},
	Psycopg:           {PsycopgNoPreparedQueries},
	SQLAlchemyPsycopg: {PsycopgNoPreparedQueries},
}

var driverSettingReasons = map[Driver]string{
	AsyncPG: "at run time, asyncpg's statement cache is turned off and every prepared statement gets a unique name " +
		"(" + DriverSettingsEnv + "): through a transaction pooler, consecutive transactions may run on different server " +
		"connections, where cached statements do not exist and fixed names collide",
	SQLAlchemyAsyncPG: "at run time, asyncpg's statement cache is turned off and every prepared statement gets a unique name " +
		"(" + DriverSettingsEnv + "): SQLAlchemy prepares every statement, and through a transaction pooler fixed names " +
		"collide on shared server connections",
	Psycopg: "at run time, psycopg's automatic prepared statements are turned off (prepare_threshold=None, " +
		DriverSettingsEnv + "): through a transaction pooler their fixed names collide on shared server connections",
	SQLAlchemyPsycopg: "at run time, psycopg's automatic prepared statements are turned off (prepare_threshold=None, " +
		DriverSettingsEnv + "): through a transaction pooler their fixed names collide on shared server connections",
}
