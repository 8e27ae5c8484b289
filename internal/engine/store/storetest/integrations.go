package storetest

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
)

func supabaseIntegration(id string, targets []string, gitBranch string, keys ...string) *store.Integration {
	return &store.Integration{ID: id, ProjectID: "p1", Kind: store.IntegrationSupabase, Settings: []byte(`{"driver":"asyncpg"}`),
		SealedSecrets: []byte("sealed-" + id), Targets: targets, GitBranch: gitBranch, EnvKeys: keys}
}

// An integration's keys and env vars' keys are one namespace per target and
// branch: neither may take a key the other holds, and a refused write leaves
// everything as it was.
func testIntegrationKeysAndEnvVarsAreOneNamespace(t *testing.T, s store.Store, _ func(*testing.T) store.Store) {
	ctx := context.Background()
	createProject(t, s, "p1", "hello")
	if err := s.CreateEnvVar(ctx, &store.EnvVar{ID: "e1", ProjectID: "p1", Key: "DATABASE_URL", SealedValue: []byte("x"), Targets: []string{"production"}}); err != nil {
		t.Fatal(err)
	}
	var dup *store.DuplicateEnvError
	err := s.CreateIntegration(ctx, supabaseIntegration("i1", []string{"production", "preview"}, "", "DATABASE_URL", "POSTGRES_URL"))
	if !errors.As(err, &dup) || dup.Key != "DATABASE_URL" || dup.Target != "production" || dup.IntegrationID != "" || !errors.Is(err, store.ErrConflict) {
		t.Fatalf("integration over an env var's key: %v", err)
	}
	if _, err := s.GetIntegration(ctx, "p1", "i1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the refused integration was stored: %v", err)
	}

	if err := s.CreateIntegration(ctx, supabaseIntegration("i1", []string{"preview"}, "", "POSTGRES_URL", "DATABASE_URL")); err != nil {
		t.Fatal(err)
	}
	err = s.CreateEnvVar(ctx, &store.EnvVar{ID: "e2", ProjectID: "p1", Key: "POSTGRES_URL", SealedValue: []byte("y"), Targets: []string{"preview"}})
	if !errors.As(err, &dup) || dup.IntegrationID != "i1" {
		t.Fatalf("env var over an integration's key: %v", err)
	}
	err = s.CreateIntegration(ctx, supabaseIntegration("i2", []string{"preview"}, "", "DATABASE_URL"))
	if !errors.As(err, &dup) || dup.IntegrationID != "i1" {
		t.Fatalf("second integration on the same target: %v", err)
	}
	// Another branch is another namespace.
	if err := s.CreateIntegration(ctx, supabaseIntegration("i2", []string{"preview"}, "feature", "DATABASE_URL")); err != nil {
		t.Fatal(err)
	}

	// An update into a clash is refused and keeps the integration's claims.
	moved := supabaseIntegration("i1", []string{"production"}, "", "DATABASE_URL", "POSTGRES_URL")
	if err := s.UpdateIntegration(ctx, moved); !errors.As(err, &dup) {
		t.Fatalf("update into a clash: %v", err)
	}
	i1, err := s.GetIntegration(ctx, "p1", "i1")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(i1.Targets, []string{"preview"}) || !slices.Equal(i1.EnvKeys, []string{"DATABASE_URL", "POSTGRES_URL"}) ||
		i1.Kind != store.IntegrationSupabase || string(i1.Settings) != `{"driver":"asyncpg"}` || string(i1.SealedSecrets) != "sealed-i1" {
		t.Fatalf("after a refused update: %+v", i1)
	}

	// An update that changes keys releases the ones it drops.
	i1.EnvKeys, i1.Targets = []string{"DATABASE_URL"}, []string{"development", "preview"}
	if err := s.UpdateIntegration(ctx, i1); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateEnvVar(ctx, &store.EnvVar{ID: "e2", ProjectID: "p1", Key: "POSTGRES_URL", SealedValue: []byte("y"), Targets: []string{"preview"}}); err != nil {
		t.Fatalf("a key the integration dropped is still held: %v", err)
	}

	// Deleting an integration frees its keys.
	if err := s.DeleteIntegration(ctx, "p1", "i1"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteIntegration(ctx, "p1", "i1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	if err := s.CreateEnvVar(ctx, &store.EnvVar{ID: "e3", ProjectID: "p1", Key: "DATABASE_URL", SealedValue: []byte("z"), Targets: []string{"preview"}}); err != nil {
		t.Fatalf("a deleted integration's key is still held: %v", err)
	}
	list, err := s.ListIntegrations(ctx, "p1")
	if err != nil || len(list) != 1 || list[0].ID != "i2" || list[0].GitBranch != "feature" {
		t.Fatalf("ListIntegrations = %+v, %v", list, err)
	}
}

func testIntegrationsGoWithTheirProject(t *testing.T, s store.Store, _ func(*testing.T) store.Store) {
	ctx := context.Background()
	createProject(t, s, "p1", "hello")
	if sample, err := s.SealedSample(ctx); err != nil || sample != nil {
		t.Fatalf("store without secrets: %q, %v", sample, err)
	}
	if err := s.CreateIntegration(ctx, supabaseIntegration("i1", []string{"production"}, "", "DATABASE_URL")); err != nil {
		t.Fatal(err)
	}
	// The integration's secrets alone tell whether a key belongs to the store.
	if sample, err := s.SealedSample(ctx); err != nil || string(sample) != "sealed-i1" {
		t.Fatalf("store with an integration only: %q, %v", sample, err)
	}
	if _, err := s.DeleteProject(ctx, "p1"); err != nil {
		t.Fatal(err)
	}
	if list, _ := s.ListIntegrations(ctx, "p1"); len(list) != 0 {
		t.Fatal("integrations survived their project")
	}
	// Its claims went with it: a new project of the same id starts clean.
	createProject(t, s, "p1", "hello")
	if err := s.CreateEnvVar(ctx, &store.EnvVar{ID: "e1", ProjectID: "p1", Key: "DATABASE_URL", SealedValue: []byte("x"), Targets: []string{"production"}}); err != nil {
		t.Fatalf("a deleted project's integration still holds its key: %v", err)
	}
}
