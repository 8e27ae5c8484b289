package dburl

import (
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// The shapes Supabase's dashboard and Vercel's Supabase integration hand out.
const (
	password = "s3cr3t-pw"
	// Dashboard, Connect, Transaction pooler; Vercel's POSTGRES_URL.
	transactionURL = "postgres://postgres.abcdefghijklmnopqrst:" + password + "@aws-0-eu-central-1.pooler.supabase.com:6543/postgres?sslmode=require&supa=base-pooler.x"
	// Vercel's POSTGRES_PRISMA_URL.
	prismaURL = transactionURL + "&pgbouncer=true"
	// Vercel's POSTGRES_URL_NON_POOLING: the session pooler.
	sessionURL = "postgres://postgres.abcdefghijklmnopqrst:" + password + "@aws-0-eu-central-1.pooler.supabase.com:5432/postgres?sslmode=require"
	// Dashboard, Connect, Direct connection.
	directURL = "postgresql://postgres:" + password + "@db.abcdefghijklmnopqrst.supabase.co:5432/postgres"
)

func TestSanitizeTheDashboardsURLForEachDriver(t *testing.T) {
	const pooler = "postgres.abcdefghijklmnopqrst:" + password + "@aws-0-eu-central-1.pooler.supabase.com"
	for _, tc := range []struct {
		driver   Driver
		mode     PoolMode
		want     string
		settings []string
	}{
		{AsyncPG, "", "postgresql://" + pooler + ":6543/postgres?sslmode=require", []string{AsyncPGNoStatementCache, AsyncPGUniqueStatements}},
		{AsyncPG, Session, "postgresql://" + pooler + ":5432/postgres?sslmode=require", nil},
		{AsyncPG, Direct, "postgresql://postgres:" + password + "@db.abcdefghijklmnopqrst.supabase.co:5432/postgres?sslmode=require", nil},
		{Psycopg2, "", "postgresql://" + pooler + ":6543/postgres?sslmode=require", nil},
		{Psycopg, Transaction, "postgresql://" + pooler + ":6543/postgres?sslmode=require", []string{PsycopgNoPreparedQueries}},
		{SQLAlchemyAsyncPG, "", "postgresql+asyncpg://" + pooler + ":6543/postgres?ssl=require&prepared_statement_cache_size=0", []string{AsyncPGNoStatementCache, AsyncPGUniqueStatements}},
		{SQLAlchemyAsyncPG, Session, "postgresql+asyncpg://" + pooler + ":5432/postgres?ssl=require", nil},
		{SQLAlchemyPsycopg2, "", "postgresql+psycopg2://" + pooler + ":6543/postgres?sslmode=require", nil},
		{SQLAlchemyPsycopg, "", "postgresql+psycopg://" + pooler + ":6543/postgres?sslmode=require", []string{PsycopgNoPreparedQueries}},
		{Prisma, "", "postgresql://" + pooler + ":6543/postgres?sslmode=require&pgbouncer=true", nil},
		{Prisma, Session, "postgresql://" + pooler + ":5432/postgres?sslmode=require", nil},
	} {
		t.Run(string(tc.driver)+"/"+string(tc.mode), func(t *testing.T) {
			r, err := Sanitize(transactionURL, tc.driver, tc.mode)
			if err != nil {
				t.Fatal(err)
			}
			if r.URL != tc.want {
				t.Errorf("URL\n got %s\nwant %s", r.URL, tc.want)
			}
			if !slices.Equal(r.DriverSettings, tc.settings) {
				t.Errorf("driver settings %v, want %v", r.DriverSettings, tc.settings)
			}
			if tc.mode == "" && r.PoolMode != Transaction {
				t.Errorf("default pool mode %s, want transaction", r.PoolMode)
			}
			if !containsLine(r.Changes, "removed supa") {
				t.Errorf("changes do not say supa was removed: %q", r.Changes)
			}
		})
	}
}

func TestPrismaKeepsPgbouncerOnlyInTransactionMode(t *testing.T) {
	r, err := Sanitize(prismaURL, Prisma, Transaction)
	if err != nil {
		t.Fatal(err)
	}
	if q := parametersOf(t, r.URL); q.Get("pgbouncer") != "true" || q.Has("supa") {
		t.Errorf("transaction: %s", r.URL)
	}
	for _, mode := range []PoolMode{Session, Direct} {
		r, err := Sanitize(prismaURL, Prisma, mode)
		if err != nil {
			t.Fatal(err)
		}
		if parametersOf(t, r.URL).Has("pgbouncer") || !containsLine(r.Changes, "removed pgbouncer") {
			t.Errorf("%s: %s, %q", mode, r.URL, r.Changes)
		}
	}
	for _, driver := range Drivers {
		if driver == Prisma {
			continue
		}
		r, err := Sanitize(prismaURL, driver, Transaction)
		if err != nil {
			t.Fatal(err)
		}
		if parametersOf(t, r.URL).Has("pgbouncer") {
			t.Errorf("%s keeps pgbouncer, which only Prisma reads: %s", driver, r.URL)
		}
	}
}

// Every parameter left is one the driver reads, whatever came in.
func TestOnlyTheDriversParametersAreLeft(t *testing.T) {
	noisy := transactionURL + "&pgbouncer=true&connect_timeout=15&application_name=web&options=-c%20search_path%3Dapp&statement_cache_size=0&schema=public&connection_limit=1"
	for _, driver := range Drivers {
		for _, mode := range []PoolMode{Transaction, Session} {
			r, err := Sanitize(noisy, driver, mode)
			if err != nil {
				t.Fatal(err)
			}
			for key := range parametersOf(t, r.URL) {
				if !parameters[driver][key] {
					t.Errorf("%s %s: %s is left, but the driver does not read it: %s", driver, mode, key, r.URL)
				}
			}
		}
	}
	r, err := Sanitize(noisy, Psycopg2, Transaction)
	if err != nil {
		t.Fatal(err)
	}
	// libpq reads %20 as a space, but not +.
	if !strings.Contains(r.URL, "options=-c%20search_path%3Dapp") {
		t.Errorf("options lost its spaces: %s", r.URL)
	}
}

func TestPortFollowsThePoolModeOnSupabasesPooler(t *testing.T) {
	for _, tc := range []struct {
		raw  string
		mode PoolMode
		port string
	}{
		{transactionURL, Transaction, "6543"},
		{transactionURL, Session, "5432"},
		{sessionURL, Transaction, "6543"},
		{sessionURL, Session, "5432"},
		{sessionURL, "", "6543"}, // the pooler's default is transaction, whichever port was copied
	} {
		r, err := Sanitize(tc.raw, Psycopg2, tc.mode)
		if err != nil {
			t.Fatal(err)
		}
		if r.Port != tc.port || !strings.Contains(r.URL, ":"+tc.port+"/") {
			t.Errorf("%s through %q: port %s (%s), want %s", tc.raw, tc.mode, r.Port, r.URL, tc.port)
		}
	}
}

// The tenant user postgres.<ref> marks Supabase's pooler on any host, so a
// pooler on a loopback address (as in tests) or behind another name is one too.
func TestPoolerIsKnownByItsTenantUser(t *testing.T) {
	r, err := Sanitize("postgresql://postgres.abcdefghijklmnopqrst:pw@127.0.0.2:6543/postgres?supa=base-pooler.x", AsyncPG, Session)
	if err != nil {
		t.Fatal(err)
	}
	if r.URL != "postgresql://postgres.abcdefghijklmnopqrst:pw@127.0.0.2:5432/postgres" {
		t.Errorf("got %s", r.URL)
	}
}

func TestOtherHostsKeepTheirPort(t *testing.T) {
	for _, tc := range []struct {
		raw  string
		mode PoolMode // the default
	}{
		{"postgresql://app:pw@db.example.com/app", Direct},
		{"postgresql://app:pw@db.example.com:5432/app", Direct},
		{"postgresql://app:pw@db.example.com:6432/app", Transaction},
		{"postgresql://app:pw@[::1]:6543/app", Transaction},
	} {
		r, err := Sanitize(tc.raw, Psycopg2, "")
		if err != nil {
			t.Fatal(err)
		}
		if r.PoolMode != tc.mode {
			t.Errorf("%s: default pool mode %s, want %s", tc.raw, r.PoolMode, tc.mode)
		}
		for _, mode := range PoolModes {
			r, err := Sanitize(tc.raw, Psycopg2, mode)
			if err != nil {
				t.Fatal(err)
			}
			if r.URL != tc.raw {
				t.Errorf("%s through %s became %s", tc.raw, mode, r.URL)
			}
		}
	}
}

func TestDirectHostRefusesPoolModes(t *testing.T) {
	r, err := Sanitize(directURL, AsyncPG, "")
	if err != nil {
		t.Fatal(err)
	}
	if r.PoolMode != Direct || r.URL != directURL {
		t.Errorf("got %s %s", r.PoolMode, r.URL)
	}
	for _, mode := range []PoolMode{Transaction, Session} {
		_, err := Sanitize(directURL, AsyncPG, mode)
		if err == nil || !strings.Contains(err.Error(), "copy the pooler's connection string") {
			t.Errorf("%s on the direct host: %v", mode, err)
		}
	}
}

func TestPasswordIsEncodedForEveryDriver(t *testing.T) {
	for _, raw := range []string{
		"postgresql://postgres.abcdefghijklmnopqrst:p@ss w]rd@127.0.0.2:6543/postgres",       // as typed into the URL
		"postgresql://postgres.abcdefghijklmnopqrst:p%40ss%20w%5Drd@127.0.0.2:6543/postgres", // already encoded
	} {
		r, err := Sanitize(raw, Psycopg2, "")
		if err != nil {
			t.Fatal(err)
		}
		if r.Password != "p@ss w]rd" {
			t.Errorf("%s: password read as %q", raw, r.Password)
		}
		u, err := url.Parse(r.URL)
		if err != nil {
			t.Fatal(err)
		}
		if pw, _ := u.User.Password(); pw != "p@ss w]rd" {
			t.Errorf("%s: the sanitized URL's password reads back as %q", raw, pw)
		}
	}
}

func TestDatabaseNameIsAddedForSupabase(t *testing.T) {
	r, err := Sanitize("postgresql://postgres.abcdefghijklmnopqrst:pw@aws-0-eu-central-1.pooler.supabase.com:6543", Psycopg2, "")
	if err != nil {
		t.Fatal(err)
	}
	if r.Database != "postgres" || !strings.HasSuffix(r.URL, ":6543/postgres") {
		t.Errorf("got %s (database %q)", r.URL, r.Database)
	}
}

func TestBadInputIsExplainedWithoutThePassword(t *testing.T) {
	for _, tc := range []struct {
		raw, driver, mode, want string
	}{
		{"", "asyncpg", "", "the connection string is empty"},
		{"postgresql://postgres.abcdefghijklmnopqrst:[YOUR-PASSWORD]@x.pooler.supabase.com:6543/postgres", "asyncpg", "", "placeholder [YOUR-PASSWORD]"},
		{"host=db user=app password=" + password, "asyncpg", "", "not a URL"},
		{"mysql://app:" + password + "@db/app", "asyncpg", "", `scheme "mysql"`},
		{"postgresql://app:" + password + "@/app", "asyncpg", "", "names no host"},
		{"postgresql://app:" + password + "@db:99999/app", "asyncpg", "", "not a port number"},
		{"postgresql://app:" + password + "@a:5432,b:5432/app", "asyncpg", "", "several hosts"},
		{"postgresql://app:" + password + "#x@db/app", "asyncpg", "", "percent-encode"},
		{"postgresql://app:" + password + "/x@db/app", "asyncpg", "", "percent-encode"},
		{"postgresql://app:" + password + "@db/app?sslmode=always", "asyncpg", "", "sslmode=always is not one of"},
		{"postgresql://app:" + password + "@db/app?a=%zz", "asyncpg", "", "parameters (after ?) are malformed"},
		{transactionURL, "pg8000", "", `driver "pg8000" is not one ferry knows`},
		{transactionURL, "asyncpg", "pooled", `pool_mode "pooled" is not one of`},
	} {
		_, err := Sanitize(tc.raw, Driver(tc.driver), PoolMode(tc.mode))
		var p *ProblemError
		if !errors.As(err, &p) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want a ProblemError with %q", tc.raw, err, tc.want)
			continue
		}
		if strings.Contains(err.Error(), password) {
			t.Errorf("%q: the error shows the password: %v", tc.raw, err)
		}
	}
}

