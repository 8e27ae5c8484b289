package apiserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/artifacts"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
)

func (s *Server) hasFile(r *http.Request) (int, any, error) {
	d := r.PathValue("digest")
	if !artifacts.ValidDigest(d) {
		return http.StatusNotFound, nil, nil
	}
	_, err := s.cfg.Blobs.Keep(r.Context(), d)
	switch {
	case err == nil:
		return http.StatusOK, nil, nil
	case errors.Is(err, artifacts.ErrNotFound):
		return http.StatusNotFound, nil, nil
	}
	return 0, nil, err
}

func (s *Server) putFile(r *http.Request) (int, any, error) {
	d := r.PathValue("digest")
	if !artifacts.ValidDigest(d) {
		return 0, nil, badRequest("digest", "%q is not a sha256 digest: name each file by the lowercase hex sha256 of its content", d)
	}
	if r.ContentLength > maxFileSize {
		return 0, nil, fileTooLarge(r.ContentLength)
	}
	err := s.cfg.Blobs.Write(r.Context(), d, uploadBody{http.MaxBytesReader(nil, r.Body, maxFileSize)})
	var readErr uploadReadError
	var tooLarge *http.MaxBytesError
	switch {
	case err == nil:
		return http.StatusNoContent, nil, nil
	case errors.As(err, &tooLarge):
		return 0, nil, fileTooLarge(-1)
	case errors.As(err, &readErr):
		return 0, nil, badRequest("", "reading the upload failed (%v): upload the file again", readErr.err)
	case errors.Is(err, artifacts.ErrDigestMismatch):
		return 0, nil, badRequest("digest", "%v", err)
	}
	// Anything else failed on the engine's side (a full disk, say): a 5xx,
	// so that the client does not take it for its own mistake.
	return 0, nil, err
}

func fileTooLarge(size int64) *api.Error {
	what := "the file is larger than"
	if size >= 0 {
		what = fmt.Sprintf("the file is %d bytes, more than", size)
	}
	return &api.Error{Code: api.CodeTooLarge, Message: fmt.Sprintf("%s the limit of %d bytes (%d MiB) per file: keep large data out of the source directory (store it elsewhere and fetch it at run time)", what, maxFileSize, maxFileSize>>20)}
}

// uploadBody marks errors of reading the request body, so that they are
// told apart from errors of writing the blob.
type uploadBody struct{ r io.Reader }

type uploadReadError struct{ err error }

func (e uploadReadError) Error() string { return e.err.Error() }
func (e uploadReadError) Unwrap() error { return e.err }

func (b uploadBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF {
		err = uploadReadError{err}
	}
	return n, err
}

// toAPIDeployment is d as the API shows it; projectName names its branch URL.
func (s *Server) toAPIDeployment(d *store.Deployment, projectName string) *api.Deployment {
	out := &api.Deployment{
		ID: d.ID, ProjectID: d.ProjectID, Target: d.Target, State: d.State,
		URL: s.cfg.URL(d.Hostname), Hostname: d.Hostname, SourceDigest: d.SourceDigest,
		ErrorMessage: d.ErrorMessage, CreatedAt: d.CreatedAt, ReadyAt: d.ReadyAt,
		Git: d.Git, GitBranch: d.GitBranch, EnvDigest: d.EnvDigest, ReusedBuildOf: d.BuildOf,
	}
	if d.Run != nil {
		out.Entrypoint, out.PythonVersion = d.Run.Entrypoint, d.Run.PythonVersion
	}
	if d.GitBranch != "" {
		out.BranchURL = s.cfg.URL(s.cfg.Hosts.BranchHost(projectName, d.GitBranch))
	}
	return out
}

// showDeployment is toAPIDeployment for a deployment whose project is to be looked up: one just
// created, whose project may have been deleted since.
func (s *Server) showDeployment(ctx context.Context, d *store.Deployment) (*api.Deployment, error) {
	p, err := s.cfg.Store.GetProject(ctx, d.ProjectID)
	if errors.Is(err, store.ErrNotFound) {
		// The project was deleted since d was read, and d with it.
		return nil, notFound("deployment %q was deleted with its project", d.ID)
	}
	if err != nil {
		return nil, err
	}
	return s.toAPIDeployment(d, p.Name), nil
}

func (s *Server) createDeployment(r *http.Request) (int, any, error) {
	var req api.DeploymentRequest
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	if err := s.mayDeploy(r.Context(), req); err != nil {
		return 0, nil, err
	}
	d, err := s.cfg.Deploy.Create(r.Context(), req)
	if err != nil {
		return 0, nil, err
	}
	out, err := s.showDeployment(r.Context(), d)
	return http.StatusCreated, out, err
}

