package provider

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/ferryhq/terraform-provider-ferry/internal/client"
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
	e := &remoteEngine{endpoint: "http://127.0.0.1:" + freePort(t), token: "operator-token-of-the-test"}
	serve := exec.Command(os.Args[0], "serve", "--data-dir", dataDir, "--http-address", "127.0.0.1:"+freePort(t),
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
// provider, then a second provider configuration uses that token: it creates a project in its
// team, and cannot import (read) another team's project, which it is told does not exist.
func TestAccTeamAndTokenAcrossProviders(t *testing.T) {
	e := startRemoteEngine(t)
	suffix := randomName()
	operator := fmt.Sprintf(`
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
`, e.endpoint, suffix)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: protoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: operator,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttrPair("ferry_project.b", "team_id", "ferry_team.beta", "id"),
					resource.TestMatchResourceAttr("ferry_team_token.ci", "token", tokenValue),
					resource.TestCheckResourceAttrWith("ferry_team_token.ci", "prefix", func(prefix string) error {
						if len(prefix) < 8 {
							return fmt.Errorf("prefix %q is too short to tell tokens apart", prefix)
						}
						return nil
					}),
				),
			},
			{
				Config: asAlpha,
				Check:  resource.TestCheckResourceAttrPair("ferry_project.a", "team_id", "ferry_team.alpha", "id"),
			},
			{
				// Team alpha's token reads team beta's project as one that does not exist.
				Config:        asAlpha + "\nresource \"ferry_project\" \"b_as_alpha\" {\n  provider = ferry.alpha\n  name = \"b-" + suffix + "\"\n}\n",
				ResourceName:  "ferry_project.b_as_alpha",
				ImportState:   true,
				ImportStateId: "b-" + suffix,
				ExpectError:   errorText("Cannot import non-existent remote object"),
			},
			{
				// Importing the team by name, and the token by team and id, reads them back.
				Config:            asAlpha,
				ResourceName:      "ferry_team.alpha",
				ImportState:       true,
				ImportStateId:     "alpha-" + suffix,
				ImportStateVerify: true,
			},
		},
	})
}