func TestChangesNeverShowThePassword(t *testing.T) {
	raw := "postgresql://postgres.abcdefghijklmnopqrst:" + password + "@127.0.0.2:6543?sslmode=require&supa=" + password + "&sslpassword=" + password
	for _, driver := range Drivers {
		for _, mode := range []PoolMode{Transaction, Session} {
			r, err := Sanitize(raw, driver, mode)
			if err != nil {
				t.Fatal(err)
			}
			for _, line := range r.Changes {
				if strings.Contains(line, password) {
					t.Errorf("%s %s: %q shows the password", driver, mode, line)
				}
			}
		}
	}
}

// FuzzSanitize checks that nothing panics and that neither errors nor
// changes ever show the password.
func FuzzSanitize(f *testing.F) {
	for _, seed := range []string{transactionURL, prismaURL, sessionURL, directURL, "postgresql://a:b@c:1/d?e=f", "postgres://u:p%zz@h/d"} {
		f.Add(seed, "pw-9f2c")
	}
	f.Fuzz(func(t *testing.T, raw, secret string) {
		if len(secret) < 6 || strings.ContainsAny(secret, "@:/?#[]%& +") || strings.Contains(raw, secret) {
			return
		}
		withSecret := strings.Replace(raw, "://", "://user:"+secret+"@", 1)
		for _, driver := range Drivers {
			r, err := Sanitize(withSecret, driver, "")
			if err != nil {
				if strings.Contains(err.Error(), secret) {
					t.Fatalf("error shows the password: %v", err)
				}
				continue
			}
			for _, line := range r.Changes {
				if strings.Contains(line, secret) {
					t.Fatalf("change shows the password: %q", line)
				}
			}
		}
	})
}

