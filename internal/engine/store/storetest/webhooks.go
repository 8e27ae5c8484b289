package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
)

// createWebhook makes a webhook of the default team.
func createWebhook(t *testing.T, s store.Store, id string) {
	t.Helper()
	w := &store.Webhook{ID: id, TeamID: store.DefaultTeamID, URL: "https://example.com/" + id, Events: []string{"deployment.ready"}, SealedSecret: []byte("sealed")}
	if err := s.CreateWebhook(context.Background(), w); err != nil {
		t.Fatal(err)
	}
}

func enqueue(t *testing.T, s store.Store, webhookID string, events ...string) {
	t.Helper()
	var ds []*store.Delivery
	for _, e := range events {
		ds = append(ds, &store.Delivery{ID: "dlv_" + webhookID + e, WebhookID: webhookID, EventID: e, EventType: "deployment.ready", Body: []byte(`{"id":"` + e + `"}`)})
	}
	if err := s.EnqueueDeliveries(context.Background(), ds); err != nil {
		t.Fatal(err)
	}
}

func testWebhooksBelongToTheirTeam(t *testing.T, s store.Store, _ func(*testing.T) store.Store) {
	ctx := context.Background()
	if err := s.CreateTeam(ctx, &store.Team{ID: "team_a", Name: "alpha"}); err != nil {
		t.Fatal(err)
	}
	w := &store.Webhook{ID: "hook_1", TeamID: "team_a", URL: "https://example.com/in", Events: []string{"deployment.created", "deployment.ready"},
		Projects: []string{"prj_1"}, SealedSecret: []byte("sealed-1")}
	if err := s.CreateWebhook(ctx, w); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateWebhook(ctx, &store.Webhook{ID: "hook_x", TeamID: "team_gone", URL: "http://x", SealedSecret: []byte("s")}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("webhook of a missing team: %v, want ErrNotFound", err)
	}
	createWebhook(t, s, "hook_2")
	got, err := s.GetWebhook(ctx, "hook_1")
	if err != nil || got.URL != w.URL || !slices.Equal(got.Events, w.Events) || !slices.Equal(got.Projects, w.Projects) || string(got.SealedSecret) != "sealed-1" {
		t.Fatalf("webhook read back as %+v, %v", got, err)
	}
	// An update without a secret keeps the one stored.
	got.URL, got.Events, got.Projects, got.SealedSecret = "http://example.com/other", []string{"deployment.error"}, nil, nil
	if err := s.UpdateWebhook(ctx, got); err != nil {
		t.Fatal(err)
	}
	again, err := s.GetWebhook(ctx, "hook_1")
	if err != nil || again.URL != "http://example.com/other" || len(again.Projects) != 0 || string(again.SealedSecret) != "sealed-1" {
		t.Fatalf("after update: %+v, %v", again, err)
	}
	if list, err := s.ListWebhooks(ctx, "team_a"); err != nil || len(list) != 1 || list[0].ID != "hook_1" {
		t.Fatalf("team_a's webhooks: %+v, %v", list, err)
	}
	if list, err := s.ListWebhooks(ctx, ""); err != nil || len(list) != 2 {
		t.Fatalf("every webhook: %+v, %v", list, err)
	}
	// Deleting the webhook deletes its deliveries; a delivery queued for a deleted one is skipped.
	enqueue(t, s, "hook_1", "evt_1")
	if err := s.DeleteWebhook(ctx, "hook_1"); err != nil {
		t.Fatal(err)
	}
	enqueue(t, s, "hook_1", "evt_2")
	if ds, err := s.ListDeliveries(ctx, "hook_1", 10); err != nil || len(ds) != 0 {
		t.Fatalf("deliveries of a deleted webhook: %+v, %v", ds, err)
	}
	if err := s.DeleteWebhook(ctx, "hook_1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second delete: %v, want ErrNotFound", err)
	}
	// A team's webhooks go with it.
	createWebhook(t, s, "hook_3")
	if err := s.DeleteTeam(ctx, "team_a"); err != nil {
		t.Fatal(err)
	}
}

