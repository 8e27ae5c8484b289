package provider

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

func TestProjectValidation(t *testing.T) {
	expectPlanErrors(t, `resource "ferry_project" "p" {`, map[string]planError{
		"uppercase":      {`name = "My-App"`, `Did you mean "my-app"`},
		"underscore":     {`name = "my_app"`, `Invalid project name`},
		"double hyphen":  {`name = "my--app"`, `two hyphens in a row`},
		"leading hyphen": {`name = "-app"`, `starts or ends with a hyphen`},
		"too long":       {`name = "` + strings.Repeat("a", 53) + `"`, `at most 52`},
		"empty":          {`name = ""`, `project name is empty`},
		"framework":      {`name = "app"` + "\n" + `framework = "django"`, `value must be one of`},
		"root absolute":  {`name = "app"` + "\n" + `root_directory = "/srv/app"`, `is absolute`},
		"root parent":    {`name = "app"` + "\n" + `root_directory = "../app"`, `leaves the source`},
		"root not clean": {`name = "app"` + "\n" + `root_directory = "./api/"`, `as "api"`},
		"memory":         {`name = "app"` + "\n" + `limits = { memory_mb = 64 }`, `at least 128`},
		"cpu":            {`name = "app"` + "\n" + `limits = { cpu = 0 }`, `at least 0.1`},
		"idle timeout":   {`name = "app"` + "\n" + `limits = { idle_timeout_seconds = 0 }`, `between 1 and 604800`},
		"concurrency":    {`name = "app"` + "\n" + `limits = { concurrency = 1001 }`, `between 1 and 1000`},
		"max instances":  {`name = "app"` + "\n" + `limits = { max_instances = 0 }`, `between 1 and 64`},
		"max duration":   {`name = "app"` + "\n" + `limits = { max_duration_seconds = 1801 }`, `between 1 and 1800`},
		"websocket idle": {`name = "app"` + "\n" + `limits = { websocket_idle_timeout_seconds = 86401 }`, `between 1 and 86400`},
		"websocket size": {`name = "app"` + "\n" + `limits = { websocket_max_message_bytes = 1000 }`, `between 1024 and 67108864`},
	})
}

func TestAccProject(t *testing.T) {
	e := startEngine(t)
	name := randomName()
	res := "ferry_project.test"
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: protoV6ProviderFactories,
		CheckDestroy:             e.checkProjectsGone(name),
		Steps: []resource.TestStep{
			{
				Config: e.config(fmt.Sprintf(`
resource "ferry_project" "test" {
  name = %q
}`, name)),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("name"), knownvalue.StringExact(name)),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("framework"), knownvalue.StringExact("auto")),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("root_directory"), knownvalue.StringExact(".")),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("install_command"), knownvalue.Null()),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("production_url"),
						knownvalue.StringExact(fmt.Sprintf("http://%s.localhost:%s", name, e.httpPort))),
				},
				Check: resource.TestCheckResourceAttrSet(res, "id"),
			},
			{
				// Settings change in place: same id.
				Config: e.config(fmt.Sprintf(`
resource "ferry_project" "test" {
  name            = %q
  framework       = "flask"
  root_directory  = "api"
  install_command = ""
  build_command   = "echo built"
}`, name)),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(res, plancheck.ResourceActionUpdate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("framework"), knownvalue.StringExact("flask")),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("root_directory"), knownvalue.StringExact("api")),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("install_command"), knownvalue.StringExact("")),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("build_command"), knownvalue.StringExact("echo built")),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("limits"), knownvalue.ObjectExact(map[string]knownvalue.Check{
						"memory_mb": knownvalue.Int64Exact(2048), "cpu": knownvalue.Float64Exact(1),
						"processes": knownvalue.Int64Exact(256), "open_files": knownvalue.Int64Exact(4096), "build_minutes": knownvalue.Int64Exact(45),
						"idle_timeout_seconds": knownvalue.Int64Exact(900), "concurrency": knownvalue.Int64Exact(4),
						"max_instances": knownvalue.Int64Exact(2), "max_duration_seconds": knownvalue.Int64Exact(300),
						"websocket_idle_timeout_seconds": knownvalue.Int64Exact(300), "websocket_max_message_bytes": knownvalue.Int64Exact(16 << 20),
					})),
				},
			},
			{
				// Limits change in place; those not set keep their defaults.
				Config: e.config(fmt.Sprintf(`
resource "ferry_project" "test" {
  name            = %q
  framework       = "flask"
  root_directory  = "api"
  install_command = ""
  build_command   = "echo built"
  limits          = { memory_mb = 512, cpu = 0.5, websocket_max_message_bytes = 1024 }
}`, name)),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(res, plancheck.ResourceActionUpdate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("limits"), knownvalue.ObjectExact(map[string]knownvalue.Check{
						"memory_mb": knownvalue.Int64Exact(512), "cpu": knownvalue.Float64Exact(0.5),
						"processes": knownvalue.Int64Exact(256), "open_files": knownvalue.Int64Exact(4096), "build_minutes": knownvalue.Int64Exact(45),
						"idle_timeout_seconds": knownvalue.Int64Exact(900), "concurrency": knownvalue.Int64Exact(4),
						"max_instances": knownvalue.Int64Exact(2), "max_duration_seconds": knownvalue.Int64Exact(300),
						"websocket_idle_timeout_seconds": knownvalue.Int64Exact(300), "websocket_max_message_bytes": knownvalue.Int64Exact(1024),
					})),
				},
			},
			{
				// Above the engine's maximum: refused, and the project keeps its limits.
				Config: e.config(fmt.Sprintf(`
resource "ferry_project" "test" {
  name            = %q
  framework       = "flask"
  root_directory  = "api"
  install_command = ""
  build_command   = "echo built"
  limits          = { memory_mb = 999999 }
}`, name)),
				ExpectError: regexp.MustCompile(`memory_mb 999999 is out\s+of range`),
			},
			{
				// Import by name.
				ResourceName:      res,
				ImportState:       true,
				ImportStateId:     name,
				ImportStateVerify: true,
			},
			{
				// Import by id.
				ResourceName:      res,
				ImportState:       true,
				ImportStateVerify: true,
			},
			{
				// A rename moves the production URL, in place.
				Config: e.config(fmt.Sprintf(`
resource "ferry_project" "test" {
  name = "%s-renamed"
}`, name)),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(res, plancheck.ResourceActionUpdate),
						plancheck.ExpectUnknownValue(res, tfjsonpath.New("production_url")),
					},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("production_url"),
						knownvalue.StringExact(fmt.Sprintf("http://%s-renamed.localhost:%s", name, e.httpPort))),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("install_command"), knownvalue.Null()),
				},
			},
		},
	})
}

