package storetest

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
)

func testTeamsOwnProjects(t *testing.T, s store.Store, _ func(*testing.T) store.Store) {
	ctx := context.Background()
	// The migration made the default team; a project that names none belongs to it.
	def, err := s.GetTeam(ctx, "default")
	if err != nil || def.ID != store.DefaultTeamID {
		t.Fatalf("default team: %+v, %v", def, err)
	}
	createProject(t, s, "prj_1", "one")
	if p, _ := s.GetProject(ctx, "one"); p.TeamID != store.DefaultTeamID {
		t.Fatalf("project without a team belongs to %q, want the default team", p.TeamID)
	}
	if err := s.CreateTeam(ctx, &store.Team{ID: "team_a", Name: "alpha"}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateTeam(ctx, &store.Team{ID: "team_b", Name: "alpha"}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second team named alpha: %v, want ErrConflict", err)
	}
	p := &store.Project{ID: "prj_2", Name: "two", Framework: "auto", RootDirectory: ".", TeamID: "team_a"}
	if err := s.CreateProject(ctx, p, "two.localhost"); err != nil {
		t.Fatal(err)
	}
	missing := &store.Project{ID: "prj_3", Name: "three", Framework: "auto", RootDirectory: ".", TeamID: "team_gone"}
	if err := s.CreateProject(ctx, missing, "three.localhost"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("project of a missing team: %v, want ErrNotFound", err)
	}
	teams, err := s.ListTeams(ctx)
	if err != nil || len(teams) != 2 || teams[0].Name != "alpha" || teams[0].Projects != 1 || teams[1].Name != "default" || teams[1].Projects != 1 {
		t.Fatalf("teams %+v, %v; want alpha and default with one project each", teams, err)
	}
	if err := s.DeleteTeam(ctx, "team_a"); !errors.Is(err, store.ErrTeamNotEmpty) {
		t.Fatalf("delete a team that owns a project: %v, want ErrTeamNotEmpty", err)
	}
	if err := s.SetTeamPlan(ctx, "team_a", "hobby"); err != nil {
		t.Fatal(err)
	}
	if alpha, err := s.GetTeam(ctx, "alpha"); err != nil || alpha.Plan != "hobby" {
		t.Fatalf("alpha after SetTeamPlan: %+v, %v", alpha, err)
	}
	if err := s.SetTeamPlan(ctx, "team_nope", "hobby"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("plan of a missing team: %v, want ErrNotFound", err)
	}
	// Moving the project to the default team empties alpha, which may then go.
	p.TeamID = store.DefaultTeamID
	if err := s.UpdateProject(ctx, p, "two.localhost", func(string) string { return "" }); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteTeam(ctx, "team_a"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetTeam(ctx, "alpha"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleted team: %v, want ErrNotFound", err)
	}
}

func testTokensAreFoundByHashAndRevoked(t *testing.T, s store.Store, _ func(*testing.T) store.Store) {
	ctx := context.Background()
	if err := s.CreateTeam(ctx, &store.Team{ID: "team_a", Name: "alpha"}); err != nil {
		t.Fatal(err)
	}
	expires := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	tok := &store.Token{ID: "tok_1", TeamID: "team_a", Name: "ci", Hash: "abc123", Prefix: "ferry_abcd",
		Scopes: []string{"deploy"}, Projects: []string{"prj_x"}, ExpiresAt: &expires}
	if err := s.CreateToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateToken(ctx, &store.Token{ID: "tok_2", TeamID: "team_a", Name: "ci", Hash: "other", Scopes: []string{"read"}}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second token named ci: %v, want ErrConflict", err)
	}
	if err := s.CreateToken(ctx, &store.Token{ID: "tok_3", TeamID: "team_gone", Name: "x", Hash: "h3", Scopes: []string{"read"}}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("token of a missing team: %v, want ErrNotFound", err)
	}
	got, team, err := s.TokenByHash(ctx, "abc123")
	if err == nil && (team.ID != "team_a" || team.Name != "alpha" || team.CreatedAt.IsZero()) {
		t.Errorf("the token's team: %+v; want alpha", team)
	}
	if err != nil || got.ID != "tok_1" || got.TeamID != "team_a" || !slices.Equal(got.Scopes, []string{"deploy"}) ||
		!slices.Equal(got.Projects, []string{"prj_x"}) || got.ExpiresAt == nil || !got.ExpiresAt.Equal(expires) || got.RevokedAt != nil || got.LastUsedAt != nil {
		t.Fatalf("token by hash: %+v, %v", got, err)
	}
	if _, _, err := s.TokenByHash(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown hash: %v, want ErrNotFound", err)
	}
	used := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	if err := s.TouchToken(ctx, "tok_1", used); err != nil {
		t.Fatal(err)
	}
	revoked := used.Add(time.Hour)
	if err := s.RevokeToken(ctx, "team_other", "tok_1", revoked); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("revoke through another team: %v, want ErrNotFound", err)
	}
	if err := s.RevokeToken(ctx, "team_a", "tok_1", revoked); err != nil {
		t.Fatal(err)
	}
	// A second revocation keeps the first time.
	if err := s.RevokeToken(ctx, "team_a", "tok_1", revoked.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	list, err := s.ListTokens(ctx, "team_a")
	if err != nil || len(list) != 1 || list[0].RevokedAt == nil || !list[0].RevokedAt.Equal(revoked) || list[0].LastUsedAt == nil || !list[0].LastUsedAt.Equal(used) {
		t.Fatalf("tokens %+v, %v; want tok_1 revoked at %s, used at %s", list, err, revoked, used)
	}
	// A revoked token's name is free again.
	if err := s.CreateToken(ctx, &store.Token{ID: "tok_4", TeamID: "team_a", Name: "ci", Hash: "h4", Scopes: []string{"read"}}); err != nil {
		t.Fatalf("a token named as a revoked one: %v", err)
	}
	// Tokens go with their team.
	if err := s.DeleteTeam(ctx, "team_a"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.TokenByHash(ctx, "abc123"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("token of a deleted team: %v, want ErrNotFound", err)
	}
}

func testAuditEventsByTeamNewestFirst(t *testing.T, s store.Store, _ func(*testing.T) store.Store) {
	ctx := context.Background()
	at := time.Date(2026, 7, 8, 9, 10, 11, 0, time.UTC)
	for i, team := range []string{"team_a", "team_b", "team_a", "team_a"} {
		e := &store.AuditEvent{At: at.Add(time.Duration(i) * time.Second), Actor: "token", TokenID: "tok_1", TokenName: "ci", TeamID: team,
			Action: "env.create", Target: "/v1/projects/p/env", Remote: "127.0.0.1", Status: 201}
		if err := s.AppendAudit(ctx, e); err != nil {
			t.Fatal(err)
		}
		if e.ID == 0 {
			t.Fatal("AppendAudit gave the event no id")
		}
	}
	all, err := s.ListAudit(ctx, store.AuditFilter{Limit: 10})
	if err != nil || len(all) != 4 || all[0].ID <= all[1].ID || !all[0].At.Equal(at.Add(3*time.Second)) || all[0].Remote != "127.0.0.1" || all[0].Status != 201 {
		t.Fatalf("every event: %+v, %v", all, err)
	}
	a, err := s.ListAudit(ctx, store.AuditFilter{TeamID: "team_a", Limit: 2})
	if err != nil || len(a) != 2 || a[0].TeamID != "team_a" || a[1].TeamID != "team_a" {
		t.Fatalf("team_a's newest two: %+v, %v", a, err)
	}
	older, err := s.ListAudit(ctx, store.AuditFilter{TeamID: "team_a", Before: a[1].ID, Limit: 10})
	if err != nil || len(older) != 1 || older[0].ID >= a[1].ID {
		t.Fatalf("team_a's events before %d: %+v, %v", a[1].ID, older, err)
	}
	// Pruned by age: the two recorded before the third second go.
	if n, err := s.PruneAudit(ctx, at.Add(2*time.Second)); err != nil || n != 2 {
		t.Fatalf("prune: %d, %v; want 2 events deleted", n, err)
	}
	left, err := s.ListAudit(ctx, store.AuditFilter{Limit: 10})
	if err != nil || len(left) != 2 || !left[1].At.Equal(at.Add(2*time.Second)) {
		t.Fatalf("events after the prune: %+v, %v", left, err)
	}
}
