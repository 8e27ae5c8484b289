package apiserver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/dburl"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/dbcheck"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/deploy"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/supabase"
)

// databaseVerifyTimeout bounds a verify's connection when the URL sets none.
const databaseVerifyTimeout = dbcheck.DefaultTimeout + 5*time.Second

// supabaseInput checks a request and returns what to store, with the keys it
// injects. With verify, it connects to the database first.
func supabaseInput(ctx context.Context, req *api.SupabaseIntegrationRequest) (supabase.Settings, supabase.Secrets, *supabase.Env, error) {
	var settings supabase.Settings
	var secrets supabase.Secrets
	if problem := supabase.Check(req); problem != nil {
		return settings, secrets, nil, badRequest(problem.Field, "%s", problem.Message)
	}
	sort.Strings(req.Targets)
	mode := dburl.PoolMode(req.PoolMode)
	if mode == "" {
		var err error
		if mode, err = dburl.DefaultPoolMode(req.ConnectionString); err != nil {
			return settings, secrets, nil, badRequest("connection_string", "%v", err)
		}
	}
	settings = supabase.Settings{Driver: req.Driver, PoolMode: string(mode), SupabaseURL: req.SupabaseURL}
	secrets = supabase.Secrets{ConnectionString: req.ConnectionString, AnonKey: req.AnonKey, ServiceRoleKey: req.ServiceRoleKey, JWTSecret: req.JWTSecret}
	env, err := supabase.Resolve(settings, secrets)
	if err != nil {
		return settings, secrets, nil, badRequest("connection_string", "%v", err)
	}
	if req.Verify {
		ctx, cancel := context.WithTimeout(ctx, databaseVerifyTimeout)
		defer cancel()
		if err := dbcheck.Verify(ctx, req.ConnectionString, mode); err != nil {
			return settings, secrets, nil, &api.Error{Code: api.CodeVerifyFailed, Field: "connection_string",
				Message: fmt.Sprintf("verify: %v. Nothing was changed; fix the connection string, or set verify = false to store it unchecked", err)}
		}
	}
	return settings, secrets, env, nil
}

// integrationConflictOrErr explains a key an integration would take from an
// env var or another integration.
func integrationConflictOrErr(err error, env *supabase.Env) error {
	var dup *store.DuplicateEnvError
	if !errors.As(err, &dup) {
		return err
	}
	return &api.Error{Code: api.CodeConflict, Field: "target", Message: fmt.Sprintf(
		"%s in this project. A Supabase integration sets %s for each of its targets, and a key may be set once per target "+
			"(and git branch): remove the other definition, or that target from one of them", dup.Error(), strings.Join(env.Keys(), ", "))}
}

func (s *Server) createSupabaseIntegration(r *http.Request) (int, any, error) {
	p, err := s.project(r.Context(), r)
	if err != nil {
		return 0, nil, err
	}
	i := &store.Integration{ID: deploy.NewID("sbi"), ProjectID: p.ID, Kind: store.IntegrationSupabase}
	out, err := s.writeSupabase(r, p, i, "created", s.cfg.Store.CreateIntegration)
	return http.StatusCreated, out, err
}

// writeSupabase gives i what the request asks for and stores it with write
// (a create or an update).
func (s *Server) writeSupabase(r *http.Request, p *store.Project, i *store.Integration, done string,
	write func(context.Context, *store.Integration) error) (*api.SupabaseIntegration, error) {
	var req api.SupabaseIntegrationRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	settings, secrets, env, err := supabaseInput(r.Context(), &req)
	if err != nil {
		return nil, err
	}
	i.Targets, i.GitBranch, i.EnvKeys = req.Targets, req.GitBranch, env.Keys()
	if err := supabase.Seal(r.Context(), s.cfg.Secrets, i, settings, secrets); err != nil {
		return nil, err
	}
	if err := write(r.Context(), i); err != nil {
		return nil, integrationConflictOrErr(err, env)
	}
	s.cfg.Logger.Info("supabase integration "+done, "project", p.Name, "integration", i.ID,
		"driver", settings.Driver, "pool_mode", settings.PoolMode, "targets", i.Targets)
	return s.toAPISupabase(r.Context(), i, false)
}

