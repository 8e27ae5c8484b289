package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
)

var _ store.RouteWatcher = (*Store)(nil)

// relistenDelay is the pause before listening again on a lost connection.
const relistenDelay = time.Second

// WatchRoutes implements store.RouteWatcher with LISTEN on the routes
// channel, over a connection of its own: the routes_version triggers notify
// it when their transaction commits. A lost connection is made again; the
// channel then receives, since notifications sent meanwhile were lost.
func (s *Store) WatchRoutes(ctx context.Context) <-chan struct{} {
	changed := make(chan struct{}, 1)
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(s.closing, cancel)
	s.watchers.Go(func() {
		defer close(changed)
		defer stop()
		defer cancel()
		for {
			_ = s.listen(ctx, changed) // whatever failed, the answer is to listen again
			select {
			case <-ctx.Done():
				return
			case <-time.After(relistenDelay):
			}
		}
	})
	return changed
}

// listen holds one connection listening on the routes channel until it fails or ctx ends.
func (s *Store) listen(ctx context.Context, changed chan<- struct{}) error {
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig)
	if err != nil {
		return err
	}
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = conn.Close(closeCtx) // a listener's connection holds nothing to keep
	}()
	if _, err := conn.Exec(ctx, `LISTEN `+routesChannel); err != nil {
		return err
	}
	for {
		// Once listening (again), and after each notification: a pending signal stands for any number.
		select {
		case changed <- struct{}{}:
		default:
		}
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return err
		}
	}
}
