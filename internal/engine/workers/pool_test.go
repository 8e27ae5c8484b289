package workers

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// workerSockets listens on n unix sockets that accept connections and hold them, as workers would.
func workerSockets(t *testing.T, n int) []string {
	t.Helper()
	dir, err := os.MkdirTemp("", "ferry-pool-") //nolint:usetesting // t.TempDir() is too long for socket paths
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	var paths []string
	for i := range n {
		path := filepath.Join(dir, strconv.Itoa(i)+".sock")
		l, err := net.Listen("unix", path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = l.Close() })
		go func() {
			for {
				conn, err := l.Accept()
				if err != nil {
					return
				}
				t.Cleanup(func() { _ = conn.Close() })
			}
		}()
		paths = append(paths, path)
	}
	return paths
}

// waitFor is a request waiting in p, which frees the place it gets at once and reports its worker on got.
func waitFor(t *testing.T, p *pool, ctx context.Context, got chan<- int) {
	t.Helper()
	before := p.queued()
	go func() {
		c, err := p.get(ctx)
		if err != nil {
			got <- -1
			return
		}
		p.put(c, true) // before the report: the test goes on with the place free
		got <- c.worker.index
	}()
	eventually(t, "the request waits", func() bool { return p.queued() == before+1 })
}

func TestPoolServesWaitersInTheirOrder(t *testing.T) {
	p := newPool(workerSockets(t, 1), 1, 10)
	ctx := context.Background()
	held, err := p.get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Each waiter says who it is once served, then frees its place for the next.
	order := make(chan int, 3)
	for id := range 3 {
		before := p.queued()
		go func() {
			c, err := p.get(ctx)
			if err != nil {
				order <- -1
				return
			}
			order <- id
			p.put(c, true)
		}()
		eventually(t, "the request waits", func() bool { return p.queued() == before+1 })
	}
	p.put(held, true)
	for want := range 3 {
		select {
		case got := <-order:
			if got != want {
				t.Fatalf("waiter %d was served in place of waiter %d: a freed place goes to the oldest", got, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("waiter %d was never served", want)
		}
	}
	if _, err := p.get(ctx); err != nil {
		t.Fatalf("the place is free again: %v", err)
	}
	if n := p.queued(); n != 0 {
		t.Errorf("%d requests still wait", n)
	}
}

func TestPoolRefusesPastItsQueueAndPassesOnAPlaceAGoneWaiterWasGiven(t *testing.T) {
	p := newPool(workerSockets(t, 1), 1, 2)
	held, err := p.get(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	gone, leave := context.WithCancel(context.Background())
	first, second := make(chan int, 1), make(chan int, 1)
	waitFor(t, p, gone, first)
	waitFor(t, p, context.Background(), second)
	if _, err := p.get(context.Background()); !errors.Is(err, errQueueFull) {
		t.Fatalf("a third waiter past a queue of 2: %v, want errQueueFull", err)
	}
	leave()
	if got := <-first; got != -1 {
		t.Fatalf("the waiter that left got worker %d", got)
	}
	p.put(held, true)
	select {
	case got := <-second:
		if got != 0 {
			t.Errorf("the remaining waiter got %d", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the place freed went to no one")
	}
}

func TestPoolScalesOutWhenRequestsWaitAndInWhenIdle(t *testing.T) {
	p := newPool(workerSockets(t, 3), 1, 10)
	ctx := context.Background()
	first, err := p.get(ctx)
	if err != nil || first.worker.index != 0 {
		t.Fatalf("the first request: %v, %v", first, err)
	}
	if n := p.scale(); n != 1 {
		t.Fatalf("one request in flight: scale %d, want 1", n)
	}
	got := make(chan int, 1)
	waitFor(t, p, ctx, got)
	select {
	case <-p.scaled:
	default:
		t.Fatal("a waiting request with every worker busy did not ask for another")
	}
	if n := p.scale(); n != 2 {
		t.Fatalf("scale %d, want 2", n)
	}
	p.up(1)
	if index := <-got; index != 1 {
		t.Fatalf("the waiter got worker %d once worker 1 served, want 1", index)
	}
	p.put(first, true)

	// Idle long enough, the newest stops; its socket takes no new worker until the old one is down.
	now := time.Now()
	if p.shrink(time.Minute, now) {
		t.Error("a worker used a moment ago stopped")
	}
	if !p.shrink(time.Minute, now.Add(2*time.Minute)) || p.scale() != 1 {
		t.Fatalf("the idle newest worker did not stop: scale %d", p.scale())
	}
	if p.shrink(time.Minute, now.Add(2*time.Minute)) {
		t.Error("the first worker stopped with the deployment still running")
	}
	held, err := p.get(ctx)
	if err != nil || held.worker.index != 0 {
		t.Fatalf("a request after scaling in: %v, %v", held, err)
	}
	waitFor(t, p, ctx, got)
	if n := p.scale(); n != 1 {
		t.Fatalf("scaled out to %d onto a socket whose worker has not exited", n)
	}
	p.down(1)
	if n := p.scale(); n != 2 {
		t.Fatalf("once the retired worker is down a waiting request gets it back: scale %d, want 2", n)
	}
	p.up(1)
	if index := <-got; index != 1 {
		t.Errorf("the waiter got worker %d, want 1", index)
	}
	p.put(held, true)
}
