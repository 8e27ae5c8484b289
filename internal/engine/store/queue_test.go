package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

// queueDeployment queues a preview deployment of project p1.
func queueDeployment(t *testing.T, s *Store, id string) {
	t.Helper()
	d := &Deployment{ID: id, ProjectID: "p1", Target: "preview", Hostname: id + ".localhost", Files: []byte("[]"), SealedEnv: []byte("x")}
	if err := s.EnqueueDeployment(context.Background(), d, 1000); err != nil {
		t.Fatal(err)
	}
}

func TestQueueFullInsertsNothing(t *testing.T) {
	s, ctx := openTest(t), context.Background()
	if err := s.CreateProject(ctx, &Project{ID: "p1", Name: "hello", Framework: "auto", RootDirectory: "."}, "hello.localhost"); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		d := &Deployment{ID: fmt.Sprint("d", i), ProjectID: "p1", Target: "preview", Hostname: fmt.Sprint("h", i), Files: []byte("[]"), SealedEnv: []byte("x")}
		if err := s.EnqueueDeployment(ctx, d, 2); err != nil {
			t.Fatal(err)
		}
	}
	refused := &Deployment{ID: "d2", ProjectID: "p1", Target: "preview", Hostname: "h2", Files: []byte("[]"), SealedEnv: []byte("x")}
	if err := s.EnqueueDeployment(ctx, refused, 2); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("third deployment with a limit of 2: %v, want ErrQueueFull", err)
	}
	if _, err := s.GetDeployment(ctx, "d2"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("the refused deployment was stored: %v", err)
	}
	// A claimed build no longer waits: there is room again.
	if d, err := s.ClaimDeployment(ctx, "node-a", time.Now().Add(time.Minute)); err != nil || d == nil {
		t.Fatalf("claim: %v %v", d, err)
	}
	if err := s.EnqueueDeployment(ctx, refused, 2); err != nil {
		t.Fatalf("after a claim: %v", err)
	}
}

// Two nodes on one database, four claimers each, claim every row exactly once.
func TestClaimIsAtomic(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ferry.db")
	ctx := context.Background()
	nodes := make([]*Store, 2)
	for i := range nodes {
		s, err := Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := s.Close(); err != nil {
				t.Error(err)
			}
		})
		nodes[i] = s
	}
	if err := nodes[0].CreateProject(ctx, &Project{ID: "p1", Name: "hello", Framework: "auto", RootDirectory: "."}, "hello.localhost"); err != nil {
		t.Fatal(err)
	}
	const rows = 40
	for i := range rows {
		queueDeployment(t, nodes[0], fmt.Sprintf("d%02d", i))
	}

	var mu sync.Mutex
	claimedBy := map[string][]string{}
	var wg sync.WaitGroup
	for n, s := range nodes {
		for c := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				claimer := fmt.Sprintf("node-%d/%d", n, c)
				for {
					d, err := s.ClaimDeployment(ctx, claimer, time.Now().Add(time.Minute))
					if err != nil {
						t.Error(err)
						return
					}
					if d == nil {
						return
					}
					if d.State != "BUILDING" || d.ClaimedBy != claimer || d.LeaseUntil == nil {
						t.Errorf("claimed row: state %s, claimed by %q, lease %v", d.State, d.ClaimedBy, d.LeaseUntil)
					}
					mu.Lock()
					claimedBy[d.ID] = append(claimedBy[d.ID], claimer)
					mu.Unlock()
				}
			}()
		}
	}
	wg.Wait()
	if len(claimedBy) != rows {
		t.Errorf("%d rows claimed, want %d", len(claimedBy), rows)
	}
	for id, claimers := range claimedBy {
		if len(claimers) != 1 {
			t.Errorf("%s claimed %d times: %v", id, len(claimers), claimers)
		}
	}
}

