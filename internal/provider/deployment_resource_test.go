package provider

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

func deploymentConfig(projectID, sourcePath string) string {
	return fmt.Sprintf(`
resource "ferry_deployment" "d" {
  project_id = %q
  source     = { path = %q }
}`, projectID, sourcePath)
}

func TestDeploymentSourceErrorsAtPlan(t *testing.T) {
	engine := fakeEngine(t)
	missing := filepath.Join(t.TempDir(), "no-such-app")

	escaping := t.TempDir()
	writeApp(t, escaping, map[string]string{"app.py": "app = None\n"})
	if err := os.Symlink("/etc/hostname", filepath.Join(escaping, "hostname")); err != nil {
		t.Fatal(err)
	}

	for name, tc := range map[string]struct{ path, want string }{
		"missing":  {missing, `source.path "` + missing + `" does not exist`},
		"escaping": {escaping, `points outside the source directory`},
	} {
		t.Run(name, func(t *testing.T) {
			resource.UnitTest(t, resource.TestCase{
				ProtoV6ProviderFactories: protoV6ProviderFactories,
				Steps: []resource.TestStep{{
					Config:      engine + deploymentConfig("p", tc.path),
					PlanOnly:    true,
					ExpectError: errorText(tc.want),
				}},
			})
		})
	}
}

func TestAccDeployment(t *testing.T) {
	e := startEngine(t)
	name := randomName()
	appDir := t.TempDir()
	writeApp(t, appDir, flaskApp("v1"))
	productionURL := fmt.Sprintf("http://%s.localhost:%s", name, e.httpPort)
	const res = "ferry_deployment.prod"

	config := func(withPreview bool) string {
		preview := ""
		if withPreview {
			preview = fmt.Sprintf(`
resource "ferry_deployment" "preview" {
  project_id = ferry_project.app.id
  source     = { path = %q }
  depends_on = [ferry_env_var.greeting]
}`, appDir)
		}
		return e.config(fmt.Sprintf(`
resource "ferry_project" "app" {
  name      = %q
  framework = "flask"
}
resource "ferry_env_var" "greeting" {
  project_id = ferry_project.app.id
  key        = "GREETING"
  value      = "hello from ferry"
  target     = ["production", "preview"]
}
resource "ferry_deployment" "prod" {
  project_id = ferry_project.app.id
  source     = { path = %q }
  production = true
  # The env is frozen at creation: create the deployment after its vars.
  depends_on = [ferry_env_var.greeting]
}
%s`, name, appDir, preview))
	}

	var v1URL, v2URL string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: protoV6ProviderFactories,
		CheckDestroy: resource.ComposeTestCheckFunc(
			e.checkProjectsGone(name),
			func(*terraform.State) error {
				for _, u := range []string{v1URL, v2URL, productionURL} {
					if status, body, _ := get(u); status == http.StatusOK {
						return fmt.Errorf("%s still serves after destroy: %q", u, body)
					}
				}
				return nil
			},
		),
		Steps: []resource.TestStep{
			{
				Config: config(false),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("status"), knownvalue.StringExact("READY")),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("production"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("entrypoint"), knownvalue.StringRegexp(regexp.MustCompile(`^app:app$`))),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("url"),
						knownvalue.StringRegexp(regexp.MustCompile(`^http://`+name+`-[a-z0-9]+\.localhost:`+e.httpPort+`$`))),
				},
				Check: resource.ComposeTestCheckFunc(
					func(s *terraform.State) error {
						v1URL = s.RootModule().Resources[res].Primary.Attributes["url"]
						return expectBody(v1URL, "version=v1", "greeting=hello from ferry", "vercel_env=production")
					},
					func(*terraform.State) error { return expectBody(productionURL, "version=v1") },
				),
			},
			{
				// An unchanged tree plans nothing, even after a rebuild of
				// __pycache__ and the like.
				PreConfig: func() { writeApp(t, appDir, map[string]string{"__pycache__/app.cpython-311.pyc": "junk"}) },
				Config:    config(false),
				PlanOnly:  true,
			},
			{
				// An edited tree plans a replacement: a new deployment with
				// a new URL takes production; the old one keeps serving.
				PreConfig: func() { writeApp(t, appDir, flaskApp("v2")) },
				Config:    config(false),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(res, plancheck.ResourceActionReplace),
						plancheck.ExpectResourceAction("ferry_project.app", plancheck.ResourceActionNoop),
					},
				},
				Check: resource.ComposeTestCheckFunc(
					func(s *terraform.State) error {
						v2URL = s.RootModule().Resources[res].Primary.Attributes["url"]
						if v2URL == v1URL {
							return fmt.Errorf("the new deployment has the old URL %s", v1URL)
						}
						return expectBody(v2URL, "version=v2", "greeting=hello from ferry")
					},
					func(*terraform.State) error { return expectBody(v1URL, "version=v1") },
					func(*terraform.State) error { return expectBody(productionURL, "version=v2") },
				),
			},
			{
				// A preview deployment gets the preview env and leaves
				// production alone.
				Config: config(true),
				Check: resource.ComposeTestCheckFunc(
					resource.TestCheckResourceAttr("ferry_deployment.preview", "production", "false"),
					func(s *terraform.State) error {
						u := s.RootModule().Resources["ferry_deployment.preview"].Primary.Attributes["url"]
						return expectBody(u, "version=v2", "greeting=hello from ferry", "vercel_env=preview")
					},
					func(*terraform.State) error { return expectBody(productionURL, "version=v2", "vercel_env=production") },
				),
			},
			{
				ResourceName:            res,
				ImportState:             true,
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"source", "timeouts"},
			},
		},
	})
}

// testFailedBuild applies a deployment of files that cannot build: the
// apply fails with want in its message and leaves no deployment behind.
func testFailedBuild(t *testing.T, files map[string]string, want string) {
	e := startEngine(t)
	name := randomName()
	appDir := t.TempDir()
	writeApp(t, appDir, files)
	project := fmt.Sprintf(`
resource "ferry_project" "app" {
  name = %q
}`, name)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: protoV6ProviderFactories,
		CheckDestroy:             e.checkProjectsGone(name),
		Steps: []resource.TestStep{
			{
				Config: e.config(project + fmt.Sprintf(`
resource "ferry_deployment" "app" {
  project_id = ferry_project.app.id
  source     = { path = %q }
  production = true
}`, appDir)),
				ExpectError: regexp.MustCompile(`(?s)Deployment failed.*` + want),
			},
			{
				Config: e.config(project),
				Check: func(*terraform.State) error {
					ctx := context.Background()
					p, err := e.client.GetProject(ctx, name)
					if err != nil {
						return err
					}
					deployments, err := e.client.ListDeployments(ctx, p.ID)
					if err != nil {
						return err
					}
					if len(deployments) != 0 {
						return fmt.Errorf("the failed build left %d deployment(s): %+v", len(deployments), deployments)
					}
					if p.ProductionDeploymentID != "" {
						return fmt.Errorf("production points at %s after a failed build", p.ProductionDeploymentID)
					}
					return nil
				},
			},
		},
	})
}

func TestAccDeploymentNoEntrypoint(t *testing.T) {
	testFailedBuild(t, map[string]string{
		"hello.py": "print('not a web app')\n",
	}, `(?i)(app\.py|entrypoint)`)
}

func TestAccDeploymentUninstallableRequirements(t *testing.T) {
	app := flaskApp("v1")
	app["requirements.txt"] = "surely-not-a-real-package-ferry==1.0\n"
	testFailedBuild(t, app, `surely-not-a-real-package-ferry`)
}
