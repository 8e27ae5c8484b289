// Package dburl makes a PostgreSQL connection string right for one Python
// driver and one pool mode, as Supabase's dashboard and Vercel's Supabase
// integration hand it out (`supa=`, `sslmode=require`, `pgbouncer=true`, a
// pooler host on port 6543 or 5432). The engine uses it for the variables it
// injects and the provider for sanitize_database_url: one implementation.
//
// A URL that parses is not enough behind a transaction pooler: drivers that
// prepare statements (asyncpg, psycopg 3) collide on the pooler's shared
// server connections. Result.DriverSettings names what the deployment's
// runtime must set in the driver for that.
//
// Errors and Result.Changes never quote the password, nor any part of the
// connection string that may hold it.
package dburl

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Driver is the Python library an app opens the database with.
type Driver string

// Drivers ferry makes URLs for.
const (
	AsyncPG            Driver = "asyncpg"
	Psycopg            Driver = "psycopg" // psycopg 3
	Psycopg2           Driver = "psycopg2"
	SQLAlchemyAsyncPG  Driver = "sqlalchemy+asyncpg"
	SQLAlchemyPsycopg2 Driver = "sqlalchemy+psycopg2"
	SQLAlchemyPsycopg  Driver = "sqlalchemy+psycopg"
	Prisma             Driver = "prisma"
)

// Drivers lists every Driver, in the order the documentation gives them.
var Drivers = []Driver{AsyncPG, Psycopg, Psycopg2, SQLAlchemyAsyncPG, SQLAlchemyPsycopg2, SQLAlchemyPsycopg, Prisma}

// PoolMode is how connections reach PostgreSQL.
type PoolMode string

// Pool modes. Supabase's pooler serves transaction mode on port 6543 and
// session mode on port 5432 of one host.
const (
	Transaction PoolMode = "transaction" // a server connection per transaction: what serverless apps should use
	Session     PoolMode = "session"     // a server connection per client connection
	Direct      PoolMode = "direct"      // PostgreSQL itself
)

// PoolModes lists every PoolMode.
var PoolModes = []PoolMode{Transaction, Session, Direct}

// Ports of Supabase's pooler.
const (
	TransactionPort = "6543"
	SessionPort     = "5432"
	postgresPort    = "5432"
)

// Settings the runtime applies in the driver when a URL goes through a
// transaction pooler (see Result.DriverSettings). The deployment's Python
// bootstrap reads them from DriverSettingsEnv.
const (
	DriverSettingsEnv = "FERRY_DB_DRIVER_SETTINGS"

	AsyncPGNoStatementCache  = "asyncpg:statement_cache_size=0"
	AsyncPGUniqueStatements  = "asyncpg:unique_statement_names"
	PsycopgNoPreparedQueries = "psycopg:prepare_threshold=None"
)

// Result is a connection string made right for a driver and a pool mode.
type Result struct {
	URL      string
	PoolMode PoolMode // the mode in force: the one asked for, or the URL's default
	// Changes says what was removed, added or changed and why, one line each,
	// without secret parts.
	Changes []string
	// DriverSettings is what the runtime must set in the driver, beyond what
	// a URL can say; empty when nothing is needed.
	DriverSettings []string

	// Parts of URL, for the variables that name them one by one.
	Host, Port, User, Password, Database string
}

// ProblemError is a connection string, driver or pool mode that cannot be
// used, with what to do about it. Its message never holds the password.
type ProblemError struct{ Message string }

func (e *ProblemError) Error() string { return e.Message }

func problem(format string, args ...any) error {
	return &ProblemError{Message: fmt.Sprintf(format, args...)}
}

// DriverProblem says what is wrong with driver, or "" when nothing is.
func DriverProblem(driver string) string {
	if slices.Contains(Drivers, Driver(driver)) {
		return ""
	}
	return fmt.Sprintf("driver %q is not one ferry knows: use one of %s", driver, joinQuoted(Drivers))
}

