package apiserver

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
)

// followPoll is how often a followed build log is checked for more, and its build for its end.
var followPoll = 200 * time.Millisecond

// deploymentLogOrStream answers the build log as JSON, or streams it with ?follow=1.
func (s *Server) deploymentLogOrStream(w http.ResponseWriter, r *http.Request) {
	follow, _ := strconv.ParseBool(r.URL.Query().Get("follow"))
	if !follow {
		s.jsonHandler(s.deploymentLog)(w, r)
		return
	}
	s.followLog(w, r)
}

func (s *Server) deploymentLog(r *http.Request) (int, any, error) {
	d, err := s.deployment(r)
	if err != nil {
		return 0, nil, err
	}
	if err := s.fetchBuildLog(r.Context(), d); err != nil {
		return 0, nil, err
	}
	log, err := os.ReadFile(s.cfg.Deploy.LogPath(d.ID))
	if errors.Is(err, os.ErrNotExist) {
		return http.StatusOK, api.DeploymentLog{}, nil
	}
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, api.DeploymentLog{Log: string(log)}, nil
}

// followLog streams a deployment's build log as the build writes it, and ends the answer once
// the build has ended (READY, ERROR or CANCELED, or deleted) and the log is sent whole.
func (s *Server) followLog(w http.ResponseWriter, r *http.Request) {
	d, err := s.deployment(r)
	if err == nil {
		err = s.checkOffset(r)
	}
	if err != nil {
		s.writeFailure(w, r, err)
		return
	}
	offset, _ := strconv.ParseInt(r.URL.Query().Get("offset"), 10, 64)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	flusher := http.NewResponseController(w)
	ticker := time.NewTicker(followPoll)
	defer ticker.Stop()
	for {
		// The state is read before the log: once the build has ended, its log is complete.
		current, err := s.cfg.Store.GetDeployment(r.Context(), d.ID)
		ended := errors.Is(err, store.ErrNotFound) || (err == nil && buildEnded(current.State))
		if err != nil && !ended {
			s.cfg.Logger.Warn("following a build log: reading the deployment failed", "deployment", d.ID, "error", err)
			return // the client sees the stream break off, and may resume at its offset
		}
		if ended && err == nil {
			if err := s.fetchBuildLog(r.Context(), current); err != nil {
				s.cfg.Logger.Warn("following a build log: fetching it failed", "deployment", d.ID, "error", err)
				return
			}
		}
		if offset, err = copyLogFrom(w, s.cfg.Deploy.LogPath(d.ID), offset); err != nil {
			return // the client has gone
		}
		if ended {
			return
		}
		_ = flusher.Flush() // a client that has gone shows at the next write
		select {
		case <-r.Context().Done():
			return
		case <-ticker.C:
		}
	}
}

// fetchBuildLog brings the build log of a deployment another node built to this one, with its
// build output; the log of a build still running elsewhere is not here until it ends.
func (s *Server) fetchBuildLog(ctx context.Context, d *store.Deployment) error {
	if d.BuildOf != "" {
		return nil // a redeploy ran no build here or anywhere
	}
	if _, err := os.Stat(s.cfg.Deploy.LogPath(d.ID)); !errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return s.cfg.Deploy.Fetch(ctx, d)
}

func (s *Server) checkOffset(r *http.Request) error {
	text := r.URL.Query().Get("offset")
	if text == "" {
		return nil
	}
	if n, err := strconv.ParseInt(text, 10, 64); err != nil || n < 0 {
		return badRequest("offset", "offset %q is not a number of bytes: give how much of the log was already read, such as offset=1024", text)
	}
	return nil
}

func buildEnded(state string) bool {
	return state == api.StateReady || state == api.StateError || state == api.StateCanceled
}

// copyLogFrom writes what the log at path holds past offset and returns the new offset. A log
// shorter than offset was started over (a build resumed after a restart): it is sent again
// from its start, whose first line says so.
func copyLogFrom(w io.Writer, path string, offset int64) (int64, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return offset, nil // not started yet
	}
	if err != nil {
		return offset, err
	}
	defer func() { _ = f.Close() }() // read-only
	info, err := f.Stat()
	if err != nil {
		return offset, err
	}
	if info.Size() < offset {
		offset = 0
	}
	n, err := io.Copy(w, io.NewSectionReader(f, offset, info.Size()-offset))
	return offset + n, err
}
