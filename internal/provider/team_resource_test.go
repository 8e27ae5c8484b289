package provider

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/client"
	"github.com/ferryhq/terraform-provider-ferry/internal/freeport"
)

// remoteEngine is an engine serving its API over TCP with an operator token, as `ferry serve`
// runs on a server: the test binary itself, run as `serve` (see TestMain).
type remoteEngine struct {
	endpoint string
	token    string
	operator *client.Client
}

func startRemoteEngine(t *testing.T) *remoteEngine {
	t.Helper()
	skipUnlessAcceptance(t)
	dataDir, err := os.MkdirTemp("", "ferry-remote") //nolint:usetesting // short, for the socket path; enterable by the apps' uids
	if err != nil {
		t.Fatal(err)
	}
	e := &remoteEngine{endpoint: "http://" + freeport.Loopback(t), token: "operator-token-of-the-test"}
	serve := exec.Command(os.Args[0], "serve", "--data-dir", dataDir, "--http-address", freeport.Loopback(t),
		"--https-address", "off", "--python", testPython, "--api-address", e.endpoint[len("http://"):])
	serve.Env = append(os.Environ(), "FERRY_TOKEN="+e.token)
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = serve.Process.Signal(os.Interrupt)
		_ = serve.Wait() // its exit status says nothing the test needs
		_ = os.RemoveAll(dataDir)
	})
	if e.operator, err = client.New(client.Config{Endpoint: e.endpoint, Token: e.token, RetryMax: 1}); err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		if _, err := e.operator.Health(context.Background()); err == nil {
			break
		} else if i > 200 {
			t.Fatalf("the engine did not answer on %s: %v", e.endpoint, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return e
}

// TestAccTeamAndTokenAcrossProviders: Terraform creates teams and a token with the operator's
// provider configuration, then a second configuration of the provider uses that token: it
// creates a project in its team, and cannot import (read) another team's project, which it is
// told does not exist. It runs the provider as users get it (a binary from a filesystem
// mirror), since each configuration of a provider is then a process of its own, as it must be
// for two tokens; the test framework's in-process provider serves every configuration at once.
func TestAccTeamAndTokenAcrossProviders(t *testing.T) {
	e := startRemoteEngine(t)
	bin := buildBinaries(t, "")
	tf := newTerraformDir(t, map[string]string{"0.1.0": bin})
	suffix := randomName()
	operator := fmt.Sprintf(`
terraform {
  required_providers {
    ferry = { source = "ferryhq/ferry" }
  }
}
provider "ferry" {
  endpoint = %q
  token    = %q
}
resource "ferry_team" "alpha" {
  name = "alpha-%[3]s"
}
resource "ferry_team" "beta" {
  name = "beta-%[3]s"
}
resource "ferry_project" "b" {
  name    = "b-%[3]s"
  team_id = ferry_team.beta.id
}
resource "ferry_team_token" "ci" {
  team_id = ferry_team.alpha.id
  name    = "ci"
  scopes  = ["admin"]
}
output "alpha" { value = ferry_team.alpha.id }
output "beta" { value = ferry_team.beta.id }
output "b_team" { value = ferry_project.b.team_id }
`, e.endpoint, e.token, suffix)
	asAlpha := operator + fmt.Sprintf(`
provider "ferry" {
  alias    = "alpha"
  endpoint = %q
  token    = ferry_team_token.ci.token
}
resource "ferry_project" "a" {
  provider = ferry.alpha
  name     = "a-%s"
}
output "a_team" { value = ferry_project.a.team_id }
`, e.endpoint, suffix)

	tf.config(t, operator)
	tf.must(t, "init")
	tf.must(t, "apply", "-auto-approve")
	if beta, bTeam := tf.output(t, "beta"), tf.output(t, "b_team"); bTeam != beta {
		t.Errorf("project b belongs to %q, want team beta %q", bTeam, beta)
	}
	state := tf.must(t, "show")
	if regexp.MustCompile(api.TokenPrefix + `[A-Za-z0-9_-]{40,}`).MatchString(state) {
		t.Errorf("terraform show prints the token's value:\n%s", state)
	}

	// The second configuration works with the token Terraform just made.
	tf.config(t, asAlpha)
	tf.must(t, "apply", "-auto-approve")
	if alpha, aTeam := tf.output(t, "alpha"), tf.output(t, "a_team"); aTeam != alpha {
		t.Errorf("project a, made with team alpha's token, belongs to %q, want %q", aTeam, alpha)
	}
	audit, err := e.operator.ListAudit(context.Background(), tf.output(t, "alpha"), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(audit) == 0 || audit[0].Action != "project.create" || audit[0].TokenName != "ci" {
		t.Errorf("team alpha's newest audit event: %+v, want project.create by token ci", audit)
	}

	// With team alpha's token, team beta's project does not exist.
	tf.config(t, asAlpha+fmt.Sprintf(`
resource "ferry_project" "b_as_alpha" {
  provider = ferry.alpha
  name     = "b-%s"
}
`, suffix))
	out, err := tf.run("import", "ferry_project.b_as_alpha", "b-"+suffix)
	if err == nil || !strings.Contains(out, "Cannot import non-existent remote object") {
		t.Errorf("importing team beta's project with team alpha's token: %v\n%s", err, out)
	}
	// As the operator, it does.
	if _, err := e.operator.GetProject(context.Background(), "b-"+suffix); err != nil {
		t.Fatal(err)
	}

	tf.config(t, asAlpha)
	tf.must(t, "destroy", "-auto-approve")
	if teams, err := e.operator.ListTeams(context.Background()); err != nil || len(teams) != 1 {
		t.Errorf("teams after destroy: %+v, %v; want the default team only", teams, err)
	}
}