// PoolModeProblem says what is wrong with mode, or "" when nothing is.
func PoolModeProblem(mode string) string {
	if slices.Contains(PoolModes, PoolMode(mode)) {
		return ""
	}
	return fmt.Sprintf("pool_mode %q is not one of %s", mode, joinQuoted(PoolModes))
}

func joinQuoted[T ~string](values []T) string {
	quoted := make([]string, len(values))
	for i, v := range values {
		quoted[i] = strconv.Quote(string(v))
	}
	return strings.Join(quoted, ", ")
}

// hostKind is what a URL's host is, as far as ferry can tell.
type hostKind int

const (
	otherHost      hostKind = iota
	supabasePooler          // Supavisor: *.pooler.supabase.com, or a user "<role>.<project ref>"
	supabaseDirect          // db.<project ref>.supabase.co
)

var (
	// Supavisor serves every project on one host and tells them apart by the
	// user name: "<role>.<project ref>", a ref being 20 lowercase letters (or digits).
	poolerUser = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_]*)\.([a-z0-9]{20})$`)
	directHost = regexp.MustCompile(`^db\.([a-z0-9]{20})\.supabase\.co$`)
	// A scheme is quoted in errors only when it is one: text before "://"
	// could be anything pasted, a password included.
	schemePattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]{0,30}$`)
)

// connection is a parsed connection string.
type connection struct {
	u        *url.URL
	kind     hostKind
	ref      string // the Supabase project's ref, when known
	role     string // the user without the ref
	query    url.Values
	keys     []string // query keys in the order given
	password string
	userinfo string // as written, to tell whether re-encoding changed it
}

// Sanitize returns raw made right for driver through mode; mode "" takes the
// URL's default (DefaultPoolMode).
func Sanitize(raw string, driver Driver, mode PoolMode) (*Result, error) {
	if p := DriverProblem(string(driver)); p != "" {
		return nil, problem("%s", p)
	}
	if mode != "" {
		if p := PoolModeProblem(string(mode)); p != "" {
			return nil, problem("%s", p)
		}
	}
	c, err := parse(raw)
	if err != nil {
		return nil, err
	}
	if mode == "" {
		mode = c.defaultMode()
	}
	s := &sanitizer{c: c, driver: driver, mode: mode}
	return s.run()
}

// Standalone returns raw made right for driver with nothing applied at run
// time, for a URL used outside ferry's runtime: a driver that needs
// DriverSettings through Supabase's transaction pooler gets the session
// pooler instead, and Changes says why.
func Standalone(raw string, driver Driver) (*Result, error) {
	c, err := parse(raw)
	if err != nil {
		return nil, err
	}
	mode := c.defaultMode()
	if mode == Transaction && len(driverSettings[driver]) > 0 && c.kind == supabasePooler {
		r, err := Sanitize(raw, driver, Session)
		if err != nil {
			return nil, err
		}
		r.Changes = append(r.Changes, fmt.Sprintf("chose the session pooler: through the transaction pooler %s needs settings in code (%s), which a URL cannot carry; "+
			"ferry_supabase_integration applies them at run time and keeps the transaction pooler", driver, strings.Join(driverSettings[driver], ", ")))
		return r, nil
	}
	r, err := Sanitize(raw, driver, mode)
	if err != nil {
		return nil, err
	}
	if len(r.DriverSettings) > 0 {
		// Another host in transaction mode: only the app can make the driver safe.
		r.Changes = append(r.Changes, fmt.Sprintf("warning: if this host is a transaction pooler, %s also needs %s in code",
			driver, strings.Join(r.DriverSettings, ", ")))
		r.DriverSettings = nil
	}
	return r, nil
}

// DefaultPoolMode is the mode a URL gets when none is asked for: transaction
// for Supabase's pooler (every driver is made to work through it), direct for
// Supabase's direct host, and for other hosts direct on port 5432, else
// transaction, which every driver survives whatever is really there.
func DefaultPoolMode(raw string) (PoolMode, error) {
	c, err := parse(raw)
	if err != nil {
		return "", err
	}
	return c.defaultMode(), nil
}

