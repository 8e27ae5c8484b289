package provider

import (
	"context"
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/ferryhq/terraform-provider-ferry/internal/cli"
)

// TestAccCLIChangesShowAsDrift: production moved with `ferry rollback` or `ferry promote`
// shows in the next plan of a configuration that pins it with a ferry_alias, and apply puts it
// back where the configuration says.
func TestAccCLIChangesShowAsDrift(t *testing.T) {
	e := startEngine(t)
	name := randomName()
	productionURL := fmt.Sprintf("http://%s.localhost:%s", name, e.httpPort)
	sources := map[string]string{}
	for _, v := range []string{"v1", "v2"} {
		sources[v] = t.TempDir()
		writeApp(t, sources[v], flaskApp(v))
	}
	config := e.config(fmt.Sprintf(`
resource "ferry_project" "app" {
  name      = %q
  framework = "flask"
}
resource "ferry_deployment" "v1" {
  project_id = ferry_project.app.id
  source     = { path = %q }
  production = true
}
resource "ferry_deployment" "v2" {
  project_id = ferry_project.app.id
  source     = { path = %q }
  production = true
  depends_on = [ferry_deployment.v1]
}
resource "ferry_alias" "production" {
  project_id    = ferry_project.app.id
  deployment_id = ferry_deployment.v2.id
}
`, name, sources["v1"], sources["v2"]))
	serves := func(version string) resource.TestCheckFunc {
		return func(*terraform.State) error { return expectBody(productionURL, "version="+version) }
	}
	ferry := func(args ...string) {
		t.Helper()
		if code := cli.Run(append([]string{"--data-dir", e.dataDir}, args...)); code != 0 {
			t.Fatalf("ferry %v: exit %d", args, code)
		}
	}
	// drift is a plan after change, which must not be empty.
	drift := func(change func()) resource.TestStep {
		return resource.TestStep{PreConfig: change, Config: config, PlanOnly: true, ExpectNonEmptyPlan: true}
	}
	putBack := func(action plancheck.ResourceActionType) resource.TestStep {
		return resource.TestStep{Config: config, Check: serves("v2"), ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
			plancheck.ExpectResourceAction("ferry_alias.production", action),
		}}}
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: protoV6ProviderFactories,
		CheckDestroy:             e.checkProjectsGone(name),
		Steps: []resource.TestStep{
			{Config: config, Check: serves("v2")},
			drift(func() {
				ferry("rollback", "--project", name)
				if err := expectBody(productionURL, "version=v1"); err != nil {
					t.Fatalf("after ferry rollback: %v", err)
				}
			}),
			putBack(plancheck.ResourceActionUpdate),
			// Promoting the newest production deployment releases the pin: the alias is gone.
			drift(func() {
				p, err := e.client.GetProject(context.Background(), name)
				if err != nil {
					t.Fatal(err)
				}
				ferry("promote", p.ProductionDeploymentID)
			}),
			putBack(plancheck.ResourceActionCreate),
		},
	})
}
