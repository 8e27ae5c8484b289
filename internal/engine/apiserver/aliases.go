package apiserver

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
)

// getAlias answers where the project's production hostnames (or the one in
// the path) point.
func (s *Server) getAlias(r *http.Request) (int, any, error) {
	p, err := s.project(r.Context(), r)
	if err != nil {
		return 0, nil, err
	}
	out, err := s.alias(r, p)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, out, nil
}

func (s *Server) putAlias(r *http.Request) (int, any, error) {
	p, err := s.project(r.Context(), r)
	if err != nil {
		return 0, nil, err
	}
	var req api.AliasRequest
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	if req.DeploymentID == "" {
		return 0, nil, badRequest("deployment_id", "deployment_id is empty: give the id of a READY production deployment of project %s", p.Name)
	}
	d, err := s.cfg.Store.GetDeployment(r.Context(), req.DeploymentID)
	switch {
	case errors.Is(err, store.ErrNotFound) || (err == nil && d.ProjectID != p.ID):
		return 0, nil, &api.Error{Code: api.CodeNotFound, Field: "deployment_id", Message: fmt.Sprintf("deployment %q is not a deployment of project %s", req.DeploymentID, p.Name)}
	case err != nil:
		return 0, nil, err
	case d.Target != api.TargetProduction:
		return 0, nil, badRequest("deployment_id", "deployment %s was built for %s, with that target's environment variables: only production deployments can serve production; deploy the same source with production = true and point the alias at that deployment", d.ID, d.Target)
	}
	hostname := r.PathValue("hostname")
	before, err := s.cfg.Store.ProductionDeploymentID(r.Context(), p.ID)
	if err != nil {
		return 0, nil, err
	}
	err = s.cfg.Store.PinAlias(r.Context(), p.ID, hostname, d.ID)
	switch {
	case errors.Is(err, store.ErrNotReady):
		return 0, nil, &api.Error{Code: api.CodeConflict, Field: "deployment_id", Message: fmt.Sprintf("deployment %s is %s, not READY: an alias can only point at a deployment that serves; wait for its build, or choose another", d.ID, d.State)}
	case errors.Is(err, store.ErrNotFound):
		return 0, nil, notFound("%q is not a production hostname of project %s", hostname, p.Name)
	case err != nil:
		return 0, nil, err
	}
	s.cfg.Logger.Info("alias pinned", "project", p.Name, "hostname", hostname, "deployment", d.ID)
	s.productionMoved(r.Context(), p, before)
	out, err := s.alias(r, p)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, out, nil
}

func (s *Server) deleteAlias(r *http.Request) (int, any, error) {
	p, err := s.project(r.Context(), r)
	if err != nil {
		return 0, nil, err
	}
	hostname := r.PathValue("hostname")
	before, err := s.cfg.Store.ProductionDeploymentID(r.Context(), p.ID)
	if err != nil {
		return 0, nil, err
	}
	err = s.cfg.Store.UnpinAlias(r.Context(), p.ID, hostname)
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil, notFound("%q is not a production hostname of project %s", hostname, p.Name)
	}
	if err != nil {
		return 0, nil, err
	}
	s.cfg.Logger.Info("alias released", "project", p.Name, "hostname", hostname)
	s.productionMoved(r.Context(), p, before)
	return http.StatusNoContent, nil, nil
}

// alias reads where the hostnames the request names point: all production
// hostnames of p, or the one in its path.
func (s *Server) alias(r *http.Request, p *store.Project) (*api.Alias, error) {
	hostname := r.PathValue("hostname")
	aliases, err := s.cfg.Store.ListAliases(r.Context(), p.ID)
	if err != nil {
		return nil, err
	}
	out := &api.Alias{ProjectID: p.ID, Hostname: hostname, Pinned: true, URLs: []string{}}
	for _, a := range aliases {
		if hostname != "" && a.Hostname != hostname {
			continue
		}
		switch {
		case len(out.URLs) == 0:
			out.DeploymentID = a.DeploymentID
		case out.DeploymentID != a.DeploymentID:
			out.DeploymentID = ""
		}
		out.Pinned = out.Pinned && a.Pinned
		out.URLs = append(out.URLs, s.cfg.URL(a.Hostname))
	}
	if len(out.URLs) == 0 {
		return nil, notFound("%q is not a production hostname of project %s", hostname, p.Name)
	}
	return out, nil
}

// productionMoved tells webhooks where an alias change moved the project's production host
// from before: to an older deployment is a rollback, to a newer one a promotion.
func (s *Server) productionMoved(ctx context.Context, p *store.Project, before string) {
	after, err := s.cfg.Store.ProductionDeploymentID(ctx, p.ID)
	if err != nil || after == "" || after == before {
		if err != nil {
			s.cfg.Logger.Error("read where production points, for webhooks", "project", p.Name, "error", err)
		}
		return
	}
	now, err := s.cfg.Store.GetDeployment(ctx, after)
	if err != nil {
		s.cfg.Logger.Error("read the deployment production moved to, for webhooks", "deployment", after, "error", err)
		return
	}
	event := api.EventDeploymentPromoted
	if before != "" {
		if old, err := s.cfg.Store.GetDeployment(ctx, before); err == nil && now.CreatedAt.Before(old.CreatedAt) {
			event = api.EventDeploymentRolledBack
		}
	}
	s.cfg.Webhooks.Deployment(ctx, event, now, before)
}