func parametersOf(t *testing.T, raw string) url.Values {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}

func containsLine(lines []string, prefix string) bool {
	return slices.ContainsFunc(lines, func(l string) bool { return strings.HasPrefix(l, prefix) })
}

func TestStandaloneChoosesTheSessionPoolerWhereTheDriverNeedsSettings(t *testing.T) {
	for _, tc := range []struct {
		driver Driver
		port   string
	}{
		{AsyncPG, "5432"}, {SQLAlchemyAsyncPG, "5432"}, {Psycopg, "5432"}, {SQLAlchemyPsycopg, "5432"},
		{Psycopg2, "6543"}, {SQLAlchemyPsycopg2, "6543"}, {Prisma, "6543"},
	} {
		r, err := Standalone(transactionURL, tc.driver)
		if err != nil {
			t.Fatal(err)
		}
		if r.Port != tc.port || len(r.DriverSettings) != 0 {
			t.Errorf("%s: port %s, settings %v; want port %s and no settings", tc.driver, r.Port, r.DriverSettings, tc.port)
		}
		if tc.port == "5432" && !containsLine(r.Changes, "chose the session pooler") {
			t.Errorf("%s: changes do not say why: %q", tc.driver, r.Changes)
		}
	}
	r, err := Standalone("postgresql://app:pw@db.example.com:6432/app", AsyncPG)
	if err != nil {
		t.Fatal(err)
	}
	if r.Port != "6432" || !containsLine(r.Changes, "warning: if this host is a transaction pooler") {
		t.Errorf("another host: %s %q", r.URL, r.Changes)
	}
}
