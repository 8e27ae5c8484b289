package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/accesslog"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/artifacts/artifactstest"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/artifacts/localfs"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/runspec"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store/sqlite"
)

// A deleted deployment's blobs go once the grace period is over; a live
// deployment's stay.
func TestCollectBlobsKeepsWhatDeploymentsList(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := sqlite.Open(ctx, filepath.Join(dir, DBName))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := st.Close(); err != nil {
			t.Error(err)
		}
	}()
	blobStore, err := localfs.Open(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateProject(ctx, &store.Project{ID: "p1", Name: "hello", Framework: "auto", RootDirectory: "."}, "hello.localhost"); err != nil {
		t.Fatal(err)
	}
	kept, dropped := artifactstest.Write(t, blobStore, "print('kept')"), artifactstest.Write(t, blobStore, "print('dropped')")
	for id, digest := range map[string]string{"d1": kept, "d2": dropped} {
		files, _ := json.Marshal([]api.File{{Path: "app.py", Digest: digest, Size: 13, Mode: 0o644}})
		d := &store.Deployment{ID: id, ProjectID: "p1", Target: "preview", State: "QUEUED", Hostname: "hello-" + id + ".localhost", Files: files, SealedEnv: []byte("x")}
		if err := st.EnqueueDeployment(ctx, d, 100); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.DeleteDeployment(ctx, "d2"); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)

	collectBlobs(ctx, log, st, blobStore, time.Hour)
	if !artifactstest.Stored(t, blobStore, dropped) {
		t.Fatal("a blob within its grace period was deleted")
	}
	collectBlobs(ctx, log, st, blobStore, -time.Minute) // as if the grace period were over
	if !artifactstest.Stored(t, blobStore, kept) {
		t.Fatal("a blob a deployment lists was deleted")
	}
	if artifactstest.Stored(t, blobStore, dropped) {
		t.Fatal("the deleted deployment's blob was kept")
	}
}

func TestCapLogsRotatesEngineRuntimeAndAccessLogs(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "logs"), 0o700); err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte("a line of output\n"), 1000)
	paths := []string{filepath.Join(dir, LogName), filepath.Join(dir, "logs", "dpl_1.log"), filepath.Join(dir, "logs", "dpl_1"+accesslog.Suffix),
		filepath.Join(dir, "logs", "dpl_2.log")}
	for i, path := range paths {
		content := big
		if i == 3 {
			content = []byte("small\n")
		}
		if err := os.WriteFile(path, content, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	capLogs(slog.New(slog.DiscardHandler), dir, 4096)
	for i, path := range paths {
		info, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		_, olderErr := os.Stat(path + ".1")
		if i < 3 && (info.Size() > 4096 || olderErr != nil) {
			t.Errorf("%s: %d bytes left, older generation: %v", path, info.Size(), olderErr)
		}
		if i == 3 && olderErr == nil {
			t.Errorf("%s was rotated below the limit", path)
		}
	}
}

func TestExpiredDeploymentsFollowRetention(t *testing.T) {
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	ago := func(days int) time.Time { return now.AddDate(0, 0, -days) }
	deployment := func(id, target, state string, created time.Time) *store.Deployment {
		return &store.Deployment{ID: id, Target: target, State: state, CreatedAt: created}
	}
	// Newest first, as a project's list comes.
	var list []*store.Deployment
	for i := range api.KeptProductionDeployments {
		list = append(list, deployment(fmt.Sprintf("prod%d", i), "production", api.StateReady, ago(400+i)))
	}
	list = append(list,
		deployment("prod-old", "production", api.StateReady, ago(500)),     // past 1y, beyond the newest ten
		deployment("prod-served", "production", api.StateReady, ago(600)),  // a hostname serves it
		deployment("preview-new", "preview", api.StateReady, ago(3)),       // within 1w
		deployment("preview-old", "preview", api.StateReady, ago(8)),       // past 1w
		deployment("preview-branch", "preview", api.StateReady, ago(30)),   // its branch URL serves it
		deployment("errored", "preview", api.StateError, ago(2)),           // past 1d
		deployment("canceled", "production", api.StateCanceled, ago(1000)), // canceled: unlimited
		deployment("building", "preview", api.StateBuilding, ago(100)),     // never while it builds
		deployment("queued", "production", api.StateQueued, ago(100)),
	)
	served := map[string]bool{"prod-served": true, "preview-branch": true}
	retention := api.Retention{Production: "1y", Preview: "1w", Errored: "1d", Canceled: api.RetentionUnlimited}

	var got []string
	for _, d := range expiredDeployments(retention, 0, list, served, now) {
		got = append(got, d.ID)
	}
	if want := []string{"prod-old", "preview-old", "errored"}; !slices.Equal(got, want) {
		t.Errorf("expired %v, want %v", got, want)
	}
	if expired := expiredDeployments(api.Retention{}, 0, list, nil, now); len(expired) != 0 {
		t.Errorf("with no retention set, %d deployments expired", len(expired))
	}
}

// openRetentionStore opens an empty store for a test of retention, closed at the test's end.
func openRetentionStore(t *testing.T) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), DBName))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Error(err)
		}
	})
	return st
}

