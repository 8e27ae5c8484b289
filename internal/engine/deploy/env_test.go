package deploy

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/dburl"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/supabase"
)

// TestFrozenEnvHasTheSupabaseIntegration: a deployment of the integration's
// target gets DATABASE_URL made right for the driver, Vercel's names and the
// driver settings; one of another target gets none of them.
func TestFrozenEnvHasTheSupabaseIntegration(t *testing.T) {
	svc, st, bl := newStoppedService(t)
	ctx := context.Background()
	if err := st.CreateProject(ctx, &store.Project{ID: "prj_1", Name: "hello", Framework: "auto", RootDirectory: "."}, "hello.localhost"); err != nil {
		t.Fatal(err)
	}
	copied := "postgres://postgres.abcdefghijklmnopqrst:pw@aws-0-eu-central-1.pooler.supabase.com:6543/postgres?sslmode=require&supa=base-pooler.x"
	settings := supabase.Settings{Driver: "asyncpg", PoolMode: "transaction"}
	secrets := supabase.Secrets{ConnectionString: copied, JWTSecret: "jwt"}
	env, err := supabase.Resolve(settings, secrets)
	if err != nil {
		t.Fatal(err)
	}
	i := &store.Integration{ID: "sbi_1", ProjectID: "prj_1", Kind: store.IntegrationSupabase, Targets: []string{"production"}, EnvKeys: env.Keys()}
	if err := supabase.Seal(ctx, svc.cfg.Secrets, i, settings, secrets); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateIntegration(ctx, i); err != nil {
		t.Fatal(err)
	}

	f := upload(t, bl, "app = None\n")
	f.Path = "app.py"
	production, err := svc.Create(ctx, api.DeploymentRequest{ProjectID: "prj_1", Files: []api.File{f}, Production: true})
	if err != nil {
		t.Fatal(err)
	}
	frozen, err := OpenEnv(ctx, svc.cfg.Secrets, production)
	if err != nil {
		t.Fatal(err)
	}
	sanitized := "postgresql://postgres.abcdefghijklmnopqrst:pw@aws-0-eu-central-1.pooler.supabase.com:6543/postgres?sslmode=require"
	for _, want := range []string{
		"DATABASE_URL=" + sanitized,
		"POSTGRES_URL=" + sanitized,
		"POSTGRES_URL_NON_POOLING=postgresql://postgres.abcdefghijklmnopqrst:pw@aws-0-eu-central-1.pooler.supabase.com:5432/postgres?sslmode=require",
		"POSTGRES_PRISMA_URL=postgresql://postgres.abcdefghijklmnopqrst:pw@aws-0-eu-central-1.pooler.supabase.com:6543/postgres?sslmode=require&pgbouncer=true",
		"POSTGRES_HOST=aws-0-eu-central-1.pooler.supabase.com",
		"POSTGRES_USER=postgres.abcdefghijklmnopqrst",
		"POSTGRES_PASSWORD=pw",
		"POSTGRES_DATABASE=postgres",
		"SUPABASE_JWT_SECRET=jwt",
		dburl.DriverSettingsEnv + "=" + dburl.AsyncPGNoStatementCache + "," + dburl.AsyncPGUniqueStatements,
	} {
		if !slices.Contains(frozen, want) {
			t.Errorf("missing %s in %v", want, frozen)
		}
	}

	preview, err := svc.Create(ctx, api.DeploymentRequest{ProjectID: "prj_1", Files: []api.File{f}})
	if err != nil {
		t.Fatal(err)
	}
	frozen, err = OpenEnv(ctx, svc.cfg.Secrets, preview)
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range frozen {
		if strings.HasPrefix(kv, "DATABASE_URL=") || strings.HasPrefix(kv, dburl.DriverSettingsEnv+"=") {
			t.Errorf("a preview got the production-only integration's %s", kv)
		}
	}
}
