package apiserver

import (
	"errors"
	"fmt"
	"net/http"
	"path"
	"strings"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/deploy"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
)

func validateProject(req *api.ProjectRequest) error {
	if problem := api.ProjectNameProblem(req.Name); problem != "" {
		return badRequest("name", "%s", problem)
	}
	switch req.Framework {
	case "":
		req.Framework = api.FrameworkAuto
	case api.FrameworkAuto, api.FrameworkFlask, api.FrameworkFastAPI:
	default:
		return badRequest("framework", "framework %q is not supported: use auto, flask or fastapi", req.Framework)
	}
	root := req.RootDirectory
	if root == "" {
		root = "."
	}
	clean := path.Clean(root)
	if path.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, "../") || strings.Contains(root, "\\") {
		return badRequest("root_directory", "root_directory %q must be a relative path inside the source (e.g. \".\" or \"backend\")", req.RootDirectory)
	}
	req.RootDirectory = clean
	if repo := req.GitRepository; repo != nil {
		if strings.TrimSpace(repo.URL) == "" {
			return badRequest("git_repository.url", "git_repository has no url: give the repository's https:// or ssh URL (or an absolute path on the engine's machine)")
		}
		if repo.ProductionBranch != "" {
			if problem := api.GitBranchProblem(repo.ProductionBranch); problem != "" {
				return badRequest("git_repository.production_branch", "production_branch: %s", problem)
			}
		}
	}
	if r := req.Retention; r != nil {
		for field, period := range map[string]*string{"production": &r.Production, "preview": &r.Preview, "errored": &r.Errored, "canceled": &r.Canceled} {
			if *period == "" {
				*period = api.RetentionUnlimited
			}
			if problem := api.RetentionProblem(*period); problem != "" {
				return badRequest("retention."+field, "retention.%s: %s", field, problem)
			}
		}
	}
	return nil
}

// applySettings gives p the settings of req.
func applySettings(p *store.Project, req *api.ProjectRequest) {
	p.Name, p.Framework, p.RootDirectory = req.Name, req.Framework, req.RootDirectory
	p.InstallCommand, p.BuildCommand = req.InstallCommand, req.BuildCommand
	p.GitRepositoryURL, p.ProductionBranch = "", ""
	if repo := req.GitRepository; repo != nil {
		p.GitRepositoryURL, p.ProductionBranch = repo.URL, repo.ProductionBranch
	}
	p.Retention = api.Retention{}
	if req.Retention != nil {
		p.Retention = *req.Retention
	}
}

// retentionInForce is a project's retention with "unlimited" for what is unset.
func retentionInForce(r api.Retention) api.Retention {
	for _, period := range []*string{&r.Production, &r.Preview, &r.Errored, &r.Canceled} {
		if *period == "" {
			*period = api.RetentionUnlimited
		}
	}
	return r
}

func (s *Server) toAPIProject(r *http.Request, p *store.Project) (*api.Project, error) {
	production, err := s.cfg.Store.ProductionDeploymentID(r.Context(), p.ID)
	if err != nil {
		return nil, err
	}
	limits, err := s.projectLimits(r.Context(), p.ID)
	if err != nil {
		return nil, err
	}
	protection, err := s.previewProtectionOf(r.Context(), p.ID)
	if err != nil {
		return nil, err
	}
	var repo *api.GitRepository
	if p.GitRepositoryURL != "" {
		repo = &api.GitRepository{URL: p.GitRepositoryURL, ProductionBranch: p.ProductionBranch}
	}
	return &api.Project{
		GitRepository:          repo,
		Retention:              retentionInForce(p.Retention),
		ID:                     p.ID,
		Name:                   p.Name,
		TeamID:                 p.TeamID,
		Framework:              p.Framework,
		RootDirectory:          p.RootDirectory,
		InstallCommand:         p.InstallCommand,
		BuildCommand:           p.BuildCommand,
		ProductionURL:          s.cfg.URL(s.cfg.Hosts.ProductionHost(p.Name)),
		ProductionDeploymentID: production,
		Limits:                 limits,
		CreatedAt:              p.CreatedAt,
		UpdatedAt:              p.UpdatedAt,
		PreviewProtection:      previewProtectionOut(protection),
	}, nil
}

