package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
)

func testNodesHeartbeatAndLeave(t *testing.T, s store.Store, _ func(*testing.T) store.Store) {
	ctx := context.Background()
	started := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	for _, n := range []store.Node{
		{ID: "node-b", Version: "1.0.0", HTTPAddress: "10.0.0.2:3080", StartedAt: started, SeenAt: started.Add(time.Second)},
		{ID: "node-a", Version: "1.0.0", HTTPAddress: "10.0.0.1:3080", APIAddress: "10.0.0.1:3443", StartedAt: started, SeenAt: started},
		{ID: "node-gone", Version: "0.9.0", HTTPAddress: "10.0.0.3:3080", StartedAt: started.Add(-48 * time.Hour), SeenAt: started.Add(-47 * time.Hour)},
	} {
		if err := s.Heartbeat(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	// A later heartbeat of node-a updates it in place.
	if err := s.Heartbeat(ctx, store.Node{ID: "node-a", Version: "1.1.0", HTTPAddress: "10.0.0.1:3080", APIAddress: "10.0.0.1:3443",
		StartedAt: started, SeenAt: started.Add(10 * time.Second)}); err != nil {
		t.Fatal(err)
	}
	nodes, err := s.ListNodes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(nodes) != 3 || nodes[0].ID != "node-a" || nodes[1].ID != "node-b" || nodes[2].ID != "node-gone" {
		t.Fatalf("nodes %+v, want node-a, node-b and node-gone", nodes)
	}
	a := nodes[0]
	if a.Version != "1.1.0" || a.APIAddress != "10.0.0.1:3443" || !a.StartedAt.Equal(started) || !a.SeenAt.Equal(started.Add(10*time.Second)) {
		t.Errorf("node-a after its second heartbeat: %+v", a)
	}

	// node-b stops cleanly; node-gone has not been seen for a day.
	if err := s.LeaveNodes(ctx, "node-b", started.Add(-24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if nodes, err = s.ListNodes(ctx); err != nil || len(nodes) != 1 || nodes[0].ID != "node-a" {
		t.Fatalf("after node-b left: %+v, %v; want node-a only", nodes, err)
	}
}
