package provider

import (
	"context"
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
)

var tokenValue = regexp.MustCompile(`^` + api.TokenPrefix + `[A-Za-z0-9_-]{40,}$`)

// TestAccTeamTokenReplacedAndRevoked: changing a token's scopes replaces it (the old one is
// revoked, a new value issued); one revoked outside Terraform is issued anew at the next apply;
// and a bad scope or time fails at plan.
func TestAccTeamTokenReplacedAndRevoked(t *testing.T) {
	e := startRemoteEngine(t)
	suffix := randomName()
	config := func(scopes, extra string) string {
		return fmt.Sprintf(`
provider "ferry" {
  endpoint = %q
  token    = %q
}
resource "ferry_team" "t" {
  name = "t-%s"
}
resource "ferry_team_token" "x" {
  team_id = ferry_team.t.id
  name    = "x"
  scopes  = %s
  %s
}
`, e.endpoint, e.token, suffix, scopes, extra)
	}
	var first string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: protoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:      config(`["write"]`, ""),
				ExpectError: regexp.MustCompile(`value must be one of`),
			},
			{
				Config:      config(`["read"]`, `expires_at = "next tuesday"`),
				ExpectError: errorText("is not an RFC 3339 time"),
			},
			{
				Config: config(`["read"]`, `expires_at = "2099-01-31T00:00:00Z"`),
				Check: resource.TestCheckResourceAttrWith("ferry_team_token.x", "id", func(id string) error {
					first = id
					return nil
				}),
			},
			{
				Config: config(`["read", "deploy"]`, `expires_at = "2099-01-31T00:00:00Z"`),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction("ferry_team_token.x", plancheck.ResourceActionReplace)},
				},
				Check: func(*terraform.State) error {
					tokens, err := e.operator.ListTokens(context.Background(), "t-"+suffix)
					if err != nil {
						return err
					}
					for _, tok := range tokens {
						if tok.ID == first && tok.RevokedAt == nil {
							return fmt.Errorf("the replaced token %s is not revoked", first)
						}
					}
					return nil
				},
			},
			{
				// Revoked outside Terraform: the next plan issues a new one.
				PreConfig: func() {
					tokens, err := e.operator.ListTokens(context.Background(), "t-"+suffix)
					if err != nil {
						t.Fatal(err)
					}
					for _, tok := range tokens {
						if tok.RevokedAt == nil {
							if err := e.operator.RevokeToken(context.Background(), "t-"+suffix, tok.ID); err != nil {
								t.Fatal(err)
							}
						}
					}
				},
				Config: config(`["read", "deploy"]`, `expires_at = "2099-01-31T00:00:00Z"`),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction("ferry_team_token.x", plancheck.ResourceActionCreate)},
				},
				Check: resource.TestMatchResourceAttr("ferry_team_token.x", "token", tokenValue),
			},
		},
	})
}
