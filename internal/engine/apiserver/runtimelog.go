package apiserver

import (
	"bytes"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/logrotate"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
)

// projectRelistEvery is how many follow polls pass between two looks for a project's new deployments.
const projectRelistEvery = 5

// maxPendingLine bounds a line without its newline held back to be prefixed whole; longer, it goes out as is.
const maxPendingLine = 64 << 10

// runtimeLogQuery reads ?tail and ?follow.
func runtimeLogQuery(r *http.Request) (tail int, follow bool, err error) {
	tail = api.DefaultRuntimeLogTail
	if text := r.URL.Query().Get("tail"); text != "" {
		n, convErr := strconv.Atoi(text)
		if convErr != nil || n < 0 || n > api.MaxRuntimeLogTail {
			return 0, false, badRequest("tail", "tail %q is not a number of lines from 0 to %d: give how many of the last lines to send, such as tail=200", text, api.MaxRuntimeLogTail)
		}
		tail = n
	}
	if text := r.URL.Query().Get("follow"); text != "" {
		if follow, err = strconv.ParseBool(text); err != nil {
			return 0, false, badRequest("follow", "follow %q is not a boolean: give one such as follow=1 to keep streaming new lines, or leave it out", text)
		}
	}
	return tail, follow, nil
}

func startTextStream(w http.ResponseWriter) *http.ResponseController {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	return http.NewResponseController(w)
}

// deploymentRuntimeLog answers the last lines of what a deployment's instances printed, and with
// ?follow=1 goes on with each new line until the client goes or the deployment is deleted.
func (s *Server) deploymentRuntimeLog(w http.ResponseWriter, r *http.Request) {
	d, err := s.deployment(r)
	if err != nil {
		s.writeFailure(w, r, err)
		return
	}
	tail, follow, err := runtimeLogQuery(r)
	if err != nil {
		s.writeFailure(w, r, err)
		return
	}
	text, follower, err := logrotate.Tail(s.cfg.Observe.RuntimeLogPath(d.ID), tail)
	if err != nil {
		s.writeFailure(w, r, err)
		return
	}
	flusher := startTextStream(w)
	if _, err := w.Write(text); err != nil || !follow {
		return
	}
	_ = flusher.Flush() // a client that has gone shows at the next write
	ticker := time.NewTicker(followPoll)
	defer ticker.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-s.cfg.Observe.Stopping:
			return
		case <-ticker.C:
		}
		if _, err := s.cfg.Store.GetDeployment(r.Context(), d.ID); errors.Is(err, store.ErrNotFound) {
			return
		} else if err != nil {
			s.cfg.Logger.Warn("following a runtime log: reading the deployment failed", "deployment", d.ID, "error", err)
			return // the client sees the stream end and may follow again
		}
		more, err := follower.Next()
		if err != nil {
			s.cfg.Logger.Warn("following a runtime log: reading it failed", "deployment", d.ID, "error", err)
			return
		}
		if len(more) > 0 {
			if _, err := w.Write(more); err != nil {
				return
			}
			_ = flusher.Flush()
		}
	}
}

// prefixedLog is one deployment's part of a project's runtime log: whole lines, each prefixed by its id.
type prefixedLog struct {
	prefix   []byte
	follower *logrotate.Follower
	pending  []byte // the start of a line whose newline has not come yet
}

// lines returns the whole lines of text (after what was pending) prefixed, and keeps the rest pending.
func (p *prefixedLog) lines(text []byte) []byte {
	p.pending = append(p.pending, text...)
	var out []byte
	for {
		i := bytes.IndexByte(p.pending, '\n')
		if i < 0 && len(p.pending) < maxPendingLine {
			break
		}
		if i < 0 {
			i = len(p.pending) - 1 // too long to hold back: out as is, with a newline added
			p.pending = append(p.pending, '\n')
		}
		out = append(out, p.prefix...)
		out = append(out, p.pending[:i+1]...)
		p.pending = p.pending[i+1:]
	}
	if len(p.pending) == 0 {
		p.pending = nil
	}
	return out
}

// projectRuntimeLog answers the runtime logs of every deployment of a project (oldest deployment
// first, the last ?tail lines of each), each line prefixed by its deployment's id; with
// ?follow=1 it goes on with new lines, of new deployments too, until the client goes or the
// project is deleted.
func (s *Server) projectRuntimeLog(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p, err := s.project(ctx, r)
	if err != nil {
		s.writeFailure(w, r, err)
		return
	}
	tail, follow, err := runtimeLogQuery(r)
	if err != nil {
		s.writeFailure(w, r, err)
		return
	}
	logs := map[string]*prefixedLog{}
	// relist follows the deployments not followed yet and returns the last tail lines of each
	// (fromStart: all they printed), and stops following those deleted.
	relist := func(fromStart bool) ([]byte, error) {
		list, err := s.cfg.Store.ListDeployments(ctx, p.ID)
		if err != nil {
			return nil, err
		}
		slices.Reverse(list) // oldest first
		listed := map[string]bool{}
		var out []byte
		for _, d := range list {
			listed[d.ID] = true
			if logs[d.ID] != nil {
				continue
			}
			path := s.cfg.Observe.RuntimeLogPath(d.ID)
			var text []byte
			follower := logrotate.FollowFromStart(path)
			if !fromStart {
				if text, follower, err = logrotate.Tail(path, tail); err != nil {
					return nil, err
				}
			}
			l := &prefixedLog{prefix: []byte(d.ID + " "), follower: follower}
			logs[d.ID] = l
			out = append(out, l.lines(text)...)
			if len(l.pending) > 0 { // the last line of the tail, still being written
				out = append(out, l.lines([]byte{'\n'})...)
			}
		}
		for id := range logs {
			if !listed[id] {
				delete(logs, id)
			}
		}
		return out, nil
	}
	text, err := relist(false)
	if err != nil {
		s.writeFailure(w, r, err)
		return
	}
	flusher := startTextStream(w)
	if _, err := w.Write(text); err != nil || !follow {
		return
	}
	_ = flusher.Flush()
	ticker := time.NewTicker(followPoll)
	defer ticker.Stop()
	for polls := 1; ; polls++ {
		select {
		case <-ctx.Done():
			return
		case <-s.cfg.Observe.Stopping:
			return
		case <-ticker.C:
		}
		var out []byte
		if polls%projectRelistEvery == 0 {
			if _, err := s.cfg.Store.GetProject(ctx, p.ID); errors.Is(err, store.ErrNotFound) {
				return
			}
			// A deployment created while following is read from its start: all it printed is new.
			more, err := relist(true)
			if err != nil {
				s.cfg.Logger.Warn("following a project's runtime log: listing its deployments failed", "project", p.Name, "error", err)
				return
			}
			out = append(out, more...)
		}
		for _, l := range logs {
			more, err := l.follower.Next()
			if err != nil {
				s.cfg.Logger.Warn("following a project's runtime log: reading one failed", "project", p.Name, "error", err)
				return
			}
			out = append(out, l.lines(more)...)
		}
		if len(out) > 0 {
			if _, err := w.Write(out); err != nil {
				return
			}
			_ = flusher.Flush()
		}
	}
}
