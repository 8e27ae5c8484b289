package workers

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

var (
	errDeploymentStopped = errors.New("the deployment was stopped")
	errQueueFull         = errors.New("too many requests are waiting for the app")
)

// pool holds a deployment's connections to its workers and decides how many of them run. A worker
// serves at most threads connections at once, so the pool never has more open to it: a request waits
// here, in Go, for a free one.
//
// Workers run on demand, the first ones of the deployment's sockets: the first from the start; one
// more whenever requests wait with every running worker busy (one per threads waiting, up to one per
// socket); and the newest stops once it has had no request for the idle time shrink is given, down to
// the first, which stops with the deployment (scale to zero). A worker asked to stop gets nothing new,
// and its socket is not used again until the parent says it has exited ("down").
type pool struct {
	threads  int
	maxQueue int // more waiting than this are refused (errQueueFull)

	mu      sync.Mutex
	closed  bool
	stopped chan struct{}
	// The requests waiting for a worker, oldest first: each freed place wakes one (a token in its
	// channel), not all of them to race for it.
	waiters []chan struct{}
	workers []*workerConns
	running int           // workers asked for: those of the first running sockets
	scaled  chan struct{} // a token when running changed and the parent has not been told yet
}

// workerState is where a worker of the pool is in its life.
type workerState int

const (
	workerOff      workerState = iota // not running: its socket is free to start one on
	workerStarting                    // asked for, not serving yet: requests wait for it or others
	workerServing
	workerRetiring // asked to stop; its process may still hold the socket
)

// workerConns are the connections to one worker process.
type workerConns struct {
	index      int
	socketPath string
	state      workerState
	idle       []*backendConn // most recently used last
	inflight   int
	lastUsed   time.Time
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
		threads:  threads,
		maxQueue: maxQueue,
		stopped:  make(chan struct{}),
		scaled:   make(chan struct{}, 1),
		running:  1,
	}
	for i, path := range socketPaths {
		p.workers = append(p.workers, &workerConns{index: i, socketPath: path, lastUsed: time.Now()})
	}
	// The first worker's requests wait in its socket's backlog until it serves, as the deployment starts.
	p.workers[0].state = workerServing
	return p
}

// get returns a connection to the least busy serving worker, waiting for one to be free, unless
// maxQueue requests are waiting already.
func (p *pool) get(ctx context.Context) (*backendConn, error) {
	p.mu.Lock()
	for {
		if p.closed {
			p.mu.Unlock()
			return nil, errDeploymentStopped
		}
		if w := p.leastBusy(); w != nil {
			return p.take(w)
		}
		if len(p.waiters) >= p.maxQueue {
			p.mu.Unlock()
			return nil, errQueueFull
		}
		woken := make(chan struct{}, 1)
		p.waiters = append(p.waiters, woken)
		p.grow()
		p.mu.Unlock()
		var err error
		select {
		case <-woken:
		case <-p.stopped:
			err = errDeploymentStopped
		case <-ctx.Done():
			err = ctx.Err()
		}
		p.mu.Lock()
		if err != nil {
			if !p.leave(woken) {
				p.wakeOne() // woken meanwhile: the place it was woken for goes to the next
			}
			p.mu.Unlock()
			return nil, err
		}
	}
}

// leave takes a waiter that gave up out of the queue; false when it was woken, and so out already.
// p.mu is held.
func (p *pool) leave(woken chan struct{}) bool {
	for i, waiter := range p.waiters {
		if waiter == woken {
			p.waiters = append(p.waiters[:i], p.waiters[i+1:]...)
			return true
		}
	}
	return false
}

// leastBusy is the serving worker with the fewest requests in flight and room for one more, or nil.
// Spreading requests over the workers keeps each one's threads from fighting over its GIL. p.mu is held.
func (p *pool) leastBusy() *workerConns {
	var best *workerConns
	for _, w := range p.workers[:p.running] {
		if w.state == workerServing && w.inflight < p.threads && (best == nil || w.inflight < best.inflight) {
			best = w
		}
	}
	return best
}

// take returns a connection to w for one request: an idle one, or a new one. p.mu is held, and
// released.
func (p *pool) take(w *workerConns) (*backendConn, error) {
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
		p.wakeOne()
		p.mu.Unlock()
		return nil, err
	}
	return c, nil
}

// grow asks for one more worker when the waiting requests are more than the workers starting will
// take. p.mu is held.
func (p *pool) grow() {
	starting := 0
	for _, w := range p.workers[:p.running] {
		if w.state == workerStarting {
			starting++
		}
	}
	if len(p.waiters) <= starting*p.threads || p.running == len(p.workers) || p.workers[p.running].state != workerOff {
		return
	}
	p.workers[p.running].state = workerStarting
	p.running++
	p.tellScale()
}

// shrink stops the newest worker, beyond the first, once it has had no request for idle; it reports
// whether it did.
func (p *pool) shrink(idle time.Duration, now time.Time) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || p.running == 1 {
		return false
	}
	w := p.workers[p.running-1]
	if w.state != workerServing || w.inflight > 0 || now.Sub(w.lastUsed) < idle {
		return false
	}
	w.state = workerRetiring
	for _, c := range w.idle {
		_ = c.conn.Close() // idle: nothing in flight to lose
	}
	w.idle = nil
	p.running--
	p.tellScale()
	return true
}

// up records that worker index serves (a new one, or one that replaced a worker that died).
func (p *pool) up(index int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if index < p.running && p.workers[index].state == workerStarting {
		p.workers[index].state = workerServing
		p.workers[index].lastUsed = time.Now()
		for range p.threads {
			p.wakeOne()
		}
	}
}

// down records that the process of retired worker index has exited: its socket may run a new one.
func (p *pool) down(index int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if index >= p.running && index < len(p.workers) && p.workers[index].state == workerRetiring {
		p.workers[index].state = workerOff
		if len(p.waiters) > 0 {
			p.grow()
		}
	}
}

// scale is how many workers the parent is to run now.
func (p *pool) scale() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.running
}

// tellScale has the parent told of a new scale, once. p.mu is held.
func (p *pool) tellScale() {
	select {
	case p.scaled <- struct{}{}:
	default: // a token is there already: the scale read for it will be the newest
	}
}

// wakeOne lets the oldest waiting request look for a worker again. p.mu is held.
func (p *pool) wakeOne() {
	if len(p.waiters) > 0 {
		p.waiters[0] <- struct{}{}
		p.waiters[0] = nil
		p.waiters = p.waiters[1:]
	}
}

// queued is how many requests wait for a worker.
func (p *pool) queued() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.waiters)
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
	w.lastUsed = time.Now()
	switch {
	case reusable && !p.closed && w.state == workerServing:
		c.reused = true
		w.idle = append(w.idle, c)
		c = nil
	case !reusable:
		stale = w.idle
		w.idle = nil
	}
	p.wakeOne()
	p.mu.Unlock()
	// Closing a connection we are done with has nothing to report.
	if c != nil {
		_ = c.conn.Close()
	}
	for _, idle := range stale {
		_ = idle.conn.Close()
	}
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