func testDeliveriesGoInOrderPerWebhook(t *testing.T, s store.Store, _ func(*testing.T) store.Store) {
	ctx := context.Background()
	createWebhook(t, s, "hook_a")
	createWebhook(t, s, "hook_b")
	enqueue(t, s, "hook_a", "evt_1", "evt_2")
	enqueue(t, s, "hook_b", "evt_1")
	enqueue(t, s, "hook_a", "evt_1") // queued twice: kept once
	now := time.Now()
	lease := now.Add(time.Minute)
	first, err := s.ClaimDelivery(ctx, "n1", now, lease)
	if err != nil || first == nil || first.WebhookID != "hook_a" || first.EventID != "evt_1" {
		t.Fatalf("first claim: %+v, %v; want hook_a's evt_1", first, err)
	}
	// hook_a's evt_2 waits for evt_1: the next claim is hook_b's.
	second, err := s.ClaimDelivery(ctx, "n2", now, lease)
	if err != nil || second == nil || second.WebhookID != "hook_b" {
		t.Fatalf("second claim: %+v, %v; want hook_b's", second, err)
	}
	if none, err := s.ClaimDelivery(ctx, "n2", now, lease); err != nil || none != nil {
		t.Fatalf("third claim: %+v, %v; want none while hook_a's first is out", none, err)
	}
	// A failed attempt puts it back for later, still ahead of evt_2.
	retry := now.Add(time.Second)
	if err := s.RecordAttempt(ctx, first.ID, "n2", store.Attempt{Status: 503, Error: "503", Next: retry}); !errors.Is(err, store.ErrNotClaimed) {
		t.Fatalf("attempt recorded by a node without the claim: %v, want ErrNotClaimed", err)
	}
	if err := s.RecordAttempt(ctx, first.ID, "n1", store.Attempt{Status: 503, Error: "the receiver answered 503", Next: retry}); err != nil {
		t.Fatal(err)
	}
	if none, err := s.ClaimDelivery(ctx, "n1", now, lease); err != nil || none != nil {
		t.Fatalf("claim before the retry is due: %+v, %v; want none", none, err)
	}
	again, err := s.ClaimDelivery(ctx, "n1", retry, retry.Add(time.Minute))
	if err != nil || again == nil || again.ID != first.ID || again.Attempts != 1 || again.LastStatus != 503 {
		t.Fatalf("claim once due: %+v, %v; want evt_1 again after 1 attempt", again, err)
	}
	if err := s.RecordAttempt(ctx, again.ID, "n1", store.Attempt{Status: 200, Delivered: true}); err != nil {
		t.Fatal(err)
	}
	next, err := s.ClaimDelivery(ctx, "n1", retry, retry.Add(time.Minute))
	if err != nil || next == nil || next.EventID != "evt_2" {
		t.Fatalf("claim after evt_1 was delivered: %+v, %v; want evt_2", next, err)
	}
	// Giving up ends it as failed.
	if err := s.RecordAttempt(ctx, next.ID, "n1", store.Attempt{Error: "connection refused"}); err != nil {
		t.Fatal(err)
	}
	ds, err := s.ListDeliveries(ctx, "hook_a", 10)
	if err != nil || len(ds) != 2 {
		t.Fatalf("hook_a's deliveries: %+v, %v", ds, err)
	}
	if ds[0].EventID != "evt_2" || ds[0].State != store.DeliveryFailed || ds[0].LastError != "connection refused" ||
		ds[1].State != store.DeliveryDelivered || ds[1].Attempts != 2 || ds[1].LastStatus != 200 || ds[1].DeliveredAt == nil {
		t.Fatalf("hook_a's deliveries, newest first: %+v %+v", ds[0], ds[1])
	}

	// Ended deliveries are pruned once old enough; hook_b's, still pending, stays.
	if n, err := s.PruneDeliveries(ctx, now.Add(-time.Hour)); err != nil || n != 0 {
		t.Fatalf("prune of those queued before an hour ago: %d, %v; want none", n, err)
	}
	if n, err := s.PruneDeliveries(ctx, time.Now().Add(time.Hour)); err != nil || n != 2 {
		t.Fatalf("prune: %d, %v; want hook_a's delivered and failed ones", n, err)
	}
	if ds, err := s.ListDeliveries(ctx, "hook_a", 10); err != nil || len(ds) != 0 {
		t.Errorf("hook_a's deliveries after the prune: %+v, %v", ds, err)
	}
	if ds, err := s.ListDeliveries(ctx, "hook_b", 10); err != nil || len(ds) != 1 || ds[0].State != store.DeliveryPending {
		t.Errorf("hook_b's pending delivery after the prune: %+v, %v", ds, err)
	}
}

