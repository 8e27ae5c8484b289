package apiserver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/deploy"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
)

func validateEnvVar(req *api.EnvVarRequest) error {
	if problem := api.EnvKeyProblem(req.Key); problem != "" {
		return badRequest("key", "%s", problem)
	}
	if problem := api.EnvValueProblem(req.Value); problem != "" {
		return badRequest("value", "%s: %s", req.Key, problem)
	}
	if problem := api.EnvTargetsProblem(req.Targets); problem != "" {
		return badRequest("target", "%s: %s", req.Key, problem)
	}
	sort.Strings(req.Targets)
	if req.GitBranch != "" {
		if problem := api.GitBranchProblem(req.GitBranch); problem != "" {
			return badRequest("git_branch", "git_branch of %s: %s", req.Key, problem)
		}
		// As on Vercel: a branch's own value is for its previews; production has one branch.
		if len(req.Targets) != 1 || req.Targets[0] != api.TargetPreview {
			return badRequest("git_branch", "%s has git_branch %q with target %v: a variable limited to a git branch applies to preview deployments of that branch only; set target = [\"preview\"]", req.Key, req.GitBranch, req.Targets)
		}
	}
	return nil
}

// toAPIEnvVar reports the value's digest computed from the sealed value
// itself, not the stored one: rows written before digests were keyed hold a
// plain sha256, which must never reach a client.
func (s *Server) toAPIEnvVar(ctx context.Context, v *store.EnvVar, decrypt bool) (*api.EnvVar, error) {
	plain, err := s.cfg.Secrets.Open(ctx, v.SealedValue)
	if err != nil {
		return nil, err
	}
	digest, err := s.cfg.Secrets.Digest(ctx, plain)
	if err != nil {
		return nil, err
	}
	out := &api.EnvVar{
		ID: v.ID, ProjectID: v.ProjectID, Key: v.Key, ValueDigest: digest, Targets: v.Targets,
		GitBranch: v.GitBranch, Comment: v.Comment, CreatedAt: v.CreatedAt, UpdatedAt: v.UpdatedAt,
	}
	if decrypt {
		out.Value = string(plain)
	}
	return out, nil
}

// seal gives v value, sealed, with its digest.
func (s *Server) seal(ctx context.Context, v *store.EnvVar, value string) error {
	sealed, err := s.cfg.Secrets.Seal(ctx, []byte(value))
	if err != nil {
		return fmt.Errorf("seal the value of %s: %w", v.Key, err)
	}
	digest, err := s.cfg.Secrets.Digest(ctx, []byte(value))
	if err != nil {
		return fmt.Errorf("digest the value of %s: %w", v.Key, err)
	}
	v.SealedValue, v.ValueDigest = sealed, digest
	return nil
}

func conflictOrErr(err error) error {
	var dup *store.DuplicateEnvError
	if errors.As(err, &dup) {
		return &api.Error{Code: api.CodeConflict, Field: "key",
			Message: dup.Error() + " in this project: a key may be set once per target (and git branch), by an env var or an integration; change the existing one, or remove that target from one of them"}
	}
	return err
}

func (s *Server) createEnvVar(r *http.Request) (int, any, error) {
	p, err := s.project(r.Context(), r)
	if err != nil {
		return 0, nil, err
	}
	var req api.EnvVarRequest
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	if err := validateEnvVar(&req); err != nil {
		return 0, nil, err
	}
	v := &store.EnvVar{
		ID: deploy.NewID("env"), ProjectID: p.ID, Key: req.Key,
		Targets: req.Targets, GitBranch: req.GitBranch, Comment: req.Comment,
	}
	if err := s.seal(r.Context(), v, req.Value); err != nil {
		return 0, nil, err
	}
	if err := s.cfg.Store.CreateEnvVar(r.Context(), v); err != nil {
		return 0, nil, conflictOrErr(err)
	}
	s.cfg.Logger.Info("env var created", "project", p.Name, "key", v.Key, "targets", v.Targets)
	out, err := s.toAPIEnvVar(r.Context(), v, false)
	return http.StatusCreated, out, err
}

func (s *Server) envVar(r *http.Request) (*store.Project, *store.EnvVar, error) {
	p, err := s.project(r.Context(), r)
	if err != nil {
		return nil, nil, err
	}
	v, err := s.cfg.Store.GetEnvVar(r.Context(), p.ID, r.PathValue("env"))
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, notFound("env var %q does not exist in project %s", r.PathValue("env"), p.Name)
	}
	return p, v, err
}

func (s *Server) getEnvVar(r *http.Request) (int, any, error) {
	_, v, err := s.envVar(r)
	if err != nil {
		return 0, nil, err
	}
	out, err := s.toAPIEnvVar(r.Context(), v, wantsSecrets(r))
	return http.StatusOK, out, err
}

func (s *Server) listEnvVars(r *http.Request) (int, any, error) {
	p, err := s.project(r.Context(), r)
	if err != nil {
		return 0, nil, err
	}
	vars, err := s.cfg.Store.ListEnvVars(r.Context(), p.ID)
	if err != nil {
		return 0, nil, err
	}
	list := api.EnvVarList{EnvVars: []api.EnvVar{}}
	for _, v := range vars {
		out, err := s.toAPIEnvVar(r.Context(), v, wantsSecrets(r))
		if err != nil {
			return 0, nil, err
		}
		list.EnvVars = append(list.EnvVars, *out)
	}
	return http.StatusOK, list, nil
}

func (s *Server) updateEnvVar(r *http.Request) (int, any, error) {
	p, v, err := s.envVar(r)
	if err != nil {
		return 0, nil, err
	}
	var req api.EnvVarRequest
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	if err := validateEnvVar(&req); err != nil {
		return 0, nil, err
	}
	v.Key, v.Targets, v.GitBranch, v.Comment = req.Key, req.Targets, req.GitBranch, req.Comment
	if err := s.seal(r.Context(), v, req.Value); err != nil {
		return 0, nil, err
	}
	if err := s.cfg.Store.UpdateEnvVar(r.Context(), v); err != nil {
		return 0, nil, conflictOrErr(err)
	}
	s.cfg.Logger.Info("env var updated", "project", p.Name, "key", v.Key, "targets", v.Targets)
	out, err := s.toAPIEnvVar(r.Context(), v, false)
	return http.StatusOK, out, err
}

func (s *Server) deleteEnvVar(r *http.Request) (int, any, error) {
	p, v, err := s.envVar(r)
	if err != nil {
		return 0, nil, err
	}
	if err := s.cfg.Store.DeleteEnvVar(r.Context(), p.ID, v.ID); err != nil {
		return 0, nil, err
	}
	s.cfg.Logger.Info("env var deleted", "project", p.Name, "key", v.Key)
	return http.StatusNoContent, nil, nil
}

// envDigest answers the digest of the env vars a new deployment of a target and git branch
// would get: what a deployment's env_digest is compared with at plan time.
func (s *Server) envDigest(r *http.Request) (int, any, error) {
	p, err := s.project(r.Context(), r)
	if err != nil {
		return 0, nil, err
	}
	target := r.URL.Query().Get("target")
	if target != api.TargetProduction && target != api.TargetPreview {
		return 0, nil, badRequest("target", "target %q is not production or preview: ask %s?target=production (or preview, with &git_branch=)", target, api.PathEnvDigest)
	}
	digest, err := s.cfg.Deploy.EnvDigest(r.Context(), p, target, r.URL.Query().Get("git_branch"))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, api.EnvDigest{EnvDigest: digest}, nil
}
