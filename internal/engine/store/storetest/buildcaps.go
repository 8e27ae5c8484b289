package storetest

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
)

// testCaps are the caps the tests of this file claim with: a plan that builds one at a
// time, one that builds two, and one without a cap.
var testCaps = store.BuildCaps{"single": 1, "pair": 2, "open": 0}

// teamWithPlan creates a team on plan, and its project named like the team.
func teamWithPlan(t *testing.T, s store.Store, team, plan string, projects ...string) {
	t.Helper()
	ctx := context.Background()
	if err := s.CreateTeam(ctx, &store.Team{ID: team, Name: team}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetTeamPlan(ctx, team, plan); err != nil {
		t.Fatal(err)
	}
	for _, name := range projects {
		p := &store.Project{ID: name, Name: name, Framework: "auto", RootDirectory: ".", TeamID: team}
		if err := s.CreateProject(ctx, p, name+".localhost"); err != nil {
			t.Fatal(err)
		}
	}
}

// queueBuild queues a deployment of project, a little after the one queued before it.
func queueBuild(t *testing.T, s store.Store, project, id string) {
	t.Helper()
	time.Sleep(2 * time.Millisecond) // the queue's order is by creation time
	d := &store.Deployment{ID: id, ProjectID: project, Target: "preview", Hostname: id + ".localhost", Files: []byte("[]"), SealedEnv: []byte("x")}
	if err := s.EnqueueDeployment(context.Background(), d, 1000); err != nil {
		t.Fatal(err)
	}
}

// claimNext claims as node-a would, for an hour, and returns the id claimed, "" for none.
func claimNext(t *testing.T, s store.Store) string {
	t.Helper()
	d, err := s.ClaimDeployment(context.Background(), "node-a", time.Now().Add(time.Hour), testCaps)
	if err != nil {
		t.Fatal(err)
	}
	if d == nil {
		return ""
	}
	return d.ID
}

// A team at its cap has its builds wait, in their order, while those of other teams queued
// after them are claimed; a build that ends, or whose lease lapses, frees its slot.
func testBuildCapsHoldPerTeam(t *testing.T, s store.Store, _ func(*testing.T) store.Store) {
	ctx := context.Background()
	teamWithPlan(t, s, "team_single", "single", "s1", "s2")
	teamWithPlan(t, s, "team_pair", "pair", "p1")
	createProject(t, s, "free", "free") // the default team: no plan
	for _, q := range [][2]string{{"s1", "a1"}, {"s2", "a2"}, {"p1", "b1"}, {"p1", "b2"}, {"p1", "b3"}, {"free", "c1"}, {"free", "c2"}} {
		queueBuild(t, s, q[0], q[1])
	}
	var claimed []string
	for id := claimNext(t, s); id != ""; id = claimNext(t, s) {
		claimed = append(claimed, id)
	}
	if want := []string{"a1", "b1", "b2", "c1", "c2"}; !slices.Equal(claimed, want) {
		t.Fatalf("claimed %v, want %v: one build of the team on single, two of the team on pair, all others", claimed, want)
	}

	if err := s.FailBuild(ctx, "a1", "node-a", "ERROR", "failed"); err != nil {
		t.Fatal(err)
	}
	if id := claimNext(t, s); id != "a2" {
		t.Fatalf("after the single team's build ended, claimed %q, want its next, a2", id)
	}
	queueBuild(t, s, "s1", "a3")
	if id := claimNext(t, s); id != "" {
		t.Fatalf("claimed %s while the single team's a2 builds", id)
	}
	// A lapsed lease holds no slot: its build is claimed again, and still alone.
	if err := s.RenewLease(ctx, "a2", "node-a", time.Now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	if id := claimNext(t, s); id != "a2" {
		t.Fatalf("after a2's lease lapsed, claimed %q, want a2 again", id)
	}
	if id := claimNext(t, s); id != "" {
		t.Fatalf("claimed %s while the single team's a2 builds again", id)
	}
	// Without caps, nothing waits.
	if d, err := s.ClaimDeployment(ctx, "node-a", time.Now().Add(time.Hour), nil); err != nil || d == nil || d.ID != "b3" {
		t.Fatalf("claim without caps: %+v, %v; want b3", d, err)
	}
}

// Two nodes, eight claimers each, racing on the queue round after round: no team passes its
// cap, and every build is claimed in the end.
func testBuildCapsHoldAcrossNodes(t *testing.T, s store.Store, another func(*testing.T) store.Store) {
	ctx := context.Background()
	nodes := []store.Store{s, another(t)}
	teamWithPlan(t, s, "team_single", "single", "s1")
	teamWithPlan(t, s, "team_pair", "pair", "p1")
	teamWithPlan(t, s, "team_open", "open", "o1")
	const rounds = 6
	for i := range rounds {
		for _, project := range []string{"s1", "p1", "o1"} {
			queueBuild(t, s, project, fmt.Sprintf("%s-%d", project, i))
		}
	}
	total := map[string]int{}
	for range rounds {
		var mu sync.Mutex
		claimed := map[string][]string{} // project -> deployments claimed this round
		start := make(chan struct{})
		var wg sync.WaitGroup
		for n, node := range nodes {
			for c := range 8 {
				wg.Go(func() {
					<-start
					claimAll(t, func() (*store.Deployment, error) {
						return node.ClaimDeployment(ctx, fmt.Sprintf("node-%d/%d", n, c), time.Now().Add(time.Hour), testCaps)
					}, func(d *store.Deployment) {
						mu.Lock()
						defer mu.Unlock()
						claimed[d.ProjectID] = append(claimed[d.ProjectID], d.ID)
					})
				})
			}
		}
		close(start)
		wg.Wait()
		if len(claimed["s1"]) > 1 || len(claimed["p1"]) > 2 {
			t.Fatalf("claimed at once %v: past the caps of single (1) and pair (2)", claimed)
		}
		for _, ids := range claimed {
			for _, id := range ids {
				d, err := s.GetDeployment(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				if err := s.FailBuild(ctx, id, d.ClaimedBy, "ERROR", "done"); err != nil {
					t.Fatal(err)
				}
				total[d.ProjectID]++
			}
		}
	}
	if want := map[string]int{"s1": rounds, "p1": rounds, "o1": rounds}; !maps.Equal(total, want) {
		t.Errorf("builds claimed by project %v, want %v", total, want)
	}
}

// claimAll calls claim until it finds nothing or fails, and hands each claim to got.
func claimAll[T any](t *testing.T, claim func() (*T, error), got func(*T)) {
	for {
		claimed, err := claim()
		if err != nil {
			t.Error(err)
			return
		}
		if claimed == nil {
			return
		}
		got(claimed)
	}
}
