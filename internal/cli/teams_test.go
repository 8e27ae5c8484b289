//go:build !windows

package cli

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
)

// TestTeamsTokensAndAudit drives ferry teams, tokens and audit against a real engine: the
// operator (its unix socket) makes teams and tokens, and a team's token used over TCP sees its
// team's projects only, is refused once revoked, and its changes are in the audit log.
func TestTeamsTokensAndAudit(t *testing.T) {
	te := startTestEngine(t)
	endpoint := "http://" + te.apiAddress
	te.mustFerry(t, "teams", "create", "alpha")
	te.mustFerry(t, "teams", "create", "beta")
	if out := te.mustFerry(t, "teams", "ls"); !strings.Contains(out, "alpha") || !strings.Contains(out, "beta") || !strings.Contains(out, "default") {
		t.Errorf("ferry teams ls:\n%s", out)
	}
	te.mustFerry(t, "teams", "create", "planned")
	if out := te.mustFerry(t, "teams", "plan", "planned", "hobby"); !strings.Contains(out, "team planned is on plan hobby") ||
		!strings.Contains(out, "50 custom domains, 100 deployments kept") || !strings.Contains(out, "concurrent builds 1 (more wait in the queue)") {
		t.Errorf("ferry teams plan planned hobby:\n%s", out)
	}
	ctx := t.Context()
	if _, err := te.c.CreateProject(ctx, api.ProjectRequest{Name: "app-a", Team: "alpha"}); err != nil {
		t.Fatal(err)
	}
	appB, err := te.c.CreateProject(ctx, api.ProjectRequest{Name: "app-b", Team: "beta"})
	if err != nil {
		t.Fatal(err)
	}
	deployedB := te.deploy(t, appB.ID, versionedApp(t, "1"))

	out := te.mustFerry(t, "tokens", "create", "--team", "alpha", "--scope", "admin", "ci")
	value := regexp.MustCompile(`ferry_[A-Za-z0-9_-]{20,}`).FindString(out)
	if value == "" || !strings.Contains(out, "not shown again") {
		t.Fatalf("ferry tokens create printed no token:\n%s", out)
	}
	listed := te.mustFerry(t, "tokens", "ls", "--team", "alpha")
	if strings.Contains(listed, value) || !strings.Contains(listed, value[:12]) || !strings.Contains(listed, "active") {
		t.Errorf("ferry tokens ls shows the whole token, or not its prefix and state:\n%s", listed)
	}

	// ferry login takes a team token as it takes the engine's.
	if code, stdout, stderr := te.ferryWithInput(t, value+"\n", "login", "--token-stdin", endpoint); code != 0 {
		t.Fatalf("ferry login with a team token: exit %d\n%s%s", code, stdout, stderr)
	}
	if code, stdout, stderr := te.ferryWithInput(t, "", "projects"); code != 0 || !strings.Contains(stdout, "app-a") || strings.Contains(stdout, "app-b") {
		t.Errorf("ferry projects after logging in with alpha's token: exit %d\n%s%s", code, stdout, stderr)
	}
	te.mustFerry(t, "logout")

	// As team alpha's token, over TCP.
	t.Setenv("FERRY_TOKEN", value)
	asAlpha := func(args ...string) (int, string, string) {
		return te.ferryWithInput(t, "", append(args, "--endpoint", endpoint)...)
	}
	code, stdout, stderr := asAlpha("projects")
	if code != 0 || !strings.Contains(stdout, "app-a") || strings.Contains(stdout, "app-b") {
		t.Errorf("alpha's ferry projects: exit %d\n%s%s", code, stdout, stderr)
	}
	for _, args := range [][]string{{"env", "ls", "app-b"}, {"logs", deployedB.ID}, {"logs", "app-b"}, {"inspect", deployedB.ID}} {
		if code, stdout, stderr := asAlpha(args...); code != ExitNotFound || !strings.Contains(stderr, "does not exist") {
			t.Errorf("alpha's ferry %s on beta's project: exit %d, want %d\n%s%s", strings.Join(args, " "), code, ExitNotFound, stdout, stderr)
		}
	}
	if code, _, stderr := asAlpha("teams", "create", "gamma"); code != ExitFailure || !strings.Contains(stderr, "operator") {
		t.Errorf("alpha's ferry teams create: exit %d, %s", code, stderr)
	}
	code, stdout, _ = asAlpha("audit", "--json")
	var events []api.AuditEvent
	if err := json.Unmarshal([]byte(stdout), &events); code != 0 || err != nil {
		t.Fatalf("alpha's ferry audit --json: exit %d, %v\n%s", code, err, stdout)
	}
	sawRefusal := false
	for _, e := range events {
		sawRefusal = sawRefusal || (e.Action == "team.create" && e.TokenName == "ci" && e.Status == 403 && strings.HasPrefix(e.Remote, "127.0.0.1:"))
	}
	if !sawRefusal {
		t.Errorf("alpha's audit log lacks its refused team.create: %+v", events)
	}

	// Revoked through the CLI: refused at the next command, with the reason.
	id := regexp.MustCompile(`tok_[a-z0-9]+`).FindString(listed)
	if code, stdout, stderr := asAlpha("tokens", "revoke", id); code != 0 {
		t.Fatalf("ferry tokens revoke %s: exit %d\n%s%s", id, code, stdout, stderr)
	}
	if code, _, stderr := asAlpha("projects"); code != ExitUnauthorized || !strings.Contains(stderr, "revoked") || strings.Contains(stderr, value) {
		t.Errorf("a revoked token: exit %d, %s", code, stderr)
	}
	t.Setenv("FERRY_TOKEN", "")
	if code, _, stderr := te.ferry(t, "teams", "rm", "beta"); code != ExitFailure || !strings.Contains(stderr, "owns 1 project") {
		t.Errorf("ferry teams rm of a team with a project: exit %d, %s", code, stderr)
	}
}
