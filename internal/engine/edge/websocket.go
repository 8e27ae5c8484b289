package edge

import (
	"context"
	"net/http"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/workers"
)

// openSocket is a WebSocket the edge handed to a deployment's app.
type openSocket struct {
	host   string
	app    *workers.App
	cancel context.CancelCauseFunc
}

// trackSocket gives a WebSocket upgrade a context that the edge ends, with
// workers.ErrDeploymentReplaced, once its host serves another deployment (a
// promotion, a rollback, a new branch build): the runtime then closes the
// socket with 1001 so that the client reconnects to the new one. The returned
// function forgets it.
func (r *Router) trackSocket(req *http.Request, host string, app *workers.App) (*http.Request, func()) {
	ctx, cancel := context.WithCancelCause(req.Context())
	socket := &openSocket{host: host, app: app, cancel: cancel}
	r.socketsMu.Lock()
	if r.sockets == nil {
		r.sockets = map[*openSocket]struct{}{}
	}
	r.sockets[socket] = struct{}{}
	r.socketsMu.Unlock()
	return req.WithContext(ctx), func() {
		r.socketsMu.Lock()
		delete(r.sockets, socket)
		r.socketsMu.Unlock()
		cancel(nil)
	}
}

// endReplacedSockets ends the sockets whose host leads elsewhere in t.
func (r *Router) endReplacedSockets(t *table) {
	r.socketsMu.Lock()
	defer r.socketsMu.Unlock()
	for socket := range r.sockets {
		if rt, _, ok := t.lookup(socket.host); !ok || rt.app != socket.app {
			socket.cancel(workers.ErrDeploymentReplaced)
		}
	}
}