func TestApplyRetentionDeletesOnlyExpiredDeployments(t *testing.T) {
	ctx := context.Background()
	st := openRetentionStore(t)
	for _, p := range []*store.Project{
		{ID: "p1", Name: "kept", Framework: "auto", RootDirectory: "."},
		{ID: "p2", Name: "short", Framework: "auto", RootDirectory: ".", Retention: api.Retention{Canceled: "1d"}},
	} {
		if err := st.CreateProject(ctx, p, p.Name+".localhost"); err != nil {
			t.Fatal(err)
		}
		d := &store.Deployment{ID: "d-" + p.Name, ProjectID: p.ID, Target: "preview", Hostname: p.Name + "-d.localhost", Files: []byte("[]"), SealedEnv: []byte("x")}
		if err := st.EnqueueDeployment(ctx, d, 100); err != nil {
			t.Fatal(err)
		}
		if _, _, err := st.CancelDeployment(ctx, d.ID); err != nil {
			t.Fatal(err)
		}
	}
	var removed []string
	remove := func(ctx context.Context, id string) error {
		removed = append(removed, id)
		return st.DeleteDeployment(ctx, id)
	}
	log := slog.New(slog.DiscardHandler)
	applyRetention(ctx, log, st, remove, time.Now())
	if len(removed) != 0 {
		t.Fatalf("deployments younger than their retention were deleted: %v", removed)
	}
	applyRetention(ctx, log, st, remove, time.Now().Add(25*time.Hour))
	if !slices.Equal(removed, []string{"d-short"}) {
		t.Errorf("deleted %v, want only the canceled deployment of the project that keeps them 1d", removed)
	}
}

