package engine_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/client"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine"
	"github.com/ferryhq/terraform-provider-ferry/internal/freeport"
)

// teamEngine is an engine reached over TCP with its operator token, whose clock a test moves.
type teamEngine struct {
	apiAddress string
	operator   *client.Client
	clockShift atomic.Int64 // added to the real time
}

const operatorToken = "operator-t0ken-of-the-test"

func startTeamEngine(t *testing.T) *teamEngine {
	t.Helper()
	e := &teamEngine{apiAddress: freeport.Loopback(t)}
	startEngine(t, func(c *engine.Config) {
		c.APIAddress, c.Token = e.apiAddress, operatorToken
		c.Now = func() time.Time { return time.Now().Add(time.Duration(e.clockShift.Load())) }
	})
	e.operator = e.as(t, operatorToken)
	return e
}

// as is a client of the engine's TCP API with token.
func (e *teamEngine) as(t *testing.T, token string) *client.Client {
	t.Helper()
	c, err := client.New(client.Config{Endpoint: "http://" + e.apiAddress, Token: token, RetryMax: 1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// token creates a token of team with scopes, and returns a client that uses it.
func (e *teamEngine) token(t *testing.T, team, name string, req api.TokenRequest) (*client.Client, *api.CreatedToken) {
	t.Helper()
	req.Name = name
	created, err := e.operator.CreateToken(context.Background(), team, req)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(created.Value, api.TokenPrefix) || !strings.HasPrefix(created.Value, created.Prefix) || len(created.Value) < 40 {
		t.Fatalf("token value %d characters, prefix %q: want %s..., at least 40 characters, starting with its prefix", len(created.Value), created.Prefix, api.TokenPrefix)
	}
	return e.as(t, created.Value), created
}

// wantStatus checks that err is the engine's answer status, with a message that holds each of want.
func wantStatus(t *testing.T, what string, err error, status int, want ...string) {
	t.Helper()
	apiErr, ok := client.AsError(err)
	if !ok || apiErr.StatusCode != status {
		t.Fatalf("%s: %v, want %d", what, err, status)
	}
	for _, w := range want {
		if !strings.Contains(apiErr.Message, w) {
			t.Errorf("%s: message %q does not say %q", what, apiErr.Message, w)
		}
	}
}

// TestTeamTokensOverTCP: scopes hold, a team's token sees nothing of another team (answered as
// missing, lists filtered), revocation and expiry refuse at the next request, and every change
// is in the audit log with its actor and address, never with a secret.
func TestTeamTokensOverTCP(t *testing.T) {
	needFlask(t)
	e := startTeamEngine(t)
	ctx := context.Background()
	op := e.operator
	for _, name := range []string{"alpha", "beta"} {
		if _, err := op.CreateTeam(ctx, api.TeamRequest{Name: name}); err != nil {
			t.Fatal(err)
		}
	}
	appA, err := op.CreateProject(ctx, api.ProjectRequest{Name: "app-a", Team: "alpha"})
	if err != nil {
		t.Fatal(err)
	}
	appB, err := op.CreateProject(ctx, api.ProjectRequest{Name: "app-b", Team: "beta"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := op.CreateEnvVar(ctx, "app-b", api.EnvVarRequest{Key: "GREETING", Value: "beta-secret-greeting", Targets: []string{"production"}}); err != nil {
		t.Fatal(err)
	}
	deployedB := deploy(t, op, appB.ID, writeApp(t, "1"))

	readA, readTok := e.token(t, "alpha", "reader", api.TokenRequest{Scopes: []string{api.ScopeRead}})
	deployA, _ := e.token(t, "alpha", "pipeline", api.TokenRequest{Scopes: []string{api.ScopeDeploy}})
	adminA, adminTok := e.token(t, "alpha", "admin", api.TokenRequest{Scopes: []string{api.ScopeAdmin}})
	adminB, _ := e.token(t, "beta", "admin", api.TokenRequest{Scopes: []string{api.ScopeAdmin}})

	// Scopes: a read token reads but cannot deploy; a deploy token cannot set env vars.
	if _, err := readA.GetProject(ctx, "app-a"); err != nil {
		t.Fatalf("read token reading its team's project: %v", err)
	}
	_, err = readA.CreateDeployment(ctx, api.DeploymentRequest{ProjectID: appA.ID, Production: true})
	wantStatus(t, "read token deploying", err, http.StatusForbidden, "deploy scope", "reader")
	_, err = deployA.CreateEnvVar(ctx, "app-a", api.EnvVarRequest{Key: "K", Value: "v", Targets: []string{"production"}})
	wantStatus(t, "deploy token setting an env var", err, http.StatusForbidden, "admin scope")
	_, err = adminA.CreateTeam(ctx, api.TeamRequest{Name: "gamma"})
	wantStatus(t, "team admin creating a team", err, http.StatusForbidden, "operator")
	_, err = adminA.Nodes(ctx)
	wantStatus(t, "team admin listing nodes", err, http.StatusForbidden, "operator")

	// Team A's token sees nothing of team B's project: the answers are those of a missing one.
	_, missing := adminA.GetProject(ctx, "no-such-app")
	_, other := adminA.GetProject(ctx, "app-b")
	wantStatus(t, "team A reading team B's project", other, http.StatusNotFound)
	if strings.ReplaceAll(other.Error(), "app-b", "X") != strings.ReplaceAll(missing.Error(), "no-such-app", "X") {
		t.Errorf("another team's project answers %q, a missing one %q: they must not differ", other, missing)
	}
	if list, err := adminA.ListProjects(ctx); err != nil || len(list) != 1 || list[0].Name != "app-a" || list[0].TeamID != appA.TeamID {
		t.Errorf("team A's projects: %+v, %v; want app-a only", list, err)
	}
	_, err = adminA.ListEnvVars(ctx, "app-b", false)
	wantStatus(t, "team A listing team B's env keys", err, http.StatusNotFound)
	_, err = readA.Usage(ctx, client.UsageQuery{Project: "app-b"})
	wantStatus(t, "team A reading team B's usage", err, http.StatusNotFound)
	if all, err := op.Usage(ctx, client.UsageQuery{}); err != nil || all.Totals.BuildMinutes <= 0 {
		t.Errorf("the operator's usage report: %+v, %v; want team B's build", all, err)
	}
	if mine, err := readA.Usage(ctx, client.UsageQuery{}); err != nil || len(mine.Days) != 0 || mine.Totals.BuildMinutes != 0 {
		t.Errorf("team A's usage report: %+v, %v; want nothing of team B's build", mine, err)
	}
	_, err = adminA.PullEnv(ctx, "app-b", "production", "")
	wantStatus(t, "team A pulling team B's env", err, http.StatusNotFound)
	_, err = adminA.DeploymentLog(ctx, deployedB.ID)
	wantStatus(t, "team A reading team B's build log", err, http.StatusNotFound)
	_, err = adminA.RuntimeLog(ctx, deployedB.ID, 10)
	wantStatus(t, "team A reading team B's runtime log", err, http.StatusNotFound)
	err = adminA.FollowProjectRuntimeLog(ctx, "app-b", 10, false, io.Discard)
	wantStatus(t, "team A reading team B's project runtime log", err, http.StatusNotFound)
	_, err = adminA.GetDeployment(ctx, deployedB.ID)
	wantStatus(t, "team A reading team B's deployment", err, http.StatusNotFound)
	_, err = adminA.RequestLog(ctx, deployedB.ID, 10)
	wantStatus(t, "team A reading team B's requests", err, http.StatusNotFound)
	_, err = adminA.DeploymentFiles(ctx, deployedB.ID)
	wantStatus(t, "team A reading team B's files", err, http.StatusNotFound)
	_, err = adminA.Redeploy(ctx, deployedB.ID, true, true)
	wantStatus(t, "team A redeploying team B's deployment", err, http.StatusNotFound)
	err = adminA.DeleteProject(ctx, "app-b")
	wantStatus(t, "team A deleting team B's project", err, http.StatusNotFound)
	_, err = adminA.ListDomains(ctx, "app-b")
	wantStatus(t, "team A listing team B's domains", err, http.StatusNotFound)
	_, err = adminA.ListTokens(ctx, "beta")
	wantStatus(t, "team A listing team B's tokens", err, http.StatusNotFound)
	_, err = adminA.ListAudit(ctx, "beta", 0, 0)
	wantStatus(t, "team A reading team B's audit log", err, http.StatusNotFound)
	if teams, err := adminA.ListTeams(ctx); err != nil || len(teams) != 1 || teams[0].Name != "alpha" {
		t.Errorf("team A's teams: %+v, %v; want alpha only", teams, err)
	}
	// Team B's own token reads what team A's could not.
	if vars, err := adminB.ListEnvVars(ctx, "app-b", false); err != nil || len(vars) != 1 || vars[0].Key != "GREETING" {
		t.Errorf("team B's env keys: %+v, %v", vars, err)
	}
	if log, err := adminB.DeploymentLog(ctx, deployedB.ID); err != nil || log == "" {
		t.Errorf("team B's build log: %q, %v", log, err)
	}
	// A new project of a token's team goes to that team.
	created, err := adminA.CreateProject(ctx, api.ProjectRequest{Name: "app-a2"})
	if err != nil || created.TeamID != appA.TeamID {
		t.Fatalf("project made by team A's admin: %+v, %v; want it in team alpha", created, err)
	}

	// A change by a token is in the audit log, with its actor and address, and no secret.
	const secret = "alpha-s3cret-value"
	if _, err := adminA.CreateEnvVar(ctx, "app-a", api.EnvVarRequest{Key: "API_KEY", Value: secret, Targets: []string{"production"}}); err != nil {
		t.Fatal(err)
	}
	events, err := adminA.ListAudit(ctx, "", 50, 0)
	if err != nil {
		t.Fatal(err)
	}
	var envCreate, refusedDeploy *api.AuditEvent
	for i, ev := range events {
		if ev.TeamID != appA.TeamID {
			t.Errorf("team A's audit log holds an event of team %s: %+v", ev.TeamID, ev)
		}
		switch {
		case ev.Action == "env.create" && ev.TokenID == adminTok.ID:
			envCreate = &events[i]
		case ev.Action == "deployment.create" && ev.TokenID == readTok.ID:
			refusedDeploy = &events[i]
		}
	}
	if envCreate == nil || envCreate.Actor != api.ActorToken || envCreate.TokenName != "admin" || envCreate.Status != http.StatusCreated ||
		envCreate.Target != "/v1/projects/app-a/env" || !strings.HasPrefix(envCreate.Remote, "127.0.0.1:") {
		t.Errorf("the env var's creation in the audit log: %+v (of %+v)", envCreate, events)
	}
	if refusedDeploy == nil || refusedDeploy.Status != http.StatusForbidden || refusedDeploy.Error != api.CodeForbidden {
		t.Errorf("the refused deployment in the audit log: %+v", refusedDeploy)
	}
	all, err := op.ListAudit(ctx, "", api.MaxAuditLimit, 0)
	if err != nil {
		t.Fatal(err)
	}
	sawOperator := false
	for _, ev := range all {
		sawOperator = sawOperator || (ev.Actor == api.ActorOperator && ev.Action == "team.create")
	}
	if !sawOperator {
		t.Errorf("the operator's team.create is not in the whole audit log: %+v", all)
	}
	raw := rawGet(t, e, operatorToken, api.PathAudit+"?limit=1000")
	for _, leak := range []string{secret, "beta-secret-greeting", adminTok.Value, readTok.Value, operatorToken} {
		if strings.Contains(raw, leak) {
			t.Errorf("the audit log holds a secret (%d characters)", len(leak))
		}
	}

	// Revoked: refused at the very next request, with what happened.
	if _, err := readA.WhoAmI(ctx); err != nil {
		t.Fatal(err)
	}
	if err := adminA.RevokeToken(ctx, "alpha", readTok.ID); err != nil {
		t.Fatal(err)
	}
	_, err = readA.GetProject(ctx, "app-a")
	wantStatus(t, "revoked token", err, http.StatusUnauthorized, "revoked")
	if tokens, err := adminA.ListTokens(ctx, "alpha"); err != nil || len(tokens) != 3 {
		t.Errorf("alpha's tokens: %+v, %v", tokens, err)
	} else {
		for _, tok := range tokens {
			if tok.Name == "reader" && (tok.RevokedAt == nil || tok.LastUsedAt == nil) {
				t.Errorf("the revoked reader: %+v; want revoked_at and last_used_at", tok)
			}
		}
	}

	// Expired: refused once the clock passes its expiry.
	expires := time.Now().Add(time.Hour)
	shortLived, _ := e.token(t, "alpha", "short-lived", api.TokenRequest{Scopes: []string{api.ScopeRead}, ExpiresAt: &expires})
	if _, err := shortLived.ListProjects(ctx); err != nil {
		t.Fatalf("token before its expiry: %v", err)
	}
	e.clockShift.Store(int64(2 * time.Hour))
	_, err = shortLived.ListProjects(ctx)
	wantStatus(t, "expired token", err, http.StatusUnauthorized, "expired")
	if _, err := adminA.ListProjects(ctx); err != nil {
		t.Errorf("a token without expiry after the clock moved: %v", err)
	}

	// A team is deleted only once it owns no project.
	err = op.DeleteTeam(ctx, "beta")
	wantStatus(t, "deleting a team that owns a project", err, http.StatusConflict, "owns 1 project")
}

// TestProjectLimitedToken: a token limited to a project reaches only that one, and may not
// widen its own reach by issuing tokens or creating projects.
func TestProjectLimitedToken(t *testing.T) {
	e := startTeamEngine(t)
	ctx := context.Background()
	if _, err := e.operator.CreateTeam(ctx, api.TeamRequest{Name: "alpha"}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"one", "two"} {
		if _, err := e.operator.CreateProject(ctx, api.ProjectRequest{Name: name, Team: "alpha"}); err != nil {
			t.Fatal(err)
		}
	}
	limited, _ := e.token(t, "alpha", "one-only", api.TokenRequest{Scopes: []string{api.ScopeAdmin}, Projects: []string{"one"}})
	if list, err := limited.ListProjects(ctx); err != nil || len(list) != 1 || list[0].Name != "one" {
		t.Errorf("projects of a token limited to one: %+v, %v", list, err)
	}
	_, err := limited.GetProject(ctx, "two")
	wantStatus(t, "limited token reading another project of its team", err, http.StatusNotFound)
	_, err = limited.CreateToken(ctx, "alpha", api.TokenRequest{Name: "wider", Scopes: []string{api.ScopeAdmin}})
	wantStatus(t, "limited token issuing a token", err, http.StatusForbidden, "limited to projects")
	_, err = limited.CreateProject(ctx, api.ProjectRequest{Name: "three"})
	wantStatus(t, "limited token creating a project", err, http.StatusForbidden, "limited to projects")
	_, err = e.operator.CreateToken(ctx, "alpha", api.TokenRequest{Name: "bad", Scopes: []string{"write"}})
	wantStatus(t, "unknown scope", err, http.StatusBadRequest, `scope "write" is not one of read, deploy, admin`)
}

// rawGet returns the body of a GET of the API with token.
func rawGet(t *testing.T, e *teamEngine, token, path string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+e.apiAddress+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	status, body := send(t, http.DefaultClient, req)
	if status != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, status, body)
	}
	return body
}
