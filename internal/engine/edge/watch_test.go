package edge

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store/sqlite"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/workers"
)

// watchedStore is a store another node writes too: the test says when it changed.
type watchedStore struct {
	store.Store
	changed chan struct{}
}

func (w *watchedStore) WatchRoutes(context.Context) <-chan struct{} { return w.changed }

// startRouter runs a router on st until the test ends.
func startRouter(t *testing.T, st store.Store, poll time.Duration) *Router {
	t.Helper()
	r := New(Config{
		Store: st, Runtime: &oneWorkerRuntime{worker: make(chan struct{}, 1)}, PollInterval: poll,
		App:    func(d *store.Deployment) (workers.App, error) { return workers.App{ID: d.ID}, nil },
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	ctx, cancel := context.WithCancel(context.Background())
	go r.Run(ctx)
	t.Cleanup(func() {
		cancel()
		<-r.done
	})
	return r
}

// awaitVersion waits until the live table is at the store's routes version, never calling Sync.
func awaitVersion(t *testing.T, r *Router, st store.Store, what string) {
	t.Helper()
	want, err := st.RoutesVersion(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); r.table.Load().version < want; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: the table is at version %d, the store at %d", what, r.table.Load().version, want)
		}
	}
}

func openSQLite(t *testing.T) store.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "ferry.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// Changes nobody called Sync for reach the table through the watcher.
func TestWatcherReloads(t *testing.T) {
	st := &watchedStore{Store: openSQLite(t), changed: make(chan struct{}, 1)}
	r := startRouter(t, st, 0)
	awaitVersion(t, r, st, "first load")
	if err := st.CreateProject(context.Background(), &store.Project{ID: "p1", Name: "shop", Framework: "auto", RootDirectory: "."}, "shop.localhost"); err != nil {
		t.Fatal(err)
	}
	st.changed <- struct{}{}
	awaitVersion(t, r, st, "after the watcher's signal")
	if _, ok := r.table.Load().routes["shop.localhost"]; !ok {
		t.Fatal("the new project's host is not routed")
	}
	// A watch that ends leaves the edge running on Sync.
	close(st.changed)
	if err := st.CreateProject(context.Background(), &store.Project{ID: "p2", Name: "cart", Framework: "auto", RootDirectory: "."}, "cart.localhost"); err != nil {
		t.Fatal(err)
	}
	if err := r.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// Without a watcher, the poll finds changes made behind the edge's back.
func TestPollReloads(t *testing.T) {
	st := openSQLite(t)
	r := startRouter(t, st, 10*time.Millisecond)
	awaitVersion(t, r, st, "first load")
	if err := st.CreateProject(context.Background(), &store.Project{ID: "p1", Name: "shop", Framework: "auto", RootDirectory: "."}, "shop.localhost"); err != nil {
		t.Fatal(err)
	}
	awaitVersion(t, r, st, "after a poll")
}