// resolveGit answers which commit a git source names now, fetching it.
func (s *Server) resolveGit(r *http.Request) (int, any, error) {
	var req api.GitResolveRequest
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	var project *store.Project
	if req.ProjectID != "" {
		p, err := s.visibleProject(r.Context(), req.ProjectID)
		if err != nil {
			return 0, nil, err
		}
		project = p
	}
	checkout, err := s.cfg.Deploy.ResolveGit(r.Context(), project, req.GitSource)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, checkout.Commit, nil
}

func (s *Server) deployment(r *http.Request) (*store.Deployment, error) {
	d, _, err := s.visibleDeployment(r.Context(), r.PathValue("deployment"))
	return d, err
}

// visibleDeployment loads a deployment and its project, if the caller may reach the project:
// another team's answers exactly as a missing one.
func (s *Server) visibleDeployment(ctx context.Context, id string) (*store.Deployment, *store.Project, error) {
	d, err := s.cfg.Store.GetDeployment(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, notFound("deployment %q does not exist", id)
	}
	if err != nil {
		return nil, nil, err
	}
	p, err := s.visibleProject(ctx, d.ProjectID)
	if err != nil {
		if errors.As(err, new(*api.Error)) {
			return nil, nil, notFound("deployment %q does not exist", id)
		}
		return nil, nil, err
	}
	return d, p, nil
}

func (s *Server) getDeployment(r *http.Request) (int, any, error) {
	d, p, err := s.visibleDeployment(r.Context(), r.PathValue("deployment"))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, s.toAPIDeployment(d, p.Name), nil
}

func (s *Server) listDeployments(r *http.Request) (int, any, error) {
	ref := r.URL.Query().Get("project")
	if ref == "" {
		return 0, nil, badRequest("project", "name the project: %s?project=NAME_OR_ID", api.PathDeployments)
	}
	p, err := s.visibleProject(r.Context(), ref)
	if err != nil {
		return 0, nil, err
	}
	deployments, err := s.cfg.Store.ListDeployments(r.Context(), p.ID)
	if err != nil {
		return 0, nil, err
	}
	list := api.DeploymentList{Deployments: []api.Deployment{}}
	for _, d := range deployments {
		list.Deployments = append(list.Deployments, *s.toAPIDeployment(d, p.Name))
	}
	return http.StatusOK, list, nil
}

func (s *Server) deleteDeployment(r *http.Request) (int, any, error) {
	d, err := s.deployment(r)
	if err != nil {
		return 0, nil, err
	}
	err = s.cfg.Deploy.Delete(r.Context(), d.ID)
	if errors.Is(err, store.ErrPinned) {
		return 0, nil, &api.Error{Code: api.CodeConflict, Message: fmt.Sprintf("deployment %s serves production hostnames through an alias (ferry_alias): point the alias at another deployment, or remove it, then delete this one", d.ID)}
	}
	if err != nil {
		return 0, nil, err
	}
	s.cfg.Logger.Info("deployment deleted", "deployment", d.ID)
	return http.StatusNoContent, nil, nil
}

func (s *Server) cancelDeployment(r *http.Request) (int, any, error) {
	_, p, err := s.visibleDeployment(r.Context(), r.PathValue("deployment"))
	if err != nil {
		return 0, nil, err
	}
	d, err := s.cfg.Deploy.Cancel(r.Context(), r.PathValue("deployment"))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, s.toAPIDeployment(d, p.Name), nil
}

// mayDeploy refuses a deployment of a project the caller may not reach, or a redeploy of a
// deployment it may not reach, as if they did not exist.
func (s *Server) mayDeploy(ctx context.Context, req api.DeploymentRequest) error {
	var project *store.Project
	if req.RedeployOf != "" {
		_, p, err := s.visibleDeployment(ctx, req.RedeployOf)
		if err != nil {
			return err
		}
		project = p
	}
	if req.ProjectID != "" {
		p, err := s.visibleProject(ctx, req.ProjectID)
		if err != nil {
			var apiErr *api.Error
			if errors.As(err, &apiErr) {
				apiErr.Field = "project_id"
			}
			return err
		}
		project = p
	}
	if project == nil || s.cfg.Plans == nil {
		return nil // without a project the deployer refuses it, saying what is missing
	}
	return s.cfg.Plans.RefuseDeployment(ctx, project)
}
