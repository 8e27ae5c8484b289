package workers

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

var (
	errDeploymentStopped = errors.New("the deployment was stopped")
	errQueueFull         = errors.New("too many requests are waiting for the app")
)

// pool holds a deployment's connections to its workers. A worker serves at most threads connections at
// once, so the pool never has more open to it: a request waits here, in Go, for a free one.
type pool struct {
	slots    chan struct{} // a token per request in flight, workers*threads in all
	stopped  chan struct{}
	waiting  atomic.Int64 // requests waiting for a slot
	maxQueue int64        // more waiting than this are refused (errQueueFull)

	mu      sync.Mutex
	closed  bool
	workers []*workerConns
}

// workerConns are the connections to one worker process.
type workerConns struct {
	socketPath string
	idle       []*backendConn // most recently used last
	inflight   int
}

type backendConn struct {
	conn   *net.UnixConn
	reader *bufio.Reader
	buf    []byte // request frames under construction
	head   responseHead
	worker *workerConns
	reused bool // has served a request: a failure before any answer may mean it went stale
}

func newPool(socketPaths []string, threads, maxQueue int) *pool {
	p := &pool{
		slots:    make(chan struct{}, len(socketPaths)*threads),
		stopped:  make(chan struct{}),
		maxQueue: int64(maxQueue),
	}
	for _, path := range socketPaths {
		p.workers = append(p.workers, &workerConns{socketPath: path})
	}
	return p
}

// get returns a connection to the least busy worker, waiting for one to be free, unless maxQueue
// requests are waiting already.
func (p *pool) get(ctx context.Context) (*backendConn, error) {
	select {
	case p.slots <- struct{}{}:
	default:
		if p.waiting.Add(1) > p.maxQueue {
			p.waiting.Add(-1)
			return nil, errQueueFull
		}
		select {
		case p.slots <- struct{}{}:
			p.waiting.Add(-1)
		case <-p.stopped:
			p.waiting.Add(-1)
			return nil, errDeploymentStopped
		case <-ctx.Done():
			p.waiting.Add(-1)
			return nil, ctx.Err()
		}
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		<-p.slots
		return nil, errDeploymentStopped
	}
	// Spreading requests over the workers keeps each one's threads from fighting over its GIL.
	w := p.workers[0]
	for _, candidate := range p.workers[1:] {
		if candidate.inflight < w.inflight {
			w = candidate
		}
	}
	w.inflight++
	if n := len(w.idle); n > 0 {
		c := w.idle[n-1]
		w.idle[n-1] = nil
		w.idle = w.idle[:n-1]
		p.mu.Unlock()
		return c, nil
	}
	p.mu.Unlock()
	c, err := dialWorker(w)
	if err != nil {
		p.mu.Lock()
		w.inflight--
		p.mu.Unlock()
		<-p.slots
		return nil, err
	}
	return c, nil
}

func dialWorker(w *workerConns) (*backendConn, error) {
	dialer := net.Dialer{Timeout: 5 * time.Second}
	conn, err := dialer.Dial("unix", w.socketPath)
	if err != nil {
		return nil, err
	}
	unixConn, ok := conn.(*net.UnixConn)
	if !ok {
		_ = conn.Close()
		return nil, fmt.Errorf("dial %s: a %T, not a unix socket connection", w.socketPath, conn)
	}
	return &backendConn{
		conn:   unixConn,
		reader: bufio.NewReaderSize(conn, 32<<10),
		worker: w,
	}, nil
}

// put returns c after a request. A connection that is not reusable is closed, and so are the worker's
// idle ones: the usual reason is that the worker died, which leaves them all stale.
func (p *pool) put(c *backendConn, reusable bool) {
	var stale []*backendConn
	p.mu.Lock()
	w := c.worker
	w.inflight--
	switch {
	case reusable && !p.closed:
		c.reused = true
		w.idle = append(w.idle, c)
		c = nil
	case !reusable:
		stale = w.idle
		w.idle = nil
	}
	p.mu.Unlock()
	// Closing a connection we are done with has nothing to report.
	if c != nil {
		_ = c.conn.Close()
	}
	for _, idle := range stale {
		_ = idle.conn.Close()
	}
	<-p.slots
}

// close refuses new requests and closes the idle connections; those in use close when put back.
func (p *pool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.closed = true
	close(p.stopped)
	for _, w := range p.workers {
		for _, c := range w.idle {
			_ = c.conn.Close() // idle: nothing in flight to lose
		}
		w.idle = nil
	}
}
