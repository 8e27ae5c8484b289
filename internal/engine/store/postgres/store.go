// Package postgres is the engine's store in PostgreSQL, for several engine
// nodes sharing one database. It behaves as the embedded sqlite store does
// (the storetest suite runs against both): uniqueness is kept by
// constraints, every operation is one transaction, and triggers count each
// change the edge must see in routes_version.
//
// The build queue is the deployments table itself, as in SQLite: a claim is
// one UPDATE whose subquery picks the oldest waiting row FOR UPDATE SKIP
// LOCKED. SKIP LOCKED rather than a plain atomic UPDATE: concurrent claimers
// under READ COMMITTED would all pick the same oldest row, and the losers,
// after waiting on its lock, would find it taken and report an empty queue
// while other rows wait; with SKIP LOCKED each takes the next free row
// without waiting. A queue library such as River would keep a second copy
// of the state a deployment's row already holds (QUEUED, BUILDING, its
// lease), which the SQLite store could not share.
//
// Every write that changes what the edge serves first locks the one
// routes_version row, which its triggers then bump: such writes queue on
// that lock in one order and cannot deadlock on each other's rows. The
// triggers also pg_notify the routes channel, which WatchRoutes listens to,
// so that every node's edge reloads at once.
//
// Lease times are the nodes' clocks, as the caller gives them: the nodes'
// clocks must agree (NTP) to within a small part of a lease.
package postgres

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
)

// routesChannel is the channel of LISTEN/NOTIFY that hears of every change to routes_version.
const routesChannel = "ferry_routes"

// Store is a store.Store in a PostgreSQL database.
type Store struct {
	pool *pgxpool.Pool
	name string // the database's URL without its password, for messages

	closing  context.Context // done once Close is called; ends the watchers
	close    context.CancelFunc
	watchers sync.WaitGroup
}

var _ store.Store = (*Store)(nil)

// Open connects to the database at dsn (a postgres:// URL or a key=value
// string, as libpq reads them) and migrates it. Its errors never repeat the
// password.
func Open(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, redactError(err, dsn)
	}
	// Times come back in UTC, as the SQLite store gives them.
	cfg.AfterConnect = func(_ context.Context, conn *pgx.Conn) error {
		conn.TypeMap().RegisterType(&pgtype.Type{Name: "timestamptz", OID: pgtype.TimestamptzOID, Codec: &pgtype.TimestamptzCodec{ScanLocation: time.UTC}})
		return nil
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, redactError(err, dsn)
	}
	s := &Store{pool: pool, name: Redact(dsn)}
	s.closing, s.close = context.WithCancel(context.Background())
	if err := s.migrate(ctx); err != nil {
		s.close()
		pool.Close()
		return nil, redactError(err, dsn)
	}
	return s, nil
}

// Close stops the watchers and closes the store's connections.
func (s *Store) Close() error {
	s.close()
	s.watchers.Wait()
	s.pool.Close()
	return nil
}

// String is the database's URL without its password.
func (s *Store) String() string { return s.name }

// Redact returns dsn without its password, fit for messages and logs.
func Redact(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		if q := u.Query(); q.Has("password") {
			q.Set("password", "xxxxx")
			u.RawQuery = q.Encode()
		}
		return u.Redacted()
	}
	if strings.Contains(dsn, "://") {
		// Not a URL that parses: show its scheme only, as anything after it may be a password.
		return dsn[:strings.Index(dsn, "://")] + "://..."
	}
	// A key=value string: hide the value of password.
	fields := strings.Fields(dsn)
	for i, f := range fields {
		if k, _, ok := strings.Cut(f, "="); ok && strings.TrimSpace(k) == "password" {
			fields[i] = "password=xxxxx"
		}
	}
	return strings.Join(fields, " ")
}

// redactedError is an error of opening the store at a dsn, whose message
// names the store without its password (pgx's parse errors may quote the
// whole string) and which still unwraps to the error itself.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

func redactError(err error, dsn string) error {
	msg := err.Error()
	if u, perr := url.Parse(dsn); perr == nil && u.User != nil {
		if pw, ok := u.User.Password(); ok && pw != "" {
			msg = strings.ReplaceAll(msg, pw, "xxxxx")
		}
	}
	if cfg, perr := pgconn.ParseConfig(dsn); perr == nil && cfg.Password != "" {
		msg = strings.ReplaceAll(msg, cfg.Password, "xxxxx")
	}
	msg = strings.ReplaceAll(msg, dsn, Redact(dsn))
	return &redactedError{msg: "store " + Redact(dsn) + ": " + msg, err: err}
}

// inTx runs fn in a transaction, committing when it returns nil.
func (s *Store) inTx(ctx context.Context, fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, s.pool, fn)
}

// routesTx runs fn in a transaction that holds the routes_version row from
// its start, for writes that change what the edge serves (see the package
// comment).
func (s *Store) routesTx(ctx context.Context, fn func(pgx.Tx) error) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT 1 FROM routes_version FOR UPDATE`); err != nil {
			return err
		}
		return fn(tx)
	})
}

func now() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }

// pgCode is the SQLSTATE of err, if PostgreSQL raised it, and the constraint it names.
func pgCode(err error) (code, constraint string) {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code, pgErr.ConstraintName
	}
	return "", ""
}

// SQLSTATEs the store maps to its own errors.
const (
	uniqueViolation     = "23505"
	foreignKeyViolation = "23503"
)

func isUniqueViolation(err error) bool {
	code, _ := pgCode(err)
	return code == uniqueViolation
}

// hostnameTaken maps a unique violation on a hostname to store.ErrHostnameTaken.
func hostnameTaken(err error) error {
	if code, constraint := pgCode(err); code == uniqueViolation && (constraint == "hostnames_pkey" || constraint == "deployments_hostname_key") {
		return store.ErrHostnameTaken
	}
	return err
}

// affectedOr returns none when a statement changed no row, and its error if it failed.
func affectedOr(tag pgconn.CommandTag, err, none error) error {
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return none
	}
	return nil
}

// oneRow is the outcome of an update or delete of one row: store.ErrNotFound when it touched none.
func oneRow(tag pgconn.CommandTag, err error) error { return affectedOr(tag, err, store.ErrNotFound) }

// querier is the pool or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// listRows runs query and scans every row of its answer with scan.
func listRows[T any](ctx context.Context, q querier, scan func(pgx.Row) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// queryStrings returns the one column of text that query selects.
func queryStrings(ctx context.Context, q querier, query string, args ...any) ([]string, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// noRows maps pgx.ErrNoRows to store.ErrNotFound.
func noRows(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ErrNotFound
	}
	return err
}