// TestAccProjectDrift deletes the project behind Terraform's back: the
// next plan re-creates it.
func TestAccProjectDrift(t *testing.T) {
	e := startEngine(t)
	name := randomName()
	config := e.config(fmt.Sprintf(`
resource "ferry_project" "test" {
  name = %q
}`, name))
	var firstID string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: protoV6ProviderFactories,
		CheckDestroy:             e.checkProjectsGone(name),
		Steps: []resource.TestStep{
			{
				Config: config,
				Check: func(s *terraform.State) error {
					firstID = s.RootModule().Resources["ferry_project.test"].Primary.ID
					return nil
				},
			},
			{
				PreConfig: func() {
					if err := e.client.DeleteProject(context.Background(), name); err != nil {
						t.Fatal(err)
					}
				},
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction("ferry_project.test", plancheck.ResourceActionCreate)},
				},
				Check: func(s *terraform.State) error {
					if id := s.RootModule().Resources["ferry_project.test"].Primary.ID; id == firstID {
						return fmt.Errorf("project id %s unchanged after re-create", id)
					}
					return nil
				},
			},
		},
	})
}

func TestAccProjectDuplicateName(t *testing.T) {
	e := startEngine(t)
	name := randomName()
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: protoV6ProviderFactories,
		CheckDestroy:             e.checkProjectsGone(name),
		Steps: []resource.TestStep{
			{
				Config: e.config(fmt.Sprintf(`
resource "ferry_project" "a" {
  name = %[1]q
}
# b after a, so that it is always b that collides and a that is kept.
resource "ferry_project" "b" {
  name       = %[1]q
  depends_on = [ferry_project.a]
}`, name)),
				ExpectError: regexp.MustCompile(`(?s)Project name already taken.*ferry_project\.b.*terraform\s+import`),
			},
			{
				// Exactly one project came of it, which the next apply manages.
				Config: e.config(fmt.Sprintf(`
resource "ferry_project" "a" {
  name = %[1]q
}`, name)),
				Check: func(*terraform.State) error {
					projects, err := e.client.ListProjects(context.Background())
					if err != nil {
						return err
					}
					if len(projects) != 1 {
						return fmt.Errorf("%d projects on the engine, want 1", len(projects))
					}
					return nil
				},
			},
		},
	})
}

// checkProjectsGone verifies that destroy left no project named like name.
func (e *testEngine) checkProjectsGone(name string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		projects, err := e.client.ListProjects(context.Background())
		if err != nil {
			return err
		}
		for _, p := range projects {
			if strings.HasPrefix(p.Name, name) {
				return fmt.Errorf("project %s (%s) still exists after destroy", p.Name, p.ID)
			}
		}
		return nil
	}
}
