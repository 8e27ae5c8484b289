package apiserver

import (
	"net/http"
	"slices"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
)

func (s *Server) envPull(r *http.Request) (int, any, error) {
	p, err := s.project(r.Context(), r)
	if err != nil {
		return 0, nil, err
	}
	target, gitBranch := r.URL.Query().Get("target"), r.URL.Query().Get("git_branch")
	if !slices.Contains([]string{api.TargetDevelopment, api.TargetPreview, api.TargetProduction}, target) {
		return 0, nil, badRequest("target", "target %q is not development, preview or production: ask %s?target=development", target, api.PathEnvPull)
	}
	if gitBranch != "" && target != api.TargetPreview {
		return 0, nil, badRequest("git_branch", "git_branch applies to the preview target only, not %s", target)
	}
	vars, err := s.cfg.Deploy.PulledEnv(r.Context(), p, target, gitBranch)
	if err != nil {
		return 0, nil, err
	}
	// Values in the clear go to the caller only: nothing of them is logged.
	s.cfg.Logger.Info("env pulled", "project", p.Name, "target", target, "git_branch", gitBranch, "vars", len(vars))
	return http.StatusOK, api.EnvPull{Target: target, GitBranch: gitBranch, Vars: vars}, nil
}