func (c *connection) defaultMode() PoolMode {
	switch {
	case c.kind == supabasePooler:
		return Transaction
	case c.kind == supabaseDirect, c.u.Port() == "" || c.u.Port() == postgresPort:
		return Direct
	}
	return Transaction
}

const placeholderPassword = "[YOUR-PASSWORD]"

// parse reads a connection string without ever quoting it in an error.
func parse(raw string) (*connection, error) {
	raw = strings.TrimSpace(raw)
	const encodeHint = "percent-encode the password's special characters (for example @ as %40, / as %2F, # as %23, % as %25)"
	switch {
	case raw == "":
		return nil, problem("the connection string is empty: copy it from Supabase's dashboard (Connect), such as postgresql://postgres.<ref>:<password>@<region>.pooler.supabase.com:6543/postgres")
	case strings.Contains(raw, placeholderPassword):
		return nil, problem("the connection string still holds the dashboard's placeholder %s: put the database password in its place (Supabase: Project Settings, Database)", placeholderPassword)
	case !strings.Contains(raw, "://"):
		return nil, problem("the connection string is not a URL: ferry takes the URL form, postgresql://user:password@host:port/database, as Supabase's dashboard gives it")
	}
	scheme, _, _ := strings.Cut(raw, "://")
	if base, _, _ := strings.Cut(strings.ToLower(scheme), "+"); base != "postgres" && base != "postgresql" {
		if !schemePattern.MatchString(scheme) {
			return nil, problem("the connection string does not start with a scheme: it must start with postgresql:// (or postgres://)")
		}
		return nil, problem("the connection string's scheme %q is not PostgreSQL's: it must start with postgresql:// (or postgres://)", scheme)
	}
	// The user and password are taken apart here, not by url.Parse, so that
	// characters a URL does not allow there (a space, an @, a bracket) are
	// read as they were meant and encoded on the way out.
	rest := raw[len(scheme)+3:]
	authority, _, _ := strings.Cut(rest, "#")
	authority, _, _ = strings.Cut(authority, "?")
	authority, _, _ = strings.Cut(authority, "/")
	var user *url.Userinfo
	userinfo, hasUserinfo := "", false
	if at := strings.LastIndex(authority, "@"); at >= 0 {
		userinfo, hasUserinfo = authority[:at], true
		name, password, hasPassword := strings.Cut(userinfo, ":")
		user = url.User(unescapeLeniently(name))
		if hasPassword {
			user = url.UserPassword(unescapeLeniently(name), unescapeLeniently(password))
		}
		rest = rest[at+1:]
	}
	u, err := url.Parse(scheme + "://" + rest)
	if err != nil {
		// url.Error quotes the input, which holds the password: say what kind of problem it is instead.
		var what string
		switch msg := err.Error(); {
		case strings.Contains(msg, "invalid userinfo"):
			what = "the user or password holds characters a URL does not allow there: " + encodeHint
		case strings.Contains(msg, "invalid URL escape"):
			what = "a % is not followed by two hex digits: " + encodeHint
		case strings.Contains(msg, "invalid port"):
			what = "the port is not a number, or the password holds a / ? or # that ends the host part early: " + encodeHint
		default:
			what = "check the host and port, and " + encodeHint
		}
		return nil, problem("the connection string is not a valid URL: %s", what)
	}
	u.User = user
	c := &connection{u: u}
	if hasUserinfo {
		c.userinfo = userinfo
		c.password, _ = user.Password()
	}
	if u.Opaque != "" || u.Host == "" || u.Hostname() == "" {
		return nil, problem("the connection string names no host: it must look like postgresql://user:password@host:port/database")
	}
	if strings.Contains(u.Host, ",") {
		return nil, problem("the connection string names several hosts: ferry takes one host (Supabase gives one)")
	}
	if port := u.Port(); port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return nil, problem("the connection string's port %q is not a port number (1 to 65535)", port)
		}
	}
	if u.Fragment != "" || strings.HasSuffix(raw, "#") {
		return nil, problem("the connection string holds a #, which ends a URL: if it is part of the password, %s", encodeHint)
	}
	if c.query, err = url.ParseQuery(u.RawQuery); err != nil {
		return nil, problem("the connection string's parameters (after ?) are malformed: write them as name=value pairs joined by &, percent-encoding special characters")
	}
	for _, pair := range strings.Split(u.RawQuery, "&") {
		key, _, _ := strings.Cut(pair, "=")
		if key, err = url.QueryUnescape(key); err == nil && key != "" && !slices.Contains(c.keys, key) {
			c.keys = append(c.keys, key)
		}
	}
	c.role = u.User.Username()
	host := strings.ToLower(u.Hostname())
	switch m := poolerUser.FindStringSubmatch(u.User.Username()); {
	case strings.HasSuffix(host, ".pooler.supabase.com") || m != nil:
		c.kind = supabasePooler
		if m != nil {
			c.role, c.ref = m[1], m[2]
		}
	case directHost.MatchString(host):
		c.kind = supabaseDirect
		c.ref = directHost.FindStringSubmatch(host)[1]
	}
	return c, nil
}

