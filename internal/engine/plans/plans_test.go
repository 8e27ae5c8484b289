package plans

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store/sqlite"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/webhooks"
)

// recordedEvents keeps what the enforcer emits.
type recordedEvents struct{ got []webhooks.Event }

func (r *recordedEvents) Emit(_ context.Context, e webhooks.Event) error {
	r.got = append(r.got, e)
	return nil
}

// teamOnPlan makes a team on plan with one project, in a new store.
func teamOnPlan(t *testing.T, s store.Store, team, plan, projectID string) {
	t.Helper()
	ctx := context.Background()
	if err := s.CreateTeam(ctx, &store.Team{ID: "team_" + team, Name: team}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetTeamPlan(ctx, "team_"+team, plan); err != nil {
		t.Fatal(err)
	}
	p := &store.Project{ID: projectID, Name: team + "-app", Framework: "flask", RootDirectory: ".", TeamID: "team_" + team}
	if err := s.CreateProject(ctx, p, p.Name+".localhost"); err != nil {
		t.Fatal(err)
	}
}

func TestPlansHoldTeamsToTheirLimits(t *testing.T) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "ferry.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	now := time.Date(2026, 12, 20, 12, 0, 0, 0, time.UTC)
	events := &recordedEvents{}
	e := New(Config{Store: s, Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return now }, Events: events})
	teamOnPlan(t, s, "hobbyist", "hobby", "prj_h")
	teamOnPlan(t, s, "company", "pro", "prj_c")
	teamOnPlan(t, s, "free", "", "prj_f")
	gb := int64(1e9)
	if err := s.AddUsage(ctx, []store.UsageRecord{
		// hobby: 6,000 build minutes used up, 101 GB of its 100 out; last month's does not count
		{ProjectID: "prj_h", Day: now.AddDate(0, 0, -3), BuildMillis: 6000 * 60000, BytesOut: 101 * gb},
		{ProjectID: "prj_h", Day: now.AddDate(0, -1, 0), BuildMillis: 99999 * 60000},
		// pro: 1,100 GB out of 1,000 (it warns, not blocks); 850 GB-hours of 1,000 (80 %)
		{ProjectID: "prj_c", Day: now, BytesOut: 1100 * gb, MemoryMBMillis: 850 * 1024 * 3600 * 1000},
		// no plan: no limit
		{ProjectID: "prj_f", Day: now, BuildMillis: 1e9, BytesOut: 1e15},
	}); err != nil {
		t.Fatal(err)
	}

	hobbyist, _ := s.GetProject(ctx, "prj_h")
	err = e.RefuseDeployment(ctx, hobbyist)
	var apiErr *api.Error
	if !errors.As(err, &apiErr) || apiErr.Code != api.CodeOverPlan {
		t.Fatalf("a deployment past the build minutes: %v", err)
	}
	for _, want := range []string{"team hobbyist used 6000.0 of the 6000 build minutes of plan hobby", "until 2027-01-01", "What is deployed keeps serving"} {
		if !strings.Contains(apiErr.Message, want) {
			t.Errorf("refusal %q lacks %q", apiErr.Message, want)
		}
	}
	for _, id := range []string{"prj_c", "prj_f"} {
		p, _ := s.GetProject(ctx, id)
		if err := e.RefuseDeployment(ctx, p); err != nil {
			t.Errorf("a deployment of %s: %v", id, err)
		}
	}

	if why := e.Blocked("prj_h"); why != "" {
		t.Errorf("blocked before any check: %q", why)
	}
	if err := e.Check(ctx); err != nil {
		t.Fatal(err)
	}
	if why := e.Blocked("prj_h"); !strings.Contains(why, "passed the bandwidth of plan hobby") {
		t.Errorf("hobby past its bandwidth: blocked %q", why)
	}
	for _, id := range []string{"prj_c", "prj_f"} {
		if why := e.Blocked(id); why != "" {
			t.Errorf("%s blocked: %q", id, why)
		}
	}
	company, _ := s.GetTeam(ctx, "company")
	status, err := e.Status(ctx, company)
	if err != nil || status.Plan == nil || status.Plan.Name != "pro" || len(status.Over) != 1 || !strings.HasPrefix(status.Over[0], "bandwidth: 1100.00 of 1000 GB") ||
		len(status.Warnings) != 1 || !strings.HasPrefix(status.Warnings[0], "function GB-hours: 850.00 of 1000") || status.Since != "2026-12-01" || status.Until != "2027-01-01" {
		t.Errorf("pro's status: %+v, %v", status, err)
	}

	// Each threshold is told once a month, however many checks see it.
	if err := e.Check(ctx); err != nil {
		t.Fatal(err)
	}
	told := map[string]int{}
	for _, ev := range events.got {
		if ev.Type != api.EventUsageThreshold {
			t.Errorf("event %+v", ev)
		}
		told[fmt.Sprintf("%s %s %v", ev.TeamID, ev.Payload["limit"], ev.Payload["thresholdPercent"])]++
	}
	want := map[string]int{"team_hobbyist bandwidth 100": 1, "team_hobbyist build minutes 100": 1, "team_company bandwidth 100": 1, "team_company function GB-hours 80": 1}
	if fmt.Sprint(told) != fmt.Sprint(want) {
		t.Errorf("usage threshold events %v, want %v", told, want)
	}

	// A larger plan lifts the block at the next check.
	if err := s.SetTeamPlan(ctx, "team_hobbyist", "pro"); err != nil {
		t.Fatal(err)
	}
	if err := e.Check(ctx); err != nil {
		t.Fatal(err)
	}
	if why := e.Blocked("prj_h"); why != "" {
		t.Errorf("still blocked on pro: %q", why)
	}

	// Per-project limits.
	if err := e.CheckLimits(ctx, "team_company", api.Limits{MemoryMB: 8192}); err == nil || !strings.Contains(err.Error(), "at most 4096") {
		t.Errorf("8 GB on pro: %v", err)
	}
	if err := e.CheckLimits(ctx, "team_company", api.Limits{MemoryMB: 4096, FunctionSettings: api.FunctionSettings{MaxDurationSeconds: 800}}); err != nil {
		t.Errorf("pro's own maxima: %v", err)
	}
	if err := s.SetTeamPlan(ctx, "team_hobbyist", "hobby"); err != nil {
		t.Fatal(err)
	}
	if err := e.CheckLimits(ctx, "team_hobbyist", api.Limits{FunctionSettings: api.FunctionSettings{MaxDurationSeconds: 301}}); err == nil || !strings.Contains(err.Error(), "at most 300") {
		t.Errorf("301 s on hobby: %v", err)
	}
	if err := e.CheckDomains(ctx, "team_hobbyist", 50); err == nil {
		t.Error("a 51st custom domain on hobby was allowed")
	}
	if err := e.CheckDomains(ctx, "team_hobbyist", 49); err != nil {
		t.Errorf("a 50th custom domain on hobby: %v", err)
	}
	if err := e.CheckLimits(ctx, "team_free", api.Limits{MemoryMB: 1 << 20}); err != nil {
		t.Errorf("no plan: %v", err)
	}
}
