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
	for _, d := range expiredDeployments(retention, list, served, now) {
		got = append(got, d.ID)
	}
	if want := []string{"prod-old", "preview-old", "errored"}; !slices.Equal(got, want) {
		t.Errorf("expired %v, want %v", got, want)
	}
	if expired := expiredDeployments(api.Retention{}, list, nil, now); len(expired) != 0 {
		t.Errorf("with no retention set, %d deployments expired", len(expired))
	}
}

func TestApplyRetentionDeletesOnlyExpiredDeployments(t *testing.T) {
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
