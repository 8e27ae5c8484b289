package apiserver

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
)

const (
	testPassword = "s3cr3t-pw"
	copiedURL    = "postgres://postgres.abcdefghijklmnopqrst:" + testPassword + "@aws-0-eu-central-1.pooler.supabase.com:6543/postgres?sslmode=require&supa=base-pooler.x"
	integrations = "/v1/projects/hello/integrations/supabase"
)

func TestSupabaseIntegrationLifecycle(t *testing.T) {
	srv, _ := newTestServer(t)
	call(t, srv, "POST", "/v1/projects", api.ProjectRequest{Name: "hello"}, nil)
	req := api.SupabaseIntegrationRequest{ConnectionString: copiedURL, Driver: "sqlalchemy+asyncpg", Targets: []string{"production", "preview"},
		SupabaseURL: "https://abcdefghijklmnopqrst.supabase.co", AnonKey: "anon-key"}
	var created api.SupabaseIntegration
	if status, e := call(t, srv, "POST", integrations, req, &created); status != http.StatusCreated {
		t.Fatalf("create: %d %+v", status, e)
	}
	if created.PoolMode != "transaction" || created.ConnectionString != "" || !strings.HasPrefix(created.ConnectionStringDigest, api.DigestPrefix) ||
		created.AnonKeyDigest == "" || created.JWTSecretDigest != "" || !slices.Equal(created.Targets, []string{"preview", "production"}) {
		t.Errorf("created: %+v", created)
	}
	for _, key := range []string{"DATABASE_URL", "POSTGRES_URL", "POSTGRES_URL_NON_POOLING", "POSTGRES_PRISMA_URL", "POSTGRES_HOST",
		"POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DATABASE", "SUPABASE_URL", "SUPABASE_ANON_KEY"} {
		if !slices.Contains(created.EnvKeys, key) {
			t.Errorf("%s is not injected: %v", key, created.EnvKeys)
		}
	}
	if slices.Contains(created.EnvKeys, "SUPABASE_JWT_SECRET") {
		t.Errorf("SUPABASE_JWT_SECRET is injected, but none was given")
	}
	changes := strings.Join(created.Changes, "\n")
	for _, want := range []string{"removed supa", "changed sslmode=require to ssl=require", "added prepared_statement_cache_size=0", "at run time"} {
		if !strings.Contains(changes, want) {
			t.Errorf("changes do not say %q: %s", want, changes)
		}
	}
	assertNoSecret(t, created)

	var decrypted api.SupabaseIntegration
	call(t, srv, "GET", integrations+"/"+created.ID+"?decrypt=true", nil, &decrypted)
	if decrypted.ConnectionString != copiedURL || decrypted.AnonKey != "anon-key" {
		t.Errorf("decrypted: %+v", decrypted)
	}

	req.PoolMode = "session"
	var updated api.SupabaseIntegration
	if status, e := call(t, srv, "PUT", integrations+"/"+created.ID, req, &updated); status != http.StatusOK {
		t.Fatalf("update: %d %+v", status, e)
	}
	if updated.PoolMode != "session" || updated.ConnectionStringDigest != created.ConnectionStringDigest || strings.Contains(strings.Join(updated.Changes, "\n"), "at run time") {
		t.Errorf("updated: %+v", updated)
	}

	var list api.SupabaseIntegrationList
	call(t, srv, "GET", integrations, nil, &list)
	if len(list.Integrations) != 1 || list.Integrations[0].ID != created.ID {
		t.Errorf("list: %+v", list)
	}
	if status, e := call(t, srv, "DELETE", integrations+"/"+created.ID, nil, nil); status != http.StatusNoContent {
		t.Fatalf("delete: %d %+v", status, e)
	}
	if status, _ := call(t, srv, "GET", integrations+"/"+created.ID, nil, nil); status != http.StatusNotFound {
		t.Errorf("after delete: %d", status)
	}
}

