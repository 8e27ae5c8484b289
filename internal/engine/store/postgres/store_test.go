package postgres

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/runspec"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store/storetest"
	"github.com/ferryhq/terraform-provider-ferry/internal/pgtest"
)

// databases names the databases tests create on one server.
var databases atomic.Int64

// newDatabase creates an empty database on srv and returns its URL.
func newDatabase(t *testing.T, srv *pgtest.Server) string {
	t.Helper()
	name := fmt.Sprintf("ferry_%d", databases.Add(1))
	srv.Exec(t, "postgres", "CREATE DATABASE "+name)
	u, err := url.Parse(srv.DirectURL())
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// openDSN opens the store at dsn, closed when the test ends.
func openDSN(t *testing.T, dsn string) *Store {
	t.Helper()
	s, err := Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

func TestConformance(t *testing.T) {
	srv := pgtest.Start(t)
	storetest.Run(t, func(t *testing.T) (store.Store, func(*testing.T) store.Store) {
		dsn := newDatabase(t, srv)
		open := func(t *testing.T) store.Store { return openDSN(t, dsn) }
		return open(t), open
	})
}

func TestStore(t *testing.T) {
	srv := pgtest.Start(t)
	ctx := context.Background()

	// Nodes starting at once on a new database: one migrates, the others find it done.
	t.Run("NodesStartingAtOnceMigrateOnce", func(t *testing.T) {
		dsn := newDatabase(t, srv)
		const nodes = 4
		stores := make([]*Store, nodes)
		errs := make([]error, nodes)
		var wg sync.WaitGroup
		for i := range nodes {
			wg.Go(func() { stores[i], errs[i] = Open(ctx, dsn) })
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("node %d: %v", i, err)
			}
			defer func() { _ = stores[i].Close() }()
		}
		var rows, version int
		if err := stores[0].pool.QueryRow(ctx, `SELECT COUNT(*), MAX(version) FROM schema_migrations`).Scan(&rows, &version); err != nil {
			t.Fatal(err)
		}
		if rows != len(migrations) || version != SchemaVersion() {
			t.Fatalf("schema_migrations holds %d rows up to version %d; want %d up to %d", rows, version, len(migrations), SchemaVersion())
		}
	})

	t.Run("ReopenKeepsData", func(t *testing.T) {
		dsn := newDatabase(t, srv)
		s, err := Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.CreateProject(ctx, &store.Project{ID: "p1", Name: "hello", Framework: "auto", RootDirectory: "."}, "hello.localhost"); err != nil {
			t.Fatal(err)
		}
		_ = s.Close()
		s = openDSN(t, dsn)
		if _, err := s.GetProject(ctx, "hello"); err != nil {
			t.Fatalf("project lost across reopen: %v", err)
		}
	})

	t.Run("NewerSchemaIsRefused", func(t *testing.T) {
		dsn := newDatabase(t, srv)
		s := openDSN(t, dsn)
		if _, err := s.pool.Exec(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, SchemaVersion()+1); err != nil {
			t.Fatal(err)
		}
		_, err := Open(ctx, dsn)
		var newer *NewerSchemaError
		if !errors.As(err, &newer) || newer.Found != SchemaVersion()+1 {
			t.Fatalf("open of a newer schema: %v", err)
		}
	})

	t.Run("ErrorsHideThePassword", func(t *testing.T) {
		dsn := newDatabase(t, srv)
		u, _ := url.Parse(dsn)
		u.User = url.UserPassword("postgres", "wrong-secret-1234")
		_, err := Open(ctx, u.String())
		if err == nil {
			t.Fatal("a wrong password was accepted")
		}
		if strings.Contains(err.Error(), "wrong-secret-1234") || !strings.Contains(err.Error(), "127.0.0.1") {
			t.Fatalf("error %q: want the host and no password", err)
		}
		for _, bad := range []string{
			"postgres://postgres:wrong-secret-1234@127.0.0.1:notaport/db",
			"host=127.0.0.1 password=wrong-secret-1234 port=notaport",
		} {
			_, err := Open(ctx, bad)
			if err == nil || strings.Contains(err.Error(), "wrong-secret-1234") {
				t.Errorf("open %s: %v; want an error without the password", Redact(bad), err)
			}
		}
	})
	// Writers that move production on two nodes at once: every one succeeds (none is
	// chosen as a deadlock's victim).
	t.Run("ConcurrentRouteWritersDoNotDeadlock", func(t *testing.T) {
		dsn := newDatabase(t, srv)
		nodes := []*Store{openDSN(t, dsn), openDSN(t, dsn)}
		if err := nodes[0].CreateProject(ctx, &store.Project{ID: "p1", Name: "shop", Framework: "auto", RootDirectory: "."}, "shop.localhost"); err != nil {
			t.Fatal(err)
		}
		var claiming sync.Mutex // so that each builder claims the deployment it queued
		ready := func(s *Store, id string) error {
			d := &store.Deployment{ID: id, ProjectID: "p1", Target: "production", Hostname: id + ".localhost", Files: []byte("[]"), SealedEnv: []byte("x")}
			claiming.Lock()
			err := s.EnqueueDeployment(ctx, d, 1000)
			var claimed *store.Deployment
			if err == nil {
				claimed, err = s.ClaimDeployment(ctx, id, time.Now().Add(time.Hour), nil)
			}
			claiming.Unlock()
			if err != nil || claimed == nil || claimed.ID != id {
				return fmt.Errorf("claim %s: %v %v", id, claimed, err)
			}
			d.ClaimedBy, d.Run = claimed.ClaimedBy, &runspec.Spec{AppDir: "src", Python: "venv/bin/python", Entrypoint: "app:app", Kind: runspec.KindWSGI}
			return s.MarkReady(ctx, d, store.Moves{Production: true})
		}
		if err := ready(nodes[0], "d0"); err != nil {
			t.Fatal(err)
		}
		const rounds = 25
		var wg sync.WaitGroup
		fail := func(err error) {
			if err != nil {
				t.Error(err)
			}
		}
		for n, s := range nodes {
			wg.Go(func() {
				for i := range rounds {
					fail(ready(s, fmt.Sprintf("d%d-%d", n, i)))
				}
			})
			wg.Go(func() {
				for range rounds {
					fail(s.PinAlias(ctx, "p1", "", "d0"))
					fail(s.UnpinAlias(ctx, "p1", ""))
				}
			})
			wg.Go(func() {
				for i := range rounds {
					name := fmt.Sprintf("n%d-%d.example.com", n, i)
					fail(s.CreateDomain(ctx, &store.Domain{Name: name, ProjectID: "p1", Token: "t"}))
					fail(s.RecordVerification(ctx, name, time.Now(), ""))
					fail(s.DeleteDomain(ctx, "p1", name))
				}
			})
		}
		wg.Wait()
	})
	// A change committed through one node reaches the other's watcher; a store closed ends it.
	t.Run("WatchHearsOtherNodesChanges", func(t *testing.T) {
		dsn := newDatabase(t, srv)
		writer := openDSN(t, dsn)
		watcher, err := Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		changed := watcher.WatchRoutes(ctx)
		receive := func(what string) {
			t.Helper()
			select {
			case _, ok := <-changed:
				if !ok {
					t.Fatalf("%s: the watch ended", what)
				}
			case <-time.After(30 * time.Second):
				t.Fatalf("%s: no signal", what)
			}
		}
		receive("listening")
		if err := writer.CreateProject(ctx, &store.Project{ID: "p1", Name: "shop", Framework: "auto", RootDirectory: "."}, "shop.localhost"); err != nil {
			t.Fatal(err)
		}
		receive("a project created on the other node")
		if err := writer.CreateDomain(ctx, &store.Domain{Name: "shop.example.com", ProjectID: "p1", Token: "t"}); err != nil {
			t.Fatal(err)
		}
		receive("a domain added on the other node")
		if err := watcher.Close(); err != nil {
			t.Fatal(err)
		}
		for range changed { // what was pending, until the channel closes
		}
	})
}
