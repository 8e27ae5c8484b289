package apiserver

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
)

// BenchmarkGetProject measures what a team token adds to a request: its lookup by hash in the
// store (SQLite here), beside the operator's request, which needs none.
func BenchmarkGetProject(b *testing.B) {
	srv, _ := newTestServer(b)
	s, ok := srv.Config.Handler.(*Server)
	if !ok {
		b.Fatalf("the test server serves a %T", srv.Config.Handler)
	}
	ctx := context.Background()
	team := createTeamIn(b, srv, "bench")
	var p api.Project
	if status, e := call(b, srv, "POST", api.PathProjects, api.ProjectRequest{Name: "bench-app", Team: team.ID}, &p); status != http.StatusCreated {
		b.Fatalf("create project: %d %+v", status, e)
	}
	var tok api.CreatedToken
	if status, e := call(b, srv, "POST", "/v1/teams/bench/tokens", api.TokenRequest{Name: "bench", Scopes: []string{api.ScopeRead}}, &tok); status != http.StatusCreated {
		b.Fatalf("create token: %d %+v", status, e)
	}
	request := func(b *testing.B, ctx context.Context) {
		req := httptest.NewRequestWithContext(ctx, "GET", "/v1/projects/bench-app", nil)
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("GET: %d %s", w.Code, w.Body)
		}
	}
	b.Run("operator", func(b *testing.B) {
		for b.Loop() {
			request(b, ctx)
		}
	})
	b.Run("team-token", func(b *testing.B) {
		for b.Loop() {
			principal, err := s.Authenticate(ctx, tok.Value)
			if err != nil {
				b.Fatal(err)
			}
			request(b, WithPrincipal(ctx, principal))
		}
	})
}

func createTeamIn(b *testing.B, srv *httptest.Server, name string) api.Team {
	b.Helper()
	var t api.Team
	if status, e := call(b, srv, "POST", api.PathTeams, api.TeamRequest{Name: name}, &t); status != http.StatusCreated {
		b.Fatalf("create team: %d %+v", status, e)
	}
	return t
}
