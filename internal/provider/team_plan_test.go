//go:build !windows

package provider

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store/sqlite"
)

// A team on plan hobby that used its 6,000 build minutes this month gets a clear refusal from
// terraform apply for a new deployment; its project and settings stay; a project limit past the
// plan is refused at apply too.
func TestAccTeamPlanRefusesDeploymentsPastBuildMinutes(t *testing.T) {
	e := startEngine(t)
	name := randomName()
	appDir := t.TempDir()
	writeApp(t, appDir, flaskApp("planned"))
	base := e.config(fmt.Sprintf(`
resource "ferry_team" "t" {
  name = %q
  plan = "hobby"
}
resource "ferry_project" "app" {
  name      = %q
  framework = "flask"
  team_id   = ferry_team.t.id
}`, name, name))
	usedUp := func(s *terraform.State) error {
		// The build minutes of the month as the meters of the engine would have added them.
		ctx := context.Background()
		st, err := sqlite.Open(ctx, filepath.Join(e.dataDir, engine.DBName))
		if err != nil {
			return err
		}
		defer func() { _ = st.Close() }()
		projectID := s.RootModule().Resources["ferry_project.app"].Primary.ID
		return st.AddUsage(ctx, []store.UsageRecord{{ProjectID: projectID, Day: time.Now(), BuildMillis: 6000 * 60000}})
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: protoV6ProviderFactories,
		CheckDestroy:             e.checkProjectsGone(name),
		Steps: []resource.TestStep{
			{
				Config: base,
				Check:  resource.ComposeAggregateTestCheckFunc(resource.TestCheckResourceAttr("ferry_team.t", "plan", "hobby"), usedUp),
			},
			{
				Config: base + fmt.Sprintf(`
resource "ferry_deployment" "prod" {
  project_id = ferry_project.app.id
  source     = { path = %q }
  production = true
}`, appDir),
				ExpectError: errorText("used 6000.0 of the 6000 build minutes of plan hobby this month"),
			},
			{
				Config: e.config(fmt.Sprintf(`
resource "ferry_team" "t" {
  name = %q
  plan = "hobby"
}
resource "ferry_project" "app" {
  name      = %q
  framework = "flask"
  team_id   = ferry_team.t.id
  limits    = { memory_mb = 4096 }
}`, name, name)),
				ExpectError: errorText("memory_mb 4096 is more than plan hobby of team " + name + " allows (2048 MB)"),
			},
			{
				// On pro the same settings are within the plan.
				Config: e.config(fmt.Sprintf(`
resource "ferry_team" "t" {
  name = %q
  plan = "pro"
}
resource "ferry_project" "app" {
  name      = %q
  framework = "flask"
  team_id   = ferry_team.t.id
}`, name, name)),
				Check: resource.TestCheckResourceAttr("ferry_team.t", "plan", "pro"),
			},
		},
	})
}
