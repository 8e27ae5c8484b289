package provider

import (
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

// TestAccAlias rolls production back to an earlier deployment, keeps it
// there while a newer production deployment is made, moves it in place,
// and lets production follow the newest deployment again once the alias is
// gone.
func TestAccAlias(t *testing.T) {
	e := startEngine(t)
	name := randomName()
	productionURL := fmt.Sprintf("http://%s.localhost:%s", name, e.httpPort)
	sources := map[string]string{}
	for _, v := range []string{"v1", "v2", "v3"} {
		sources[v] = t.TempDir()
		writeApp(t, sources[v], flaskApp(v))
	}
	// deployments makes v1 and v2 (and v3) as production deployments, in that order;
	// alias points production at one of them ("" for no alias).
	config := func(withV3 bool, alias string) string {
		hcl := fmt.Sprintf(`
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
`, name, sources["v1"], sources["v2"])
		if alias != "" {
			hcl += fmt.Sprintf(`
resource "ferry_alias" "production" {
  project_id    = ferry_project.app.id
  deployment_id = ferry_deployment.%s.id
}
`, alias)
		}
		if withV3 {
			dependsOn := "ferry_deployment.v2"
			if alias != "" {
				dependsOn = "ferry_alias.production"
			}
			hcl += fmt.Sprintf(`
resource "ferry_deployment" "v3" {
  project_id = ferry_project.app.id
  source     = { path = %q }
  production = true
  depends_on = [%s]
}
`, sources["v3"], dependsOn)
		}
		return e.config(hcl)
	}
	serves := func(version string) resource.TestCheckFunc {
		return func(*terraform.State) error { return expectBody(productionURL, "version="+version) }
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: protoV6ProviderFactories,
		CheckDestroy:             e.checkProjectsGone(name),
		Steps: []resource.TestStep{
			{Config: config(false, ""), Check: serves("v2")},
			{
				Config: config(false, "v1"),
				Check: resource.ComposeTestCheckFunc(serves("v1"),
					resource.TestCheckResourceAttr("ferry_alias.production", "urls.0", productionURL),
					resource.TestCheckResourceAttrPair("ferry_alias.production", "id", "ferry_project.app", "id")),
			},
			{Config: config(true, "v1"), Check: serves("v1")},
			{
				ResourceName:      "ferry_alias.production",
				ImportState:       true,
				ImportStateVerify: true,
				ImportStateIdFunc: func(*terraform.State) (string, error) { return name, nil },
			},
			{
				Config: config(true, "v2"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("ferry_alias.production", plancheck.ResourceActionUpdate),
				}},
				Check: serves("v2"),
			},
			{Config: config(true, ""), Check: serves("v3")},
		},
	})
}
