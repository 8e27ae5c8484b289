package sqlite

import (
	"context"
	"testing"
	"time"
)

// A database of the first schema, with a build in progress, keeps its rows,
// and the build is claimable after the migration.
func TestMigrationToTheQueueKeepsData(t *testing.T) {
	ctx := context.Background()
	s := openFromFirstSchema(t,
		`INSERT INTO projects VALUES ('p1', 'hello', 'auto', '.', NULL, NULL, '2025-01-01 00:00:00', '2025-01-01 00:00:00')`,
		`INSERT INTO deployments (id, project_id, target, state, hostname, source_digest, files, sealed_env, created_at)
			VALUES ('d1', 'p1', 'preview', 'BUILDING', 'hello-d1.localhost', 'x', '[]', x'00', '2025-01-01 00:00:00')`)
	var version int
	if err := s.db.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&version); err != nil || version != len(migrations) {
		t.Fatalf("user_version %d, %v; want %d", version, err, len(migrations))
	}
	if _, err := s.GetProject(ctx, "hello"); err != nil {
		t.Fatalf("project lost: %v", err)
	}
	d, err := s.ClaimDeployment(ctx, "node-a", time.Now().Add(time.Minute), nil)
	if err != nil || d == nil || d.ID != "d1" {
		t.Fatalf("the build of the old engine is not resumed: %+v %v", d, err)
	}
}