func TestLeaseLapsesAndMovesToAnotherNode(t *testing.T) {
	s, ctx := openTest(t), context.Background()
	if err := s.CreateProject(ctx, &Project{ID: "p1", Name: "hello", Framework: "auto", RootDirectory: "."}, "hello.localhost"); err != nil {
		t.Fatal(err)
	}
	queueDeployment(t, s, "d1")
	d, err := s.ClaimDeployment(ctx, "node-a", time.Now().Add(50*time.Millisecond))
	if err != nil || d == nil || d.ID != "d1" {
		t.Fatalf("claim: %v %v", d, err)
	}
	if other, err := s.ClaimDeployment(ctx, "node-b", time.Now().Add(time.Minute)); err != nil || other != nil {
		t.Fatalf("a row under a live lease was claimed again: %v %v", other, err)
	}
	if err := s.RenewLease(ctx, "d1", "node-b", time.Now().Add(time.Minute)); !errors.Is(err, ErrNotClaimed) {
		t.Fatalf("renewal by a node without the claim: %v", err)
	}
	time.Sleep(100 * time.Millisecond)
	taken, err := s.ClaimDeployment(ctx, "node-b", time.Now().Add(time.Minute))
	if err != nil || taken == nil || taken.ID != "d1" || taken.ClaimedBy != "node-b" {
		t.Fatalf("claim after the lease lapsed: %+v %v", taken, err)
	}
	// node-a finds out at its next renewal, and cannot record an outcome.
	if err := s.RenewLease(ctx, "d1", "node-a", time.Now().Add(time.Minute)); !errors.Is(err, ErrNotClaimed) {
		t.Fatalf("renewal by the former holder: %v", err)
	}
	if err := s.FailBuild(ctx, "d1", "node-a", "ERROR", "late"); !errors.Is(err, ErrNotClaimed) {
		t.Fatalf("outcome by the former holder: %v", err)
	}
	if err := s.MarkReady(ctx, d, false); !errors.Is(err, ErrNotClaimed) {
		t.Fatalf("ready by the former holder: %v", err)
	}
	if err := s.MarkReady(ctx, taken, false); err != nil {
		t.Fatalf("ready by the holder: %v", err)
	}
}

func TestReleaseNodeClaimsRequeuesOnlyThatNode(t *testing.T) {
	s, ctx := openTest(t), context.Background()
	if err := s.CreateProject(ctx, &Project{ID: "p1", Name: "hello", Framework: "auto", RootDirectory: "."}, "hello.localhost"); err != nil {
		t.Fatal(err)
	}
	queueDeployment(t, s, "d1")
	queueDeployment(t, s, "d2")
	a, _ := s.ClaimDeployment(ctx, "node-a", time.Now().Add(time.Hour))
	b, _ := s.ClaimDeployment(ctx, "node-b", time.Now().Add(time.Hour))
	if a == nil || b == nil {
		t.Fatal("claims failed")
	}
	n, err := s.ReleaseNodeClaims(ctx, "node-a")
	if err != nil || n != 1 {
		t.Fatalf("released %d, %v; want 1", n, err)
	}
	again, err := s.ClaimDeployment(ctx, "node-a", time.Now().Add(time.Hour))
	if err != nil || again == nil || again.ID != a.ID {
		t.Fatalf("node-a's build was not claimable at once: %+v %v", again, err)
	}
	if got, _ := s.GetDeployment(ctx, b.ID); got.ClaimedBy != "node-b" || got.State != "BUILDING" {
		t.Errorf("node-b's build was touched: %s %s", got.State, got.ClaimedBy)
	}
}

func TestCancelDeployment(t *testing.T) {
	s, ctx := openTest(t), context.Background()
	if err := s.CreateProject(ctx, &Project{ID: "p1", Name: "hello", Framework: "auto", RootDirectory: "."}, "hello.localhost"); err != nil {
		t.Fatal(err)
	}
	queueDeployment(t, s, "d1")
	d, now, err := s.CancelDeployment(ctx, "d1")
	if err != nil || !now || d.State != "CANCELED" {
		t.Fatalf("cancel: %+v %v %v", d, now, err)
	}
	if claimed, err := s.ClaimDeployment(ctx, "node-a", time.Now().Add(time.Minute)); err != nil || claimed != nil {
		t.Fatalf("a canceled deployment was claimed: %v %v", claimed, err)
	}
	if _, now, err := s.CancelDeployment(ctx, "d1"); err != nil || now {
		t.Fatalf("second cancel: %v %v", now, err)
	}
	if _, _, err := s.CancelDeployment(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("cancel of a missing deployment: %v", err)
	}
}

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
	d, err := s.ClaimDeployment(ctx, "node-a", time.Now().Add(time.Minute))
	if err != nil || d == nil || d.ID != "d1" {
		t.Fatalf("the build of the old engine is not resumed: %+v %v", d, err)
	}
}