func (s *Server) createProject(r *http.Request) (int, any, error) {
	var req api.ProjectRequest
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	if err := validateProject(&req); err != nil {
		return 0, nil, err
	}
	if err := validateLimits(req.Limits, s.cfg.MaxLimits); err != nil {
		return 0, nil, err
	}
	if err := validatePreviewProtection(req.PreviewProtection, nil); err != nil {
		return 0, nil, err
	}
	if caller := principalOf(r.Context()); !caller.Operator && len(caller.Token.Projects) > 0 {
		return 0, nil, &api.Error{Code: api.CodeForbidden, Message: fmt.Sprintf("token %s is limited to projects, so it may not create one: use an admin token of team %s that is not limited", caller.Token.Name, caller.Team.Name)}
	}
	team, err := s.projectTeam(r.Context(), req.Team)
	if err != nil {
		return 0, nil, err
	}
	if err := s.withinPlan(r.Context(), team.ID, req.Limits); err != nil {
		return 0, nil, err
	}
	p := &store.Project{ID: deploy.NewID("prj"), TeamID: team.ID}
	noteTeam(r.Context(), team.ID)
	applySettings(p, &req)
	err = s.cfg.Store.CreateProject(r.Context(), p, s.cfg.Hosts.ProductionHost(p.Name))
	if errors.Is(err, store.ErrHostnameTaken) {
		return 0, nil, s.hostnameTaken(p.Name)
	}
	if errors.Is(err, store.ErrConflict) {
		return 0, nil, &api.Error{Code: api.CodeConflict, Field: "name",
			Message: fmt.Sprintf("a project named %q already exists: choose another name, or import the existing one (terraform import ferry_project.NAME %s)", p.Name, p.Name)}
	}
	if err != nil {
		return 0, nil, err
	}
	if err := s.cfg.Store.SetProjectLimits(r.Context(), p.ID, req.Limits); err != nil {
		return 0, nil, err
	}
	if err := s.applyPreviewProtection(r.Context(), p.ID, req.PreviewProtection, nil); err != nil {
		return 0, nil, err
	}
	s.cfg.Logger.Info("project created", "project", p.Name, "id", p.ID)
	out, err := s.toAPIProject(r, p)
	return http.StatusCreated, out, err
}

// hostnameTaken is the conflict of a project whose production hostname is
// already another's: a deployment's own host or another project's alias.
func (s *Server) hostnameTaken(name string) *api.Error {
	return &api.Error{Code: api.CodeConflict, Field: "name",
		Message: fmt.Sprintf("the hostname %s of a project named %q is already in use by another project or deployment: choose another name", s.cfg.Hosts.ProductionHost(name), name)}
}

func (s *Server) getProject(r *http.Request) (int, any, error) {
	p, err := s.project(r.Context(), r)
	if err != nil {
		return 0, nil, err
	}
	out, err := s.toAPIProject(r, p)
	return http.StatusOK, out, err
}

func (s *Server) listProjects(r *http.Request) (int, any, error) {
	projects, err := s.cfg.Store.ListProjects(r.Context())
	if err != nil {
		return 0, nil, err
	}
	list := api.ProjectList{Projects: []api.Project{}}
	caller := principalOf(r.Context())
	for _, p := range projects {
		if !caller.sees(p) {
			continue
		}
		out, err := s.toAPIProject(r, p)
		if err != nil {
			return 0, nil, err
		}
		list.Projects = append(list.Projects, *out)
	}
	return http.StatusOK, list, nil
}

func (s *Server) updateProject(r *http.Request) (int, any, error) {
	p, err := s.project(r.Context(), r)
	if err != nil {
		return 0, nil, err
	}
	var req api.ProjectRequest
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	if err := validateProject(&req); err != nil {
		return 0, nil, err
	}
	if err := validateLimits(req.Limits, s.cfg.MaxLimits); err != nil {
		return 0, nil, err
	}
	if req.Team != "" {
		team, err := s.projectTeam(r.Context(), req.Team)
		if err != nil {
			return 0, nil, err
		}
		if team.ID != p.TeamID && !principalOf(r.Context()).Operator {
			return 0, nil, &api.Error{Code: api.CodeForbidden, Field: "team", Message: "only the engine's operator may move a project to another team"}
		}
		p.TeamID = team.ID
	}
	if err := s.withinPlan(r.Context(), p.TeamID, req.Limits); err != nil {
		return 0, nil, err
	}
	protection, err := s.previewProtectionOf(r.Context(), p.ID)
	if err != nil {
		return 0, nil, err
	}
	if err := validatePreviewProtection(req.PreviewProtection, protection); err != nil {
		return 0, nil, err
	}
	applySettings(p, &req)
	err = s.cfg.Store.UpdateProject(r.Context(), p, s.cfg.Hosts.ProductionHost(p.Name),
		func(branch string) string { return s.cfg.Hosts.BranchHost(p.Name, branch) })
	if errors.Is(err, store.ErrHostnameTaken) {
		return 0, nil, s.hostnameTaken(p.Name)
	}
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil, notFound("project %q does not exist", r.PathValue("project"))
	}
	if errors.Is(err, store.ErrConflict) {
		return 0, nil, &api.Error{Code: api.CodeConflict, Field: "name", Message: fmt.Sprintf("a project named %q already exists: choose another name", p.Name)}
	}
	if err != nil {
		return 0, nil, err
	}
	if err := s.cfg.Store.SetProjectLimits(r.Context(), p.ID, req.Limits); err != nil {
		return 0, nil, err
	}
	if err := s.applyPreviewProtection(r.Context(), p.ID, req.PreviewProtection, protection); err != nil {
		return 0, nil, err
	}
	out, err := s.toAPIProject(r, p)
	return http.StatusOK, out, err
}

func (s *Server) deleteProject(r *http.Request) (int, any, error) {
	p, err := s.project(r.Context(), r)
	if err != nil {
		return 0, nil, err
	}
	if err := s.cfg.Deploy.DeleteProject(r.Context(), p.ID); err != nil {
		return 0, nil, err
	}
	s.cfg.Logger.Info("project deleted", "project", p.Name, "id", p.ID)
	return http.StatusNoContent, nil, nil
}