// The audit log and ended webhook deliveries go once past their retention, not before.
func TestPruneRecordsKeepsTheirRetention(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), DBName))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := st.Close(); err != nil {
			t.Error(err)
		}
	}()
	if err := st.AppendAudit(ctx, &store.AuditEvent{At: time.Now(), Actor: "operator", TeamID: store.DefaultTeamID, Action: "project.create", Status: 201}); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateWebhook(ctx, &store.Webhook{ID: "hook", TeamID: store.DefaultTeamID, URL: "https://example.com/hook", Events: api.WebhookEvents, SealedSecret: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	if err := st.EnqueueDeliveries(ctx, []*store.Delivery{{ID: "dlv", WebhookID: "hook", EventID: "evt", EventType: api.EventDeploymentReady, Body: []byte("{}")}}); err != nil {
		t.Fatal(err)
	}
	d, err := st.ClaimDelivery(ctx, "node", time.Now(), time.Now().Add(time.Minute))
	if err != nil || d == nil {
		t.Fatalf("claim: %+v, %v", d, err)
	}
	if err := st.RecordAttempt(ctx, d.ID, "node", store.Attempt{Status: 200, Delivered: true}); err != nil {
		t.Fatal(err)
	}
	count := func() (audit, deliveries int) {
		events, err := st.ListAudit(ctx, store.AuditFilter{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		ds, err := st.ListDeliveries(ctx, "hook", 10)
		if err != nil {
			t.Fatal(err)
		}
		return len(events), len(ds)
	}
	log := slog.New(slog.DiscardHandler)
	pruneRecords(ctx, log, st, time.Now().Add(deliveryRetention-time.Hour))
	if a, ds := count(); a != 1 || ds != 1 {
		t.Fatalf("within both retentions: %d audit events, %d deliveries; want both kept", a, ds)
	}
	pruneRecords(ctx, log, st, time.Now().Add(deliveryRetention+time.Hour))
	if a, ds := count(); a != 1 || ds != 0 {
		t.Fatalf("past the deliveries' retention: %d audit events, %d deliveries; want the event kept, the delivery gone", a, ds)
	}
	pruneRecords(ctx, log, st, time.Now().Add(auditRetention+time.Hour))
	if a, _ := count(); a != 0 {
		t.Fatalf("past the audit log's retention: %d audit events; want none", a)
	}
}

// Beyond the plan's count, the oldest deployments go, however young; the served, the building
// and the rollback targets among them stay.
func TestExpiredDeploymentsBeyondThePlansCount(t *testing.T) {
	now := time.Now()
	deployment := func(id, target, state string) *store.Deployment {
		return &store.Deployment{ID: id, Target: target, State: state, CreatedAt: now}
	}
	list := []*store.Deployment{ // newest first
		deployment("new-preview", "preview", api.StateReady),
		deployment("new-errored", "preview", api.StateError),
		deployment("new-prod", "production", api.StateReady),
		deployment("old-preview", "preview", api.StateReady),        // beyond 3
		deployment("old-building", "preview", api.StateBuilding),    // never while it builds
		deployment("old-served", "preview", api.StateReady),         // its branch URL serves it
		deployment("old-prod", "production", api.StateReady),        // a rollback target
		deployment("old-canceled", "production", api.StateCanceled), // beyond 3
		deployment("old-queued", "production", api.StateQueued),     // never while it waits
	}
	var got []string
	for _, d := range expiredDeployments(api.Retention{}, 3, list, map[string]bool{"old-served": true}, now) {
		got = append(got, d.ID)
	}
	if want := []string{"old-preview", "old-canceled"}; !slices.Equal(got, want) {
		t.Errorf("beyond a count of 3, expired %v, want %v", got, want)
	}
}

// A project of a team on hobby keeps hobby's count of deployments: the oldest beyond it go,
// except one a production hostname serves and one building; a project of a team without a
// plan keeps them all.
func TestApplyRetentionKeepsThePlansCount(t *testing.T) {
	ctx := context.Background()
	st := openRetentionStore(t)
	hobby, _ := api.PlanNamed("hobby")
	if err := st.CreateTeam(ctx, &store.Team{ID: "team_small", Name: "small"}); err != nil {
		t.Fatal(err)
	}
	if err := st.SetTeamPlan(ctx, "team_small", hobby.Name); err != nil {
		t.Fatal(err)
	}
	capped := &store.Project{ID: "p1", Name: "capped", Framework: "auto", RootDirectory: ".", TeamID: "team_small"}
	free := &store.Project{ID: "p2", Name: "free", Framework: "auto", RootDirectory: "."}
	for _, p := range []*store.Project{capped, free} {
		if err := st.CreateProject(ctx, p, p.Name+".localhost"); err != nil {
			t.Fatal(err)
		}
	}
	queue := func(project, id, target string) *store.Deployment {
		time.Sleep(2 * time.Millisecond) // a project's deployments are listed by creation time
		d := &store.Deployment{ID: id, ProjectID: project, Target: target, Hostname: id + ".localhost", Files: []byte("[]"), SealedEnv: []byte("x")}
		if err := st.EnqueueDeployment(ctx, d, 1000); err != nil {
			t.Fatal(err)
		}
		return d
	}
	claim := func(d *store.Deployment) {
		claimed, err := st.ClaimDeployment(ctx, "test", time.Now().Add(time.Hour), nil)
		if err != nil || claimed == nil || claimed.ID != d.ID {
			t.Fatalf("claim %s: %+v, %v", d.ID, claimed, err)
		}
		d.ClaimedBy = claimed.ClaimedBy
	}
	cancel := func(d *store.Deployment) {
		if _, _, err := st.CancelDeployment(ctx, d.ID); err != nil {
			t.Fatal(err)
		}
	}
	// The oldest of the capped project: served by its production hostname, then one building.
	served := queue("p1", "served", "production")
	claim(served)
	served.Run = &runspec.Spec{AppDir: "src", Python: "venv/bin/python", Entrypoint: "app:app", Kind: runspec.KindWSGI}
	if err := st.MarkReady(ctx, served, store.Moves{Production: true}); err != nil {
		t.Fatal(err)
	}
	claim(queue("p1", "building", "preview"))
	// Then two more than hobby keeps, and a few of the project without a plan.
	for i := range hobby.RetainedDeployments + 2 {
		cancel(queue("p1", fmt.Sprintf("capped-%03d", i), "preview"))
	}
	for i := range 3 {
		cancel(queue("p2", fmt.Sprintf("free-%d", i), "preview"))
	}

	var removed []string
	remove := func(ctx context.Context, id string) error {
		removed = append(removed, id)
		return st.DeleteDeployment(ctx, id)
	}
	applyRetention(ctx, slog.New(slog.DiscardHandler), st, remove, time.Now())
	if want := []string{"capped-001", "capped-000"}; !slices.Equal(removed, want) {
		t.Errorf("deleted %v, want the two oldest beyond hobby's %d that nothing serves and are built, %v", removed, hobby.RetainedDeployments, want)
	}
	if list, _ := st.ListDeployments(ctx, "p1"); len(list) != hobby.RetainedDeployments+2 {
		t.Errorf("the capped project keeps %d deployments, want hobby's %d and the served and building ones", len(list), hobby.RetainedDeployments)
	}
	if list, _ := st.ListDeployments(ctx, "p2"); len(list) != 3 {
		t.Errorf("the project of a team without a plan keeps %d of its 3 deployments", len(list))
	}
}