func testDeliveryLeaseLapsesAndIsReleased(t *testing.T, s store.Store, another func(*testing.T) store.Store) {
	ctx := context.Background()
	createWebhook(t, s, "hook_a")
	enqueue(t, s, "hook_a", "evt_1")
	now := time.Now()
	d, err := s.ClaimDelivery(ctx, "n1", now, now.Add(time.Second))
	if err != nil || d == nil {
		t.Fatalf("claim: %+v, %v", d, err)
	}
	other := another(t)
	if got, err := other.ClaimDelivery(ctx, "n2", now, now.Add(time.Minute)); err != nil || got != nil {
		t.Fatalf("claim under a running lease: %+v, %v; want none", got, err)
	}
	// n1 died: once its lease ran out n2 takes the delivery, and n1's late record is refused.
	later := now.Add(2 * time.Second)
	got, err := other.ClaimDelivery(ctx, "n2", later, later.Add(time.Minute))
	if err != nil || got == nil || got.ID != d.ID {
		t.Fatalf("claim after the lease ran out: %+v, %v", got, err)
	}
	if err := s.RecordAttempt(ctx, d.ID, "n1", store.Attempt{Status: 200, Delivered: true}); !errors.Is(err, store.ErrNotClaimed) {
		t.Fatalf("record by the node that lost the claim: %v, want ErrNotClaimed", err)
	}
	if err := other.ReleaseDelivery(ctx, d.ID, "n2"); err != nil {
		t.Fatal(err)
	}
	if got, err := s.ClaimDelivery(ctx, "n1", later, later.Add(time.Minute)); err != nil || got == nil || got.Attempts != 0 {
		t.Fatalf("claim after release: %+v, %v; want it, with no attempt counted", got, err)
	}
}

// testDeliveryClaimIsAtomic has several nodes claim at once: each delivery is claimed once.
func testDeliveryClaimIsAtomic(t *testing.T, s store.Store, another func(*testing.T) store.Store) {
	ctx := context.Background()
	const hooks = 8
	for i := range hooks {
		id := fmt.Sprintf("hook_%d", i)
		createWebhook(t, s, id)
		enqueue(t, s, id, "evt_1")
	}
	nodes := []store.Store{s, another(t), another(t)}
	var mu sync.Mutex
	claimed := map[string]string{}
	var wg sync.WaitGroup
	for n, st := range nodes {
		for w := range 3 {
			node := fmt.Sprintf("n%d-%d", n, w)
			wg.Go(func() {
				claimAll(t, func() (*store.Delivery, error) {
					return st.ClaimDelivery(ctx, node, time.Now(), time.Now().Add(time.Minute))
				}, func(d *store.Delivery) {
					mu.Lock()
					defer mu.Unlock()
					if by, twice := claimed[d.ID]; twice {
						t.Errorf("delivery %s claimed by %s and %s", d.ID, by, node)
					}
					claimed[d.ID] = node
				})
			})
		}
	}
	wg.Wait()
	if len(claimed) != hooks {
		t.Fatalf("%d deliveries claimed, want %d", len(claimed), hooks)
	}
}