// unescapeLeniently decodes percent-escapes, or takes s as it is written
// when it holds a % that starts none.
func unescapeLeniently(s string) string {
	if decoded, err := url.PathUnescape(s); err == nil {
		return decoded
	}
	return s
}

// sanitizer builds one Result.
type sanitizer struct {
	c      *connection
	driver Driver
	mode   PoolMode
	out    Result
}

func (s *sanitizer) note(format string, args ...any) {
	s.out.Changes = append(s.out.Changes, fmt.Sprintf(format, args...))
}

func (s *sanitizer) run() (*Result, error) {
	c := s.c
	u := *c.u
	u.RawQuery, u.Fragment, u.RawFragment = "", "", ""
	if err := s.route(&u); err != nil {
		return nil, err
	}
	if (c.kind != otherHost) && (u.Path == "" || u.Path == "/") {
		u.Path = "/postgres"
		s.note("added the database name postgres: without one, drivers take the user name as the database")
	}
	scheme := schemes[s.driver]
	if !strings.EqualFold(c.u.Scheme, scheme) {
		s.note("changed the scheme %s:// to %s://: %s", c.u.Scheme, scheme, schemeReasons[s.driver])
	}
	u.Scheme = scheme
	query, err := s.parameters()
	if err != nil {
		return nil, err
	}
	u.RawQuery = query
	if c.u.User != nil && c.userinfo != c.u.User.String() {
		s.note("percent-encoded the user name or password, so that every driver reads it back as it is")
	}
	if s.mode == Transaction {
		s.out.DriverSettings = driverSettings[s.driver]
		if why := driverSettingReasons[s.driver]; why != "" {
			s.note("%s", why)
		}
	}
	s.out.URL = u.String()
	s.out.PoolMode = s.mode
	s.out.Host, s.out.Port = u.Hostname(), u.Port()
	if s.out.Port == "" {
		s.out.Port = postgresPort
	}
	s.out.User, s.out.Password = u.User.Username(), c.password
	s.out.Database = strings.TrimPrefix(u.Path, "/")
	return &s.out, nil
}