func (s *Server) supabaseIntegration(r *http.Request) (*store.Project, *store.Integration, error) {
	p, err := s.project(r.Context(), r)
	if err != nil {
		return nil, nil, err
	}
	i, err := s.cfg.Store.GetIntegration(r.Context(), p.ID, r.PathValue("integration"))
	if errors.Is(err, store.ErrNotFound) || (err == nil && i.Kind != store.IntegrationSupabase) {
		return nil, nil, notFound("Supabase integration %q does not exist in project %s", r.PathValue("integration"), p.Name)
	}
	return p, i, err
}

func (s *Server) getSupabaseIntegration(r *http.Request) (int, any, error) {
	_, i, err := s.supabaseIntegration(r)
	if err != nil {
		return 0, nil, err
	}
	out, err := s.toAPISupabase(r.Context(), i, wantsSecrets(r))
	return http.StatusOK, out, err
}

func (s *Server) listSupabaseIntegrations(r *http.Request) (int, any, error) {
	p, err := s.project(r.Context(), r)
	if err != nil {
		return 0, nil, err
	}
	stored, err := s.cfg.Store.ListIntegrations(r.Context(), p.ID)
	if err != nil {
		return 0, nil, err
	}
	list := api.SupabaseIntegrationList{Integrations: []api.SupabaseIntegration{}}
	for _, i := range stored {
		if i.Kind != store.IntegrationSupabase {
			continue
		}
		out, err := s.toAPISupabase(r.Context(), i, wantsSecrets(r))
		if err != nil {
			return 0, nil, err
		}
		list.Integrations = append(list.Integrations, *out)
	}
	return http.StatusOK, list, nil
}

func (s *Server) updateSupabaseIntegration(r *http.Request) (int, any, error) {
	p, i, err := s.supabaseIntegration(r)
	if err != nil {
		return 0, nil, err
	}
	out, err := s.writeSupabase(r, p, i, "updated", s.cfg.Store.UpdateIntegration)
	return http.StatusOK, out, err
}

func (s *Server) deleteSupabaseIntegration(r *http.Request) (int, any, error) {
	p, i, err := s.supabaseIntegration(r)
	if err != nil {
		return 0, nil, err
	}
	if err := s.cfg.Store.DeleteIntegration(r.Context(), p.ID, i.ID); err != nil {
		return 0, nil, err
	}
	s.cfg.Logger.Info("supabase integration deleted", "project", p.Name, "integration", i.ID)
	return http.StatusNoContent, nil, nil
}

// toAPISupabase reports an integration with the digests of its secrets, and
// the secrets themselves when decrypt.
func (s *Server) toAPISupabase(ctx context.Context, i *store.Integration, decrypt bool) (*api.SupabaseIntegration, error) {
	opened, err := supabase.Open(ctx, s.cfg.Secrets, i)
	if err != nil {
		return nil, err
	}
	env, err := supabase.Resolve(opened.Settings, opened.Secrets)
	if err != nil {
		return nil, fmt.Errorf("integration %s: %w", i.ID, err)
	}
	out := &api.SupabaseIntegration{
		ID: i.ID, ProjectID: i.ProjectID, Driver: opened.Settings.Driver, PoolMode: opened.Settings.PoolMode,
		Targets: i.Targets, GitBranch: i.GitBranch, SupabaseURL: opened.Settings.SupabaseURL,
		EnvKeys: env.Keys(), Changes: env.Database.Changes, CreatedAt: i.CreatedAt, UpdatedAt: i.UpdatedAt,
	}
	if out.Changes == nil {
		out.Changes = []string{}
	}
	for _, secret := range []struct {
		value  string
		digest *string
		plain  *string
	}{
		{opened.Secrets.ConnectionString, &out.ConnectionStringDigest, &out.ConnectionString},
		{opened.Secrets.AnonKey, &out.AnonKeyDigest, &out.AnonKey},
		{opened.Secrets.ServiceRoleKey, &out.ServiceRoleKeyDigest, &out.ServiceRoleKey},
		{opened.Secrets.JWTSecret, &out.JWTSecretDigest, &out.JWTSecret},
	} {
		if secret.value == "" {
			continue
		}
		if *secret.digest, err = s.cfg.Secrets.Digest(ctx, []byte(secret.value)); err != nil {
			return nil, err
		}
		if decrypt {
			*secret.plain = secret.value
		}
	}
	return out, nil
}