func TestSupabaseIntegrationRefusesBadInput(t *testing.T) {
	srv, _ := newTestServer(t)
	call(t, srv, "POST", "/v1/projects", api.ProjectRequest{Name: "hello"}, nil)
	good := api.SupabaseIntegrationRequest{ConnectionString: copiedURL, Driver: "asyncpg", Targets: []string{"production"}}
	for name, tc := range map[string]struct {
		change       func(*api.SupabaseIntegrationRequest)
		field, words string
	}{
		"driver":    {func(r *api.SupabaseIntegrationRequest) { r.Driver = "pg8000" }, "driver", `driver "pg8000" is not one ferry knows`},
		"pool mode": {func(r *api.SupabaseIntegrationRequest) { r.PoolMode = "pooled" }, "pool_mode", `pool_mode "pooled" is not one of`},
		"placeholder": {func(r *api.SupabaseIntegrationRequest) {
			r.ConnectionString = strings.Replace(copiedURL, testPassword, "[YOUR-PASSWORD]", 1)
		}, "connection_string", "placeholder"},
		"key=value string":   {func(r *api.SupabaseIntegrationRequest) { r.ConnectionString = "host=db password=" + testPassword }, "connection_string", "not a URL"},
		"no target":          {func(r *api.SupabaseIntegrationRequest) { r.Targets = nil }, "target", "no target"},
		"unknown target":     {func(r *api.SupabaseIntegrationRequest) { r.Targets = []string{"staging"} }, "target", `"staging" is not one of`},
		"branch, production": {func(r *api.SupabaseIntegrationRequest) { r.GitBranch = "feature" }, "git_branch", `set target = ["preview"]`},
		"bad branch": {func(r *api.SupabaseIntegrationRequest) {
			r.GitBranch, r.Targets = "feature..x", []string{"preview"}
		}, "git_branch", "not a valid git branch name"},
		"supabase_url": {func(r *api.SupabaseIntegrationRequest) { r.SupabaseURL = "abcdefghijklmnopqrst.supabase.co" }, "supabase_url", "not an http(s) URL"},
		"NUL in a key": {func(r *api.SupabaseIntegrationRequest) { r.ServiceRoleKey = "a\x00b" }, "service_role_key", "NUL byte"},
		"direct host": {func(r *api.SupabaseIntegrationRequest) {
			r.ConnectionString = "postgresql://postgres:" + testPassword + "@db.abcdefghijklmnopqrst.supabase.co:5432/postgres"
			r.PoolMode = "transaction"
		}, "connection_string", "copy the pooler's connection string"},
	} {
		t.Run(name, func(t *testing.T) {
			req := good
			tc.change(&req)
			status, e := call(t, srv, "POST", integrations, req, nil)
			if status != http.StatusBadRequest || e.Field != tc.field || !strings.Contains(e.Message, tc.words) {
				t.Errorf("%d %+v; want 400 on %s saying %q", status, e, tc.field, tc.words)
			}
			if strings.Contains(e.Message, testPassword) {
				t.Errorf("the message shows the password: %s", e.Message)
			}
		})
	}
	var list api.SupabaseIntegrationList
	call(t, srv, "GET", integrations, nil, &list)
	if len(list.Integrations) != 0 {
		t.Errorf("refused integrations were stored: %+v", list.Integrations)
	}
}

func TestSupabaseIntegrationAndEnvVarsShareKeys(t *testing.T) {
	srv, _ := newTestServer(t)
	call(t, srv, "POST", "/v1/projects", api.ProjectRequest{Name: "hello"}, nil)
	var v api.EnvVar
	call(t, srv, "POST", "/v1/projects/hello/env", api.EnvVarRequest{Key: "DATABASE_URL", Value: "x", Targets: []string{"production"}}, &v)
	req := api.SupabaseIntegrationRequest{ConnectionString: copiedURL, Driver: "psycopg2", Targets: []string{"production", "preview"}}
	status, e := call(t, srv, "POST", integrations, req, nil)
	if status != http.StatusConflict || !strings.Contains(e.Message, "DATABASE_URL is already set for production by an env var") {
		t.Fatalf("integration over an env var: %d %+v", status, e)
	}
	call(t, srv, "DELETE", "/v1/projects/hello/env/"+v.ID, nil, nil)
	var created api.SupabaseIntegration
	if status, e := call(t, srv, "POST", integrations, req, &created); status != http.StatusCreated {
		t.Fatalf("create: %d %+v", status, e)
	}
	status, e = call(t, srv, "POST", "/v1/projects/hello/env", api.EnvVarRequest{Key: "POSTGRES_URL", Value: "x", Targets: []string{"preview"}}, nil)
	if status != http.StatusConflict || !strings.Contains(e.Message, "POSTGRES_URL is already set for preview by integration "+created.ID) {
		t.Fatalf("env var over an integration: %d %+v", status, e)
	}
}

func TestSupabaseIntegrationVerifyFailureChangesNothing(t *testing.T) {
	srv, _ := newTestServer(t)
	call(t, srv, "POST", "/v1/projects", api.ProjectRequest{Name: "hello"}, nil)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	_ = l.Close() // nothing listens there now
	req := api.SupabaseIntegrationRequest{ConnectionString: fmt.Sprintf("postgresql://app:%s@%s/app", testPassword, closed),
		Driver: "psycopg2", Targets: []string{"production"}, Verify: true}
	status, e := call(t, srv, "POST", integrations, req, nil)
	if status != http.StatusUnprocessableEntity || e.Code != api.CodeVerifyFailed || !strings.Contains(e.Message, "cannot reach "+closed) ||
		!strings.Contains(e.Message, "Nothing was changed") || strings.Contains(e.Message, testPassword) {
		t.Fatalf("verify against a closed port: %d %+v", status, e)
	}
	var list api.SupabaseIntegrationList
	call(t, srv, "GET", integrations, nil, &list)
	if len(list.Integrations) != 0 {
		t.Errorf("an integration that failed verify was stored")
	}
}

func assertNoSecret(t *testing.T, v any) {
	t.Helper()
	data, _ := json.Marshal(v)
	if strings.Contains(string(data), testPassword) {
		t.Errorf("the answer shows the password: %s", data)
	}
}
