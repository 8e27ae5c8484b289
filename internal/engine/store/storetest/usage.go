package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
)

// Amounts for one project and day add up, whoever adds them and however concurrently (nodes
// flush their meters at once); days and projects stay apart; a deleted project's usage stays,
// and still counts for its team.
func testUsageAddsUpByProjectAndDay(t *testing.T, s store.Store, another func(*testing.T) store.Store) {
	ctx := context.Background()
	if err := s.CreateTeam(ctx, &store.Team{ID: "team_b", Name: "beta"}); err != nil {
		t.Fatal(err)
	}
	createProject(t, s, "prj_a", "a")
	if err := s.CreateProject(ctx, &store.Project{ID: "prj_b", Name: "b", Framework: "auto", RootDirectory: ".", TeamID: "team_b"}, "b.localhost"); err != nil {
		t.Fatal(err)
	}
	day := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	late := day.Add(23*time.Hour + 59*time.Minute) // the same day
	if err := s.AddUsage(ctx, []store.UsageRecord{
		{ProjectID: "prj_a", Day: late, Requests: 3, BytesOut: 300, MemoryMBMillis: 1024 * 1000, BuildMillis: 60_000},
		{ProjectID: "prj_b", Day: day, Requests: 1, BytesOut: 10},
		{ProjectID: "prj_a", Day: day.AddDate(0, 0, 1), Requests: 7},
	}); err != nil {
		t.Fatal(err)
	}
	other := another(t)
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := range 20 {
		target := s
		if i%2 == 1 {
			target = other
		}
		wg.Go(func() {
			errs <- target.AddUsage(ctx, []store.UsageRecord{{ProjectID: "prj_a", Day: day, Requests: 1, BytesOut: 5, MemoryMBMillis: 10, BuildMillis: 1}})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.DeleteProject(ctx, "prj_b"); err != nil {
		t.Fatal(err)
	}
	if err := s.AddUsage(ctx, []store.UsageRecord{{ProjectID: "prj_b", Day: day, Requests: 2}}); err != nil {
		t.Fatal(err) // added after the delete, as a node's last flush may be: the row keeps its team
	}
	got, err := s.ListUsage(ctx, store.UsageFilter{ProjectIDs: []string{"prj_a", "prj_b"}}, day, day.AddDate(0, 0, 2))
	if err != nil {
		t.Fatal(err)
	}
	want := []store.UsageRecord{
		{ProjectID: "prj_a", TeamID: store.DefaultTeamID, Day: day, Requests: 23, BytesOut: 400, MemoryMBMillis: 1024*1000 + 200, BuildMillis: 60_020},
		{ProjectID: "prj_b", TeamID: "team_b", Day: day, Requests: 3, BytesOut: 10},
		{ProjectID: "prj_a", TeamID: store.DefaultTeamID, Day: day.AddDate(0, 0, 1), Requests: 7},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("usage:\n got %v\nwant %v", got, want)
	}
	if got, err := s.ListUsage(ctx, store.UsageFilter{ProjectIDs: []string{"prj_a"}}, day.AddDate(0, 0, 1), day.AddDate(0, 0, 2)); err != nil || len(got) != 1 || got[0].Requests != 7 {
		t.Errorf("the second day of prj_a alone: %v, %v", got, err)
	}
	if got, err := s.ListUsage(ctx, store.UsageFilter{}, day, day.AddDate(0, 0, 2)); err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("every project: %v, %v", got, err)
	}
	if got, err := s.ListUsage(ctx, store.UsageFilter{ProjectIDs: []string{}}, day, day.AddDate(0, 0, 2)); err != nil || len(got) != 0 {
		t.Errorf("no project: %v, %v", got, err)
	}
	if got, err := s.ListUsage(ctx, store.UsageFilter{TeamID: "team_b"}, day, day.AddDate(0, 0, 2)); err != nil || fmt.Sprint(got) != fmt.Sprint(want[1:2]) {
		t.Errorf("team_b, whose only project was deleted: %v, %v", got, err)
	}
	if got, err := s.ListUsage(ctx, store.UsageFilter{TeamID: store.DefaultTeamID, ProjectIDs: []string{"prj_b"}}, day, day.AddDate(0, 0, 2)); err != nil || len(got) != 0 {
		t.Errorf("the default team's prj_b (a project of another team): %v, %v", got, err)
	}
}
