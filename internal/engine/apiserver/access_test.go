package apiserver

import (
	"context"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
)

// TestEveryRouteIsClassified: the table of access names exactly the routes served. A route
// added without an entry panics in New (so every test of the package fails); an entry left
// after its route went fails here.
func TestEveryRouteIsClassified(t *testing.T) {
	s := New(Config{Observe: Observability{Metrics: http.NotFoundHandler()}})
	var table []string
	for key := range routeAccess {
		table = append(table, key)
	}
	slices.Sort(table)
	served := slices.Sorted(slices.Values(s.routes))
	if !slices.Equal(table, slices.Compact(served)) {
		t.Errorf("routes served:\n%s\nclassified in routeAccess:\n%s", strings.Join(served, "\n"), strings.Join(table, "\n"))
	}
	defer func() {
		if recover() == nil {
			t.Error("registering a route without an entry in routeAccess did not panic")
		}
	}()
	s.route("GET", "/v1/unclassified", http.NotFoundHandler())
}

// TestScopesAreEnforcedOnEveryRoute calls every route with a token of each scope: a route that
// needs more than the token has answers 403 naming the scope, and one it may call does not.
func TestScopesAreEnforcedOnEveryRoute(t *testing.T) {
	srv, st := newTestServer(t)
	team := &store.Team{ID: "team_a", Name: "alpha"}
	if err := st.CreateTeam(context.Background(), team); err != nil {
		t.Fatal(err)
	}
	served, ok := srv.Config.Handler.(*Server)
	if !ok {
		t.Fatalf("the test server serves a %T", srv.Config.Handler)
	}
	param := regexp.MustCompile(`\{[a-z]+(\.\.\.)?\}`)
	for _, scope := range api.Scopes {
		principal := &Principal{Token: &store.Token{ID: "tok_" + scope, Name: scope + "-token", TeamID: team.ID, Prefix: "ferry_xxxxxx", Scopes: []string{scope}}, Team: team}
		asToken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			srv.Config.Handler.ServeHTTP(w, r.WithContext(WithPrincipal(r.Context(), principal)))
		}))
		for key, a := range routeAccess {
			if !slices.Contains(served.routes, key) {
				continue // /metrics, which this server has no handler for
			}
			method, pattern, _ := strings.Cut(key, " ")
			path := param.ReplaceAllString(pattern, "x")
			req, _ := http.NewRequest(method, asToken.URL+path, strings.NewReader("{}"))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
			allowed := a.need != operatorOnly && api.ScopeRank(scope) >= api.ScopeRank(a.need)
			if allowed == (resp.StatusCode == http.StatusForbidden) {
				t.Errorf("%s with a %s token: %d; the route needs %q", key, scope, resp.StatusCode, a.need)
			}
		}
		asToken.Close()
	}
}
