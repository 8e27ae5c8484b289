package provider

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/ferryhq/terraform-provider-ferry/internal/gittest"
)

// flaskProjectConfig is a Flask project with a GREETING for production and preview, its value
// given as HCL attributes (value = ..., or value_wo and value_wo_version).
func flaskProjectConfig(name, greeting string) string {
	return fmt.Sprintf(`
resource "ferry_project" "app" {
  name      = %q
  framework = "flask"
}
resource "ferry_env_var" "greeting" {
  project_id = ferry_project.app.id
  key        = "GREETING"
  %s
  target     = ["production", "preview"]
}`, name, greeting)
}

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

func TestDeploymentSourceShapeErrorsAtPlan(t *testing.T) {
	dir := t.TempDir()
	for name, tc := range map[string]struct{ source, want string }{
		"neither":      {`{}`, `one (and only one) of [source.path,source.git] is`},
		"both":         {fmt.Sprintf(`{ path = %q, git = { url = "https://example.com/a.git" } }`, dir), `2 attributes specified when one (and only one) of [source.path,source.git]`},
		"short commit": {`{ git = { url = "https://example.com/a.git", commit = "abc123" } }`, `not a full commit sha`},
	} {
		t.Run(name, func(t *testing.T) {
			resource.UnitTest(t, resource.TestCase{
				ProtoV6ProviderFactories: protoV6ProviderFactories,
				Steps: []resource.TestStep{{
					Config:      unreachableProvider + `resource "ferry_deployment" "d" {` + "\n" + `project_id = "p"` + "\n" + `source = ` + tc.source + "\n}",
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
		return e.config(flaskProjectConfig(name, `value = "hello from ferry"`) + fmt.Sprintf(`
resource "ferry_deployment" "prod" {
  project_id = ferry_project.app.id
  source     = { path = %q }
  production = true
  # The env is frozen at creation: create the deployment after its vars.
  depends_on = [ferry_env_var.greeting]
}
%s`, appDir, preview))
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

// gitApp is a Flask app that shows what it knows of its commit, branch and URLs.
func gitApp(appVersion string) map[string]string {
	return map[string]string{
		"requirements.txt": "flask\n",
		".vercelignore":    "notes/\n",
		"notes/todo.md":    "not deployed\n",
		"app.py": `import os

from flask import Flask

app = Flask(__name__)
VERSION = "` + appVersion + `"
KEYS = ["VERCEL_GIT_PROVIDER", "VERCEL_GIT_REPO_SLUG", "VERCEL_GIT_COMMIT_REF", "VERCEL_GIT_COMMIT_SHA",
        "VERCEL_GIT_COMMIT_MESSAGE", "VERCEL_GIT_COMMIT_AUTHOR_NAME", "VERCEL_GIT_COMMIT_AUTHOR_LOGIN",
        "VERCEL_TARGET_ENV", "VERCEL_URL", "VERCEL_BRANCH_URL", "GREETING"]


@app.route("/")
def index():
    lines = ["%s=%s" % (k, os.environ.get(k, "<unset>")) for k in KEYS]
    lines.append("version=" + VERSION)
    lines.append("notes=" + str(os.path.exists("notes")))
    return "\n".join(lines) + "\n"
`,
	}
}

// TestAccDeploymentFromGit deploys a repository the test makes: production follows main through
// ferry_git_ref, a preview follows a branch with a variable of its own, and a push to main plans
// a replacement that one apply makes live.
func TestAccDeploymentFromGit(t *testing.T) {
	e := startEngine(t)
	name := randomName()
	repo := gittest.New(t)
	first := repo.Commit("Initial app\n\nServes its commit.", gitApp("v1"))
	repo.Branch("feature")
	featureSHA := repo.Commit("Feature work", map[string]string{"feature.txt": "x"})
	repo.Checkout("main")
	host := func(label string) string { return label + ".localhost:" + e.httpPort }
	// The URL variables carry the HTTPS port, so that "https://" + VERCEL_URL works.
	urlVar := func(label string) string { return label + ".localhost:" + e.httpsPort }
	const prod, feature = "ferry_deployment.prod", "ferry_deployment.feature"
	config := e.config(fmt.Sprintf(`
resource "ferry_project" "app" {
  name           = %[1]q
  framework      = "flask"
  git_repository = { url = %[2]q, production_branch = "main" }
}
data "ferry_git_ref" "main" {
  url = %[2]q
  ref = "main"
}
resource "ferry_env_var" "feature_greeting" {
  project_id = ferry_project.app.id
  key        = "GREETING"
  value      = "hello feature"
  target     = ["preview"]
  git_branch = "feature"
}
resource "ferry_deployment" "prod" {
  project_id = ferry_project.app.id
  # The project's repository; the commit ferry_git_ref read at plan.
  source     = { git = { ref = "main", commit = data.ferry_git_ref.main.commit } }
  production = true
}
resource "ferry_deployment" "feature" {
  project_id = ferry_project.app.id
  source     = { git = { url = %[2]q, ref = "feature" } }
  depends_on = [ferry_env_var.feature_greeting]
}`, name, repo.Dir))

	var prodID string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: protoV6ProviderFactories,
		CheckDestroy:             e.checkProjectsGone(name),
		Steps: []resource.TestStep{
			{
				Config: config,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(prod, tfjsonpath.New("git").AtMapKey("commit_sha"), knownvalue.StringExact(first)),
					statecheck.ExpectKnownValue(prod, tfjsonpath.New("git").AtMapKey("commit_ref"), knownvalue.StringExact("main")),
					statecheck.ExpectKnownValue(prod, tfjsonpath.New("git").AtMapKey("provider"), knownvalue.StringExact("local")),
					statecheck.ExpectKnownValue(prod, tfjsonpath.New("git_branch"), knownvalue.StringExact("main")),
					statecheck.ExpectKnownValue(prod, tfjsonpath.New("branch_url"), knownvalue.StringExact("http://"+host(name+"-git-main"))),
					statecheck.ExpectKnownValue(feature, tfjsonpath.New("git").AtMapKey("commit_sha"), knownvalue.StringExact(featureSHA)),
					statecheck.ExpectKnownValue("data.ferry_git_ref.main", tfjsonpath.New("author_login"), knownvalue.StringExact("ada")),
				},
				Check: resource.ComposeTestCheckFunc(
					func(s *terraform.State) error {
						prodID = s.RootModule().Resources[prod].Primary.ID
						u := s.RootModule().Resources[prod].Primary.Attributes["url"]
						hostname := strings.TrimPrefix(strings.TrimSuffix(u, ":"+e.httpPort), "http://")
						return expectBody(u, "VERCEL_GIT_COMMIT_SHA="+first, "VERCEL_GIT_COMMIT_REF=main",
							"VERCEL_GIT_COMMIT_MESSAGE=Initial app\n\nServes its commit.", "VERCEL_GIT_COMMIT_AUTHOR_NAME=Ada Lovelace",
							"VERCEL_GIT_COMMIT_AUTHOR_LOGIN=ada", "VERCEL_GIT_PROVIDER=local", "VERCEL_GIT_REPO_SLUG="+filepath.Base(repo.Dir),
							"VERCEL_TARGET_ENV=production", "VERCEL_URL="+hostname+":"+e.httpsPort,
							"VERCEL_BRANCH_URL="+urlVar(name+"-git-main"), "GREETING=<unset>", "version=v1", "notes=False")
					},
					func(*terraform.State) error {
						return expectBody(fmt.Sprintf("http://%s.localhost:%s", name, e.httpPort), "VERCEL_GIT_COMMIT_SHA="+first)
					},
					func(s *terraform.State) error {
						u := s.RootModule().Resources[feature].Primary.Attributes["url"]
						return expectBody(u, "VERCEL_GIT_COMMIT_REF=feature", "VERCEL_TARGET_ENV=preview", "GREETING=hello feature",
							"VERCEL_BRANCH_URL="+urlVar(name+"-git-feature"))
					},
					func(*terraform.State) error {
						// The branch URL serves the branch's newest deployment.
						return expectBody("http://"+host(name+"-git-feature"), "VERCEL_GIT_COMMIT_SHA="+featureSHA)
					},
				),
			},
			{
				// A push to main: ferry_git_ref reads the new commit at plan, which replaces the
				// production deployment; the preview of the feature branch stays.
				PreConfig: func() { repo.Commit("Second version", gitApp("v2")) },
				Config:    config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(prod, plancheck.ResourceActionReplace),
						plancheck.ExpectResourceAction(feature, plancheck.ResourceActionNoop),
					},
				},
				Check: resource.ComposeTestCheckFunc(
					func(s *terraform.State) error {
						if s.RootModule().Resources[prod].Primary.ID == prodID {
							return fmt.Errorf("production is still deployment %s", prodID)
						}
						return expectBody(fmt.Sprintf("http://%s.localhost:%s", name, e.httpPort),
							"version=v2", "VERCEL_GIT_COMMIT_MESSAGE=Second version")
					},
				),
			},
			{
				Config:   config,
				PlanOnly: true, // nothing changed: nothing to do
			},
			{
				ResourceName:            prod,
				ImportState:             true,
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"source", "timeouts"},
			},
		},
	})
}

// TestAccDeploymentGitErrors: a repository or ref that does not exist fails at plan, with what
// to do, and nothing is created.
func TestAccDeploymentGitErrors(t *testing.T) {
	e := startEngine(t)
	name := randomName()
	repo := gittest.New(t)
	repo.Commit("app", gitApp("v1"))
	deployment := func(source string) string {
		return e.config(fmt.Sprintf(`
resource "ferry_project" "app" {
  name = %q
}
resource "ferry_deployment" "app" {
  project_id = ferry_project.app.id
  source     = { git = %s }
}`, name, source))
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: protoV6ProviderFactories,
		CheckDestroy:             e.checkProjectsGone(name),
		Steps: []resource.TestStep{
			{
				Config:      deployment(fmt.Sprintf(`{ url = %q }`, filepath.Join(repo.Dir, "missing"))),
				ExpectError: errorText("there is no git repository at " + filepath.Join(repo.Dir, "missing")),
			},
			{
				Config:      deployment(fmt.Sprintf(`{ url = %q, ref = "no-such-branch" }`, repo.Dir)),
				ExpectError: errorText(`has no branch or tag "no-such-branch" (branches: main)`),
			},
			{
				Config:      e.config(fmt.Sprintf(`data "ferry_git_ref" "x" { url = %q }`, "https://127.0.0.1:1/nobody/nothing.git")),
				ExpectError: errorText("cannot fetch from https://127.0.0.1:1/nobody/nothing.git"),
			},
			{
				Config: e.config(fmt.Sprintf(`resource "ferry_project" "app" { name = %q }`, name)),
				Check: func(*terraform.State) error {
					p, err := e.client.GetProject(context.Background(), name)
					if err != nil {
						return err
					}
					if list, err := e.client.ListDeployments(context.Background(), p.ID); err != nil || len(list) != 0 {
						return fmt.Errorf("refused git sources left deployments: %v, %v", list, err)
					}
					return nil
				},
			},
		},
	})
}

// TestAccRedeployOnEnvChange: a changed env var goes live in one apply, through a redeploy that
// builds nothing; a deployment without replace_triggered_by shows the change in the next plan.
func TestAccRedeployOnEnvChange(t *testing.T) {
	e := startEngine(t)
	name := randomName()
	appDir := t.TempDir()
	writeApp(t, appDir, flaskApp("v1"))
	productionURL := fmt.Sprintf("http://%s.localhost:%s", name, e.httpPort)
	const prod, preview = "ferry_deployment.prod", "ferry_deployment.preview"
	config := func(greeting string) string {
		return e.config(flaskProjectConfig(name, greeting) + fmt.Sprintf(`
resource "ferry_deployment" "prod" {
  project_id = ferry_project.app.id
  source     = { path = %q }
  production = true
  lifecycle {
    replace_triggered_by = [ferry_env_var.greeting]
  }
}
resource "ferry_deployment" "preview" {
  project_id = ferry_project.app.id
  source     = { path = %q }
  depends_on = [ferry_env_var.greeting]
}
data "ferry_deployment" "current" {
  project_id = ferry_project.app.id
  depends_on = [ferry_deployment.prod]
}`, appDir, appDir))
	}
	built := map[string]bool{} // the deployments whose builds later ones may serve
	redeployed := func(s *terraform.State) error {
		attrs := s.RootModule().Resources[prod].Primary.Attributes
		if !built[attrs["reused_build_of"]] {
			return fmt.Errorf("production is %s reusing %q, want a redeploy of one of %v", attrs["id"], attrs["reused_build_of"], built)
		}
		log, err := e.client.DeploymentLog(context.Background(), attrs["id"])
		if err != nil {
			return err
		}
		if !strings.Contains(log, "no build step ran") || strings.Contains(log, "installing dependencies") {
			return fmt.Errorf("the redeploy's log says a build ran:\n%s", log)
		}
		if current := s.RootModule().Resources["data.ferry_deployment.current"].Primary.Attributes["id"]; current != attrs["id"] {
			return fmt.Errorf("data.ferry_deployment.current is %s, want the production deployment %s", current, attrs["id"])
		}
		return nil
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: protoV6ProviderFactories,
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_11_0)}, // value_wo
		CheckDestroy:             e.checkProjectsGone(name),
		Steps: []resource.TestStep{
			{
				Config: config(`value = "hello"`),
				Check: func(s *terraform.State) error {
					// Both were created at once: each built, or one served the other's build.
					for _, res := range []string{prod, preview} {
						attrs := s.RootModule().Resources[res].Primary.Attributes
						built[attrs["id"]] = attrs["reused_build_of"] == ""
					}
					return expectBody(productionURL, "greeting=hello")
				},
			},
			{
				// One apply: the variable, then production through replace_triggered_by.
				Config: config(`value = "bonjour"`),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction("ferry_env_var.greeting", plancheck.ResourceActionUpdate),
						plancheck.ExpectResourceAction(prod, plancheck.ResourceActionReplace),
					},
				},
				Check: resource.ComposeTestCheckFunc(
					func(*terraform.State) error { return expectBody(productionURL, "greeting=bonjour", "version=v1") },
					redeployed,
				),
				// The preview had no replace_triggered_by: the next plan shows its env out of date.
				ExpectNonEmptyPlan: true,
			},
			{
				Config: config(`value = "bonjour"`),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(preview, plancheck.ResourceActionReplace),
						plancheck.ExpectResourceAction(prod, plancheck.ResourceActionNoop),
						plancheck.ExpectUnknownValue(preview, tfjsonpath.New("env_digest")),
					},
				},
				Check: func(s *terraform.State) error {
					return expectBody(s.RootModule().Resources[preview].Primary.Attributes["url"], "greeting=bonjour")
				},
			},
			{
				// A write-only value: its version says when it changed.
				Config: config(`value_wo = "hallo"
  value_wo_version = 1`),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(prod, plancheck.ResourceActionReplace)},
				},
				Check: resource.ComposeTestCheckFunc(
					func(*terraform.State) error { return expectBody(productionURL, "greeting=hallo") },
					redeployed,
				),
				ExpectNonEmptyPlan: true, // the preview again
			},
		},
	})
}
