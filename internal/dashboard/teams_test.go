package dashboard_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/client"
)

// TestTeamTokenSessions: a dashboard session opened with a team's token sees that team's
// projects only (another team's answers as missing), reads its team's audit log when its token
// is an admin one, and ends at the first page after the token is revoked.
func TestTeamTokenSessions(t *testing.T) {
	_, base := tokenEngine(t)
	ctx := context.Background()
	op, err := client.New(client.Config{Endpoint: base, Token: testToken, RetryMax: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, team := range []string{"alpha", "beta"} {
		if _, err := op.CreateTeam(ctx, api.TeamRequest{Name: team}); err != nil {
			t.Fatal(err)
		}
		if _, err := op.CreateProject(ctx, api.ProjectRequest{Name: "app-" + team, Team: team}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := op.CreateEnvVar(ctx, "app-beta", api.EnvVarRequest{Key: "BETA_ONLY_KEY", Value: "x", Targets: []string{"production"}}); err != nil {
		t.Fatal(err)
	}
	admin, err := op.CreateToken(ctx, "alpha", api.TokenRequest{Name: "dash-admin", Scopes: []string{api.ScopeAdmin}})
	if err != nil {
		t.Fatal(err)
	}
	reader, err := op.CreateToken(ctx, "alpha", api.TokenRequest{Name: "dash-reader", Scopes: []string{api.ScopeRead}})
	if err != nil {
		t.Fatal(err)
	}
	// A change by the admin token, for the audit page.
	adminClient, _ := client.New(client.Config{Endpoint: base, Token: admin.Value, RetryMax: 1})
	if _, err := adminClient.CreateEnvVar(ctx, "app-alpha", api.EnvVarRequest{Key: "ALPHA_KEY", Value: "alpha-value-never-shown", Targets: []string{"production"}}); err != nil {
		t.Fatal(err)
	}

	login := func(token string) *browserless {
		b := newBrowserless(t, base)
		if status, html := b.post("/login", url.Values{"token": {token}}); status != http.StatusOK || !strings.Contains(html, "Projects</h1>") {
			t.Fatalf("log in with a team token: %d\n%s", status, html)
		}
		return b
	}
	b := login(admin.Value)
	if _, html := b.get("/"); !strings.Contains(html, "app-alpha") || strings.Contains(html, "app-beta") {
		t.Errorf("team alpha's projects page:\n%s", html)
	}
	if status, html := b.get("/projects/app-beta"); status != http.StatusNotFound || strings.Contains(html, "BETA_ONLY_KEY") || !strings.Contains(html, "does not exist") {
		t.Errorf("team beta's project in team alpha's session: %d\n%s", status, html)
	}
	status, html := b.get("/audit")
	if status != http.StatusOK || !strings.Contains(html, "env.create") || !strings.Contains(html, "dash-admin") || strings.Contains(html, "alpha-value-never-shown") {
		t.Errorf("team alpha's audit page: %d\n%s", status, html)
	}
	r := login(reader.Value)
	if status, html := r.get("/audit"); status != http.StatusForbidden || !strings.Contains(html, "admin scope") {
		t.Errorf("the audit page for a read token: %d\n%s", status, html)
	}

	if err := op.RevokeToken(ctx, "alpha", admin.ID); err != nil {
		t.Fatal(err)
	}
	if status, html := b.get("/"); status != http.StatusUnauthorized || !strings.Contains(html, "revoked") || strings.Contains(html, "app-alpha") {
		t.Errorf("a session of a revoked token: %d\n%s", status, html)
	}
}
