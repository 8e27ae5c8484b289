package provider

import (
	"fmt"
	"strconv"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

func TestUsageDataSourceRefusesBadDays(t *testing.T) {
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: protoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config:      unreachableProvider + "data \"ferry_usage\" \"u\" {\n  since = \"01/12/2026\"\n}\n",
			PlanOnly:    true,
			ExpectError: errorText(`must be a day written YYYY-MM-DD`),
		}},
	})
}

// Requests made to a deployment show in ferry_usage, with the build's minutes.
func TestAccUsageDataSource(t *testing.T) {
	e := startEngine(t)
	name := randomName()
	appDir := t.TempDir()
	writeApp(t, appDir, flaskApp("metered"))
	productionURL := fmt.Sprintf("http://%s.localhost:%s", name, e.httpPort)
	base := e.config(fmt.Sprintf(`
resource "ferry_project" "app" {
  name      = %q
  framework = "flask"
}
resource "ferry_deployment" "prod" {
  project_id = ferry_project.app.id
  source     = { path = %q }
  production = true
}`, name, appDir))
	const requests = 3
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: protoV6ProviderFactories,
		CheckDestroy:             e.checkProjectsGone(name),
		Steps: []resource.TestStep{
			{
				Config: base,
				Check: func(*terraform.State) error {
					for range requests {
						if err := expectBody(productionURL, "metered"); err != nil {
							return err
						}
					}
					return nil
				},
			},
			{
				Config: base + `
data "ferry_usage" "app" {
  project_id = ferry_project.app.id
}`,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("data.ferry_usage.app", "requests", strconv.Itoa(requests)),
					resource.TestCheckResourceAttr("data.ferry_usage.app", "days.#", "1"),
					resource.TestCheckResourceAttr("data.ferry_usage.app", "days.0.project", name),
					resource.TestCheckResourceAttrWith("data.ferry_usage.app", "build_minutes", positive),
					resource.TestCheckResourceAttrWith("data.ferry_usage.app", "function_gb_hours", positive),
					resource.TestCheckResourceAttrSet("data.ferry_usage.app", "since"),
				),
			},
		},
	})
}

func positive(value string) error {
	if v, err := strconv.ParseFloat(value, 64); err != nil || v <= 0 {
		return fmt.Errorf("%q is not a positive number", value)
	}
	return nil
}
