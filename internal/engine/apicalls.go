package engine

import (
	"context"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
)

// apiCalls tracks the API calls in progress, so that a handover can stop
// every writer before the new engine opens the store. While paused it holds
// new calls (nothing is refused): when the handover succeeds they go on to
// the new engine, when it fails they run here.
type apiCalls struct {
	mu        sync.Mutex
	running   int
	drained   chan struct{} // while pausing: closed when no call runs
	held      chan struct{} // while paused: closed when the handover ends
	successor http.Handler  // once handed over: where calls go
}

// track wraps the API handler.
func (c *apiCalls) track(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		for c.held != nil {
			held := c.held
			c.mu.Unlock()
			select {
			case <-held:
			case <-r.Context().Done():
				return
			}
			c.mu.Lock()
		}
		if successor := c.successor; successor != nil {
			c.mu.Unlock()
			// The client's next call opens a connection, which the new engine accepts.
			w.Header().Set("Connection", "close")
			successor.ServeHTTP(w, r)
			return
		}
		if r.Method == http.MethodGet && r.URL.Query().Has("follow") {
			// A followed log only reads, and may go on for as long as its client likes: a
			// handover does not wait for it. The new engine serves the client's next follow.
			c.mu.Unlock()
			next.ServeHTTP(w, r)
			return
		}
		c.running++
		c.mu.Unlock()
		defer c.end()
		next.ServeHTTP(w, r)
	})
}

func (c *apiCalls) end() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.running--
	if c.running == 0 && c.drained != nil {
		close(c.drained)
		c.drained = nil
	}
}

// pause holds new calls and waits until the running ones have ended, or
// ctx does (then some may still run).
func (c *apiCalls) pause(ctx context.Context) error {
	c.mu.Lock()
	c.held = make(chan struct{})
	if c.running == 0 {
		c.mu.Unlock()
		return nil
	}
	drained := make(chan struct{})
	c.drained = drained
	c.mu.Unlock()
	select {
	case <-drained:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// resume releases the held calls: to successor, and every later call with
// them, or, when successor is nil, to run here as before.
func (c *apiCalls) resume(successor http.Handler) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.successor = successor
	c.drained = nil
	if c.held != nil {
		close(c.held)
		c.held = nil
	}
}

// forwardTo passes API calls on to the engine listening on socketPath.
func forwardTo(socketPath string) http.Handler {
	dialer := &net.Dialer{}
	return &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(&url.URL{Scheme: "http", Host: "ferry"})
		},
		Transport: &http.Transport{
			Proxy: nil,
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				return dialer.DialContext(ctx, "unix", socketPath)
			},
		},
	}
}
