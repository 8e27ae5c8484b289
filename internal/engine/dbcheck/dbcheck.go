// Package dbcheck connects to a database as a deployment would, to say at
// apply time what is wrong with a connection string: the password, the host,
// TLS, the database. Its messages never hold the password.
package dbcheck

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/ferryhq/terraform-provider-ferry/internal/dburl"
)

// Kinds of failures.
const (
	AuthenticationFailed = "authentication_failed"
	Unreachable          = "unreachable"
	TLSRequired          = "tls_required" // the server wants TLS and the URL does not ask for it
	TLSRefused           = "tls_refused"  // the URL asks for TLS and the server has none
	DatabaseMissing      = "database_missing"
	Refused              = "refused" // any other answer of the server
)

// DefaultTimeout bounds a check whose URL sets no connect_timeout.
const DefaultTimeout = 10 * time.Second

// Failure is a check that did not connect.
type Failure struct {
	Kind    string
	Message string // what was wrong and what to do
}

func (f *Failure) Error() string { return f.Message }

// Verify connects with raw, routed for mode as dburl does it for a
// deployment, and runs one query. It returns a *Failure, or an error of
// dburl when raw cannot be used at all.
func Verify(ctx context.Context, raw string, mode dburl.PoolMode) error {
	// libpq's form, which pgx reads.
	target, err := dburl.Sanitize(raw, dburl.Psycopg2, mode)
	if err != nil {
		return err
	}
	config, err := pgx.ParseConfig(target.URL)
	if err != nil {
		return &Failure{Refused, "the connection string cannot be used to connect: " + scrub(err.Error(), target.Password)}
	}
	if config.ConnectTimeout == 0 {
		config.ConnectTimeout = DefaultTimeout
	}
	// No prepared statements: the check may go through a transaction pooler.
	config.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	config.StatementCacheCapacity, config.DescriptionCacheCapacity = 0, 0
	config.Fallbacks = nil // sslmode=prefer would retry without TLS and hide what the server said first

	conn, err := pgx.ConnectConfig(ctx, config)
	if err == nil {
		_, err = conn.Exec(ctx, "SELECT 1")
		_ = conn.Close(context.Background()) // the answer to SELECT 1 is what counts
	}
	if err == nil {
		return nil
	}
	failure := explain(err, target, config.ConnectTimeout)
	failure.Message = scrub(failure.Message, target.Password)
	return failure
}

func explain(err error, target *dburl.Result, timeout time.Duration) *Failure {
	address := net.JoinHostPort(target.Host, target.Port)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		message := strings.ToLower(pgErr.Message)
		switch {
		case pgErr.Code == "28P01" || strings.Contains(message, "password authentication failed") || strings.Contains(message, "sasl authentication failed"):
			return &Failure{AuthenticationFailed, fmt.Sprintf("authentication failed for user %q at %s: the password is wrong (on Supabase: Project Settings, Database, reset the database password) or the user is not the project's (the pooler's user is postgres.<project ref>)", target.User, address)}
		// A pooler passes the server's answer on with its own code, or says it in its own words.
		case pgErr.Code == "3D000" || strings.Contains(message, "no such database") ||
			(strings.HasPrefix(message, "database ") && strings.HasSuffix(message, "does not exist")):
			return &Failure{DatabaseMissing, fmt.Sprintf("database %q does not exist at %s: Supabase's database is postgres; fix the name after the last / of the connection string", target.Database, address)}
		case pgErr.Code == "28000" && (strings.Contains(message, "no encryption") || strings.Contains(message, "ssl off")):
			return &Failure{TLSRequired, fmt.Sprintf("%s requires TLS, and the connection string does not ask for it: add sslmode=require", address)}
		}
		return &Failure{Refused, fmt.Sprintf("%s refused the connection: %s (SQLSTATE %s)", address, pgErr.Message, pgErr.Code)}
	}
	text := err.Error()
	var dnsErr *net.DNSError
	var opErr *net.OpError
	switch {
	case strings.Contains(text, "server refused TLS connection"):
		return &Failure{TLSRefused, fmt.Sprintf("%s does not offer TLS, but the connection string asks for it (sslmode): check that this is the right host and port, or set sslmode=disable for a server without TLS", address)}
	case errors.As(err, &dnsErr):
		return &Failure{Unreachable, fmt.Sprintf("cannot reach %s: the host name %q does not resolve; check the host in the connection string", address, target.Host)}
	case errors.Is(err, context.DeadlineExceeded) || strings.Contains(text, "timeout"):
		return &Failure{Unreachable, fmt.Sprintf("cannot reach %s: no answer within %s; check the host and port, and that the engine's network can reach them", address, timeout)}
	case errors.As(err, &opErr):
		return &Failure{Unreachable, fmt.Sprintf("cannot reach %s: %v; check the host and port", address, opErr.Err)}
	}
	return &Failure{Unreachable, fmt.Sprintf("cannot connect to %s: %s", address, lastPart(text))}
}

// lastPart is the innermost reason of a pgconn error, without its prefix
// that names the connection.
func lastPart(text string) string {
	parts := strings.Split(text, ": ")
	return parts[len(parts)-1]
}

// scrub removes the password, as written and as encoded, from text.
func scrub(text, password string) string {
	if password == "" {
		return text
	}
	for _, form := range []string{password, url.QueryEscape(password), url.PathEscape(password)} {
		text = strings.ReplaceAll(text, form, "********")
	}
	return text
}