// route points u at the pool mode asked for, where the host is Supabase's.
func (s *sanitizer) route(u *url.URL) error {
	c := s.c
	port := u.Port()
	setPort := func(want, why string) {
		if port == want {
			return
		}
		from := port
		if from == "" {
			from = "none (5432)"
		}
		u.Host = joinHostPort(u.Hostname(), want)
		s.note("changed the port from %s to %s: %s", from, want, why)
	}
	switch c.kind {
	case supabasePooler:
		switch s.mode {
		case Transaction:
			setPort(TransactionPort, "Supabase's pooler serves transaction mode there")
		case Session:
			setPort(SessionPort, "Supabase's pooler serves session mode there")
		case Direct:
			if c.ref == "" {
				return problem("pool_mode \"direct\" needs the project's direct host, db.<ref>.supabase.co, but this pooler URL does not say the project's ref (its user is not postgres.<ref>): copy the direct connection string from the dashboard (Connect, Direct connection)")
			}
			host := "db." + c.ref + ".supabase.co"
			u.Host = joinHostPort(host, postgresPort)
			if u.User != nil {
				u.User = url.UserPassword(c.role, c.password)
			}
			s.note("changed the host to %s, the port to %s and the user to %s: Supabase's direct connection, not its pooler", host, postgresPort, c.role)
		}
	case supabaseDirect:
		if s.mode != Direct {
			return problem("pool_mode %q needs Supabase's pooler, but this is the direct connection string (db.%s.supabase.co): copy the pooler's connection string from the dashboard (Connect, Transaction pooler or Session pooler), or set pool_mode = \"direct\"", s.mode, c.ref)
		}
	}
	return nil
}

func joinHostPort(host, port string) string {
	if strings.Contains(host, ":") {
		return "[" + host + "]:" + port
	}
	return host + ":" + port
}

// parameters returns the query string for the driver: what it reads, kept
// or translated, in the order given; the rest removed; what the pool mode
// needs, added at the end.
func (s *sanitizer) parameters() (string, error) {
	c := s.c
	if v := c.query.Get("sslmode"); v != "" && !slices.Contains(sslModes, v) {
		return "", problem("sslmode=%s is not one of %s", v, strings.Join(sslModes, ", "))
	}
	var kept query
	allowed := parameters[s.driver]
	for _, key := range c.keys {
		values := c.query[key]
		last := values[len(values)-1]
		switch {
		case s.driver == SQLAlchemyAsyncPG && key == "sslmode":
			kept.set("ssl", last)
			s.note("changed sslmode=%s to ssl=%s: SQLAlchemy hands URL parameters to asyncpg.connect(), which takes ssl, not sslmode", last, last)
		case key == "pgbouncer" && s.driver == Prisma && s.mode != Transaction:
			s.note("removed pgbouncer: it tells Prisma that a transaction pooler is in the way, and %s mode has none", s.mode)
		case allowed[key]:
			kept.set(key, last)
		default:
			s.note("removed %s: %s", key, removalReason(key, s.driver))
		}
	}
	for _, add := range additions[s.driver] {
		current, present := kept.get(add.key)
		if s.mode != Transaction || current == add.value {
			continue
		}
		if present {
			s.note("changed %s to %s: %s", add.key, add.value, add.why)
		} else {
			s.note("added %s=%s: %s", add.key, add.value, add.why)
		}
		kept.set(add.key, add.value)
	}
	return kept.encode(), nil
}

// query is URL parameters in order, one value each.
type query []struct{ key, value string }

func (q *query) set(key, value string) {
	for i := range *q {
		if (*q)[i].key == key {
			(*q)[i].value = value
			return
		}
	}
	*q = append(*q, struct{ key, value string }{key, value})
}

func (q query) get(key string) (string, bool) {
	for _, p := range q {
		if p.key == key {
			return p.value, true
		}
	}
	return "", false
}

// encode escapes spaces as %20, not +: libpq does not read + as a space.
func (q query) encode() string {
	pairs := make([]string, len(q))
	for i, p := range q {
		pairs[i] = escape(p.key) + "=" + escape(p.value)
	}
	return strings.Join(pairs, "&")
}

func escape(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "+", "%20") }

func removalReason(key string, driver Driver) string {
	switch key {
	case "supa":
		return "Supabase's dashboard adds it for its own use, and drivers refuse it"
	case "pgbouncer":
		return "only Prisma reads it; other drivers refuse it or send it to the server, which refuses it"
	}
	return unreadParameters[driver]
}
