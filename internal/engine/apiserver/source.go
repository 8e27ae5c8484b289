package apiserver

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/artifacts"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
)

// sourceFiles is the file list a deployment was created with, sorted by path.
func sourceFiles(d *store.Deployment) ([]api.File, error) {
	var files []api.File
	if err := json.Unmarshal(d.Files, &files); err != nil {
		return nil, fmt.Errorf("reading the file list of deployment %s: %w", d.ID, err)
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	return files, nil
}

func (s *Server) listDeploymentFiles(r *http.Request) (int, any, error) {
	d, err := s.deployment(r)
	if err != nil {
		return 0, nil, err
	}
	files, err := sourceFiles(d)
	if err != nil {
		return 0, nil, err
	}
	if files == nil {
		files = []api.File{}
	}
	return http.StatusOK, api.DeploymentFiles{DeploymentID: d.ID, Files: files}, nil
}

// deploymentFile answers one source file's content from the artifact store, where every
// deployment's files are kept by digest (uploaded, or stored from the git commit).
func (s *Server) deploymentFile(w http.ResponseWriter, r *http.Request) {
	file, err := s.findSourceFile(r)
	if err != nil {
		s.writeFailure(w, r, err)
		return
	}
	content, err := s.cfg.Blobs.Open(r.Context(), file.Digest)
	if errors.Is(err, artifacts.ErrNotFound) {
		err = notFound("the content of %s is no longer stored (its blob was removed): redeploy the source to see it", file.Path)
	}
	if err != nil {
		s.writeFailure(w, r, err)
		return
	}
	defer func() { _ = content.Close() }() // read-only
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.FormatInt(file.Size, 10))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = io.Copy(w, io.LimitReader(content, file.Size)) // a failed copy means the client has gone
}

func (s *Server) findSourceFile(r *http.Request) (*api.File, error) {
	d, err := s.deployment(r)
	if err != nil {
		return nil, err
	}
	files, err := sourceFiles(d)
	if err != nil {
		return nil, err
	}
	path := r.PathValue("path")
	i := sort.Search(len(files), func(i int) bool { return files[i].Path >= path })
	if i == len(files) || files[i].Path != path {
		return nil, notFound("deployment %s has no file %q: list its files at %s", d.ID, path, api.PathDeploymentFiles)
	}
	if files[i].Size > api.MaxSourceFileBytes {
		return nil, &api.Error{Code: api.CodeTooLarge, Message: fmt.Sprintf("%s is %d bytes; source files are served up to %d bytes (%d MiB): read it from the source it was deployed from", path, files[i].Size, api.MaxSourceFileBytes, api.MaxSourceFileBytes>>20)}
	}
	return &files[i], nil
}
