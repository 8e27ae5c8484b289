package apiserver

import (
	"errors"
	"io"
	"net/http"
	"os"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/blobs"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
)

func (s *Server) hasFile(r *http.Request) (int, any, error) {
	if s.cfg.Blobs.Has(r.PathValue("digest")) {
		return http.StatusOK, nil, nil
	}
	return http.StatusNotFound, nil, nil
}

func (s *Server) putFile(r *http.Request) (int, any, error) {
	d := r.PathValue("digest")
	if !blobs.ValidDigest(d) {
		return 0, nil, badRequest("digest", "%q is not a sha256 digest: name each file by the lowercase hex sha256 of its content", d)
	}
	if r.ContentLength > maxFileSize {
		return 0, nil, badRequest("", "the file is %d bytes; the limit is %d", r.ContentLength, maxFileSize)
	}
	if err := s.cfg.Blobs.Put(d, io.LimitReader(r.Body, maxFileSize+1)); err != nil {
		return 0, nil, badRequest("", "%v", err)
	}
	return http.StatusNoContent, nil, nil
}

func (s *Server) toAPIDeployment(d *store.Deployment) *api.Deployment {
	return &api.Deployment{
		ID: d.ID, ProjectID: d.ProjectID, Target: d.Target, State: d.State,
		URL: s.cfg.URL(d.Hostname), Hostname: d.Hostname, SourceDigest: d.SourceDigest,
		Entrypoint: d.Entrypoint, ErrorMessage: d.ErrorMessage, CreatedAt: d.CreatedAt, ReadyAt: d.ReadyAt,
	}
}

func (s *Server) createDeployment(r *http.Request) (int, any, error) {
	var req api.DeploymentRequest
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	d, err := s.cfg.Deploy.Create(r.Context(), req)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, s.toAPIDeployment(d), nil
}

func (s *Server) deployment(r *http.Request) (*store.Deployment, error) {
	d, err := s.cfg.Store.GetDeployment(r.Context(), r.PathValue("deployment"))
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound("deployment %q does not exist", r.PathValue("deployment"))
	}
	return d, err
}

func (s *Server) getDeployment(r *http.Request) (int, any, error) {
	d, err := s.deployment(r)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, s.toAPIDeployment(d), nil
}

func (s *Server) listDeployments(r *http.Request) (int, any, error) {
	ref := r.URL.Query().Get("project")
	if ref == "" {
		return 0, nil, badRequest("project", "name the project: %s?project=NAME_OR_ID", api.PathDeployments)
	}
	p, err := s.cfg.Store.GetProject(r.Context(), ref)
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil, notFound("project %q does not exist", ref)
	}
	if err != nil {
		return 0, nil, err
	}
	deployments, err := s.cfg.Store.ListDeployments(r.Context(), p.ID)
	if err != nil {
		return 0, nil, err
	}
	list := api.DeploymentList{Deployments: []api.Deployment{}}
	for _, d := range deployments {
		list.Deployments = append(list.Deployments, *s.toAPIDeployment(d))
	}
	return http.StatusOK, list, nil
}

func (s *Server) deleteDeployment(r *http.Request) (int, any, error) {
	d, err := s.deployment(r)
	if err != nil {
		return 0, nil, err
	}
	if err := s.cfg.Deploy.Delete(r.Context(), d.ID); err != nil {
		return 0, nil, err
	}
	s.cfg.Logger.Info("deployment deleted", "deployment", d.ID)
	return http.StatusNoContent, nil, nil
}

func (s *Server) deploymentLog(r *http.Request) (int, any, error) {
	d, err := s.deployment(r)
	if err != nil {
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
