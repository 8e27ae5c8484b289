package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
)

// queueDeployment queues a preview deployment of project p1.
func queueDeployment(t *testing.T, s store.Store, id string) {
	t.Helper()
	d := &store.Deployment{ID: id, ProjectID: "p1", Target: "preview", Hostname: id + ".localhost", Files: []byte("[]"), SealedEnv: []byte("x")}
	if err := s.EnqueueDeployment(context.Background(), d, 1000); err != nil {
		t.Fatal(err)
	}
}

func testQueueFullInsertsNothing(t *testing.T, s store.Store, _ func(*testing.T) store.Store) {
	ctx := context.Background()
	if err := s.CreateProject(ctx, &store.Project{ID: "p1", Name: "hello", Framework: "auto", RootDirectory: "."}, "hello.localhost"); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		d := &store.Deployment{ID: fmt.Sprint("d", i), ProjectID: "p1", Target: "preview", Hostname: fmt.Sprint("h", i), Files: []byte("[]"), SealedEnv: []byte("x")}
		if err := s.EnqueueDeployment(ctx, d, 2); err != nil {
			t.Fatal(err)
		}
	}
	refused := &store.Deployment{ID: "d2", ProjectID: "p1", Target: "preview", Hostname: "h2", Files: []byte("[]"), SealedEnv: []byte("x")}
	if err := s.EnqueueDeployment(ctx, refused, 2); !errors.Is(err, store.ErrQueueFull) {
		t.Fatalf("third deployment with a limit of 2: %v, want ErrQueueFull", err)
	}
	if _, err := s.GetDeployment(ctx, "d2"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the refused deployment was stored: %v", err)
	}
	// A claimed build no longer waits: there is room again.
	if d, err := s.ClaimDeployment(ctx, "node-a", time.Now().Add(time.Minute), nil); err != nil || d == nil {
		t.Fatalf("claim: %v %v", d, err)
	}
	if err := s.EnqueueDeployment(ctx, refused, 2); err != nil {
		t.Fatalf("after a claim: %v", err)
	}
}

// Two nodes on one database, four claimers each, claim every row exactly once.
func testClaimIsAtomic(t *testing.T, s store.Store, another func(*testing.T) store.Store) {
	ctx := context.Background()
	nodes := []store.Store{s, another(t)}
	if err := nodes[0].CreateProject(ctx, &store.Project{ID: "p1", Name: "hello", Framework: "auto", RootDirectory: "."}, "hello.localhost"); err != nil {
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
					d, err := s.ClaimDeployment(ctx, claimer, time.Now().Add(time.Minute), nil)
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

func testLeaseLapsesAndMovesToAnotherNode(t *testing.T, s store.Store, _ func(*testing.T) store.Store) {
	ctx := context.Background()
	if err := s.CreateProject(ctx, &store.Project{ID: "p1", Name: "hello", Framework: "auto", RootDirectory: "."}, "hello.localhost"); err != nil {
		t.Fatal(err)
	}
	queueDeployment(t, s, "d1")
	// A lease long enough that node-b's tries below end before it, on a busy machine too.
	lease := time.Now().Add(time.Second)
	d, err := s.ClaimDeployment(ctx, "node-a", lease, nil)
	if err != nil || d == nil || d.ID != "d1" {
		t.Fatalf("claim: %v %v", d, err)
	}
	other, err := s.ClaimDeployment(ctx, "node-b", time.Now().Add(time.Minute), nil)
	if err != nil || other != nil {
		t.Fatalf("a row under a live lease was claimed again (%v before the lease ended): %v %v", time.Until(lease), other, err)
	}
	if err := s.RenewLease(ctx, "d1", "node-b", time.Now().Add(time.Minute)); !errors.Is(err, store.ErrNotClaimed) {
		t.Fatalf("renewal by a node without the claim: %v", err)
	}
	time.Sleep(time.Until(lease) + 50*time.Millisecond)
	taken, err := s.ClaimDeployment(ctx, "node-b", time.Now().Add(time.Minute), nil)
	if err != nil || taken == nil || taken.ID != "d1" || taken.ClaimedBy != "node-b" {
		t.Fatalf("claim after the lease lapsed: %+v %v", taken, err)
	}
	// node-a finds out at its next renewal, and cannot record an outcome.
	if err := s.RenewLease(ctx, "d1", "node-a", time.Now().Add(time.Minute)); !errors.Is(err, store.ErrNotClaimed) {
		t.Fatalf("renewal by the former holder: %v", err)
	}
	if err := s.FailBuild(ctx, "d1", "node-a", "ERROR", "late"); !errors.Is(err, store.ErrNotClaimed) {
		t.Fatalf("outcome by the former holder: %v", err)
	}
	d.Run, taken.Run = &testRun, &testRun
	if err := s.MarkReady(ctx, d, store.Moves{}); !errors.Is(err, store.ErrNotClaimed) {
		t.Fatalf("ready by the former holder: %v", err)
	}
	if err := s.MarkReady(ctx, taken, store.Moves{}); err != nil {
		t.Fatalf("ready by the holder: %v", err)
	}
}

func testReleaseNodeClaimsRequeuesOnlyThatNode(t *testing.T, s store.Store, _ func(*testing.T) store.Store) {
	ctx := context.Background()
	if err := s.CreateProject(ctx, &store.Project{ID: "p1", Name: "hello", Framework: "auto", RootDirectory: "."}, "hello.localhost"); err != nil {
		t.Fatal(err)
	}
	queueDeployment(t, s, "d1")
	queueDeployment(t, s, "d2")
	a, _ := s.ClaimDeployment(ctx, "node-a", time.Now().Add(time.Hour), nil)
	b, _ := s.ClaimDeployment(ctx, "node-b", time.Now().Add(time.Hour), nil)
	if a == nil || b == nil {
		t.Fatal("claims failed")
	}
	n, err := s.ReleaseNodeClaims(ctx, "node-a")
	if err != nil || n != 1 {
		t.Fatalf("released %d, %v; want 1", n, err)
	}
	again, err := s.ClaimDeployment(ctx, "node-a", time.Now().Add(time.Hour), nil)
	if err != nil || again == nil || again.ID != a.ID {
		t.Fatalf("node-a's build was not claimable at once: %+v %v", again, err)
	}
	if got, _ := s.GetDeployment(ctx, b.ID); got.ClaimedBy != "node-b" || got.State != "BUILDING" {
		t.Errorf("node-b's build was touched: %s %s", got.State, got.ClaimedBy)
	}
}

func testCancelDeployment(t *testing.T, s store.Store, _ func(*testing.T) store.Store) {
	ctx := context.Background()
	if err := s.CreateProject(ctx, &store.Project{ID: "p1", Name: "hello", Framework: "auto", RootDirectory: "."}, "hello.localhost"); err != nil {
		t.Fatal(err)
	}
	queueDeployment(t, s, "d1")
	d, now, err := s.CancelDeployment(ctx, "d1")
	if err != nil || !now || d.State != "CANCELED" {
		t.Fatalf("cancel: %+v %v %v", d, now, err)
	}
	if claimed, err := s.ClaimDeployment(ctx, "node-a", time.Now().Add(time.Minute), nil); err != nil || claimed != nil {
		t.Fatalf("a canceled deployment was claimed: %v %v", claimed, err)
	}
	if _, now, err := s.CancelDeployment(ctx, "d1"); err != nil || now {
		t.Fatalf("second cancel: %v %v", now, err)
	}
	if _, _, err := s.CancelDeployment(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("cancel of a missing deployment: %v", err)
	}
}

// A database of the first schema, with a build in progress, keeps its rows,
// and the build is claimable after the migration.
