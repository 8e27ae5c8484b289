package sqlite

import (
	"context"
	"testing"
)

// A database of the first schema keeps its projects, deployments and
// aliases when it moves to one namespace of hostnames.
func TestMigrationToOneHostnameNamespaceKeepsData(t *testing.T) {
	ctx := context.Background()
	s := openFromFirstSchema(t,
		`INSERT INTO projects VALUES ('p1', 'shop', 'auto', '.', NULL, NULL, '2026-01-01', '2026-01-01')`,
		`INSERT INTO deployments (id, project_id, target, state, hostname, source_digest, files, sealed_env, created_at)
			VALUES ('d1', 'p1', 'production', 'READY', 'shop-abc.localhost', 'x', '[]', 'x', '2026-01-01')`,
		`INSERT INTO aliases VALUES ('shop.localhost', 'p1', 'd1', 1)`)
	if id, _ := s.ProductionDeploymentID(ctx, "p1"); id != "d1" {
		t.Fatalf("production alias at %q after the migration, want d1", id)
	}
	routes, err := s.ReadRoutes(ctx)
	if err != nil || len(routes.Routes) != 2 {
		t.Fatalf("routes after the migration: %+v, %v", routes, err)
	}
}
