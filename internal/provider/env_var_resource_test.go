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
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
)

func TestEnvVarValidation(t *testing.T) {
	expectPlanErrors(t, "resource \"ferry_env_var\" \"v\" {\nproject_id = \"p\"", map[string]planError{
		"key with hyphen":     {`key = "API-KEY"` + "\n" + `value = "x"` + "\n" + `target = ["production"]`, `not a valid environment variable name`},
		"key with digit":      {`key = "1KEY"` + "\n" + `value = "x"` + "\n" + `target = ["production"]`, `not a valid environment variable name`},
		"reserved VERCEL_":    {`key = "VERCEL_ENV"` + "\n" + `value = "x"` + "\n" + `target = ["production"]`, `reserved for the variables ferry sets in every deployment`},
		"reserved FERRY_":     {`key = "FERRY_URL"` + "\n" + `value = "x"` + "\n" + `target = ["production"]`, `reserved for the variables ferry sets in every deployment`},
		"reserved PATH":       {`key = "PATH"` + "\n" + `value = "x"` + "\n" + `target = ["production"]`, `ferry's runtime sets PATH itself`},
		"value too long":      {`key = "A"` + "\n" + `value = "` + strings.Repeat("x", 70000) + `"` + "\n" + `target = ["production"]`, `at most 65536 bytes`},
		"NUL in value":        {`key = "A"` + "\n" + `value = "a\u0000b"` + "\n" + `target = ["production"]`, `contains a NUL byte`},
		"NUL in value_wo":     {`key = "A"` + "\n" + `value_wo = "a\u0000b"` + "\n" + `value_wo_version = 1` + "\n" + `target = ["production"]`, `contains a NUL byte`},
		"NUL in key":          {`key = "A\u0000B"` + "\n" + `value = "x"` + "\n" + `target = ["production"]`, `key contains a NUL byte`},
		"unknown target":      {`key = "A"` + "\n" + `value = "x"` + "\n" + `target = ["staging"]`, `value must be one of`},
		"no target":           {`key = "A"` + "\n" + `value = "x"` + "\n" + `target = []`, `set must contain at least 1 elements`},
		"no value":            {`key = "A"` + "\n" + `target = ["production"]`, `Exactly one of these attributes must be configured: [value,value_wo]`},
		"both values":         {`key = "A"` + "\n" + `value = "x"` + "\n" + `value_wo = "y"` + "\n" + `value_wo_version = 1` + "\n" + `target = ["production"]`, `Exactly one of these attributes must be configured: [value,value_wo]`},
		"value_wo no version": {`key = "A"` + "\n" + `value_wo = "y"` + "\n" + `target = ["production"]`, `Attribute "value_wo_version" must be specified when "value_wo" is specified`},
		"branch production":   {`key = "A"` + "\n" + `value = "x"` + "\n" + `target = ["production"]` + "\n" + `git_branch = "main"`, `A branch's variable is for previews only`},
		"branch not a branch": {`key = "A"` + "\n" + `value = "x"` + "\n" + `target = ["preview"]` + "\n" + `git_branch = "a b"`, `not a valid git branch name`},
	}, tfversion.SkipBelow(tfversion.Version1_11_0))
}

func TestEnvVarImportIDs(t *testing.T) {
	e := fakeEngine(t)
	for _, id := range []string{"hello/KEY", "hello/KEY/staging", "/KEY/production", "a/b/c/d"} {
		t.Run(id, func(t *testing.T) {
			resource.UnitTest(t, resource.TestCase{
				ProtoV6ProviderFactories: protoV6ProviderFactories,
				Steps: []resource.TestStep{{
					// Import steps get no generated required_providers block.
					Config:        requiredProviders() + e + `resource "ferry_env_var" "v" {` + "\n" + `project_id = "p"` + "\n" + `key = "A"` + "\n" + `value = "x"` + "\n" + `target = ["production"]` + "\n}",
					ResourceName:  "ferry_env_var.v",
					ImportState:   true,
					ImportStateId: id,
					ExpectError:   errorText(`Import an environment variable as project/KEY/target`),
				}},
			})
		})
	}
}

func TestAccEnvVar(t *testing.T) {
	e := startEngine(t)
	name := randomName()
	res := "ferry_env_var.greeting"
	config := func(value, comment string) string {
		return e.config(fmt.Sprintf(`
resource "ferry_project" "test" {
  name = %q
}
resource "ferry_env_var" "greeting" {
  project_id = ferry_project.test.id
  key        = "GREETING"
  value      = %q
  target     = ["production", "preview"]
  comment    = %q
}`, name, value, comment))
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: protoV6ProviderFactories,
		CheckDestroy:             e.checkProjectsGone(name),
		Steps: []resource.TestStep{
			{
				Config: config("hello", "first"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("value"), knownvalue.StringExact("hello")),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("target"), knownvalue.SetExact([]knownvalue.Check{
						knownvalue.StringExact("production"), knownvalue.StringExact("preview"),
					})),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("git_branch"), knownvalue.Null()),
				},
			},
			{
				// Value and comment change in place.
				Config: config("bonjour", "second"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(res, plancheck.ResourceActionUpdate)},
				},
				Check: e.checkEnvValue(name, "GREETING", "bonjour"),
			},
			{
				ResourceName:      res,
				ImportState:       true,
				ImportStateId:     name + "/GREETING/preview",
				ImportStateVerify: true,
			},
			{
				// Changed behind Terraform's back: plan puts it back.
				PreConfig: func() { e.setEnvValue(t, name, "GREETING", "changed elsewhere") },
				Config:    config("bonjour", "second"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(res, plancheck.ResourceActionUpdate)},
				},
				Check: e.checkEnvValue(name, "GREETING", "bonjour"),
			},
		},
	})
}

func TestAccEnvVarWriteOnly(t *testing.T) {
	e := startEngine(t)
	name := randomName()
	res := "ferry_env_var.secret"
	config := func(value string, version int) string {
		return e.config(fmt.Sprintf(`
resource "ferry_project" "test" {
  name = %q
}
resource "ferry_env_var" "secret" {
  project_id       = ferry_project.test.id
  key              = "API_KEY"
  value_wo         = %q
  value_wo_version = %d
  target           = ["preview"]
}`, name, value, version))
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: protoV6ProviderFactories,
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_11_0)},
		CheckDestroy:             e.checkProjectsGone(name),
		Steps: []resource.TestStep{
			{
				Config: config("s3cret", 1),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("value"), knownvalue.Null()),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("value_wo"), knownvalue.Null()),
				},
				Check: e.checkEnvValue(name, "API_KEY", "s3cret"),
			},
			{
				// A new value without a new version is not sent: write-only values are invisible to plan.
				Config:   config("ignored", 1),
				PlanOnly: true,
			},
			{
				Config: config("rotated", 2),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(res, plancheck.ResourceActionUpdate)},
				},
				Check: e.checkEnvValue(name, "API_KEY", "rotated"),
			},
			{
				// Changed behind Terraform's back: the digest kept in private state shows it.
				PreConfig: func() { e.setEnvValue(t, name, "API_KEY", "changed elsewhere") },
				Config:    config("rotated", 2),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(res, plancheck.ResourceActionUpdate)},
				},
				Check: e.checkEnvValue(name, "API_KEY", "rotated"),
			},
		},
	})
}

func TestAccEnvVarDuplicateKeyTarget(t *testing.T) {
	e := startEngine(t)
	name := randomName()
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: protoV6ProviderFactories,
		CheckDestroy:             e.checkProjectsGone(name),
		Steps: []resource.TestStep{
			{
				Config: e.config(fmt.Sprintf(`
resource "ferry_project" "test" {
  name = %q
}
resource "ferry_env_var" "a" {
  project_id = ferry_project.test.id
  key        = "GREETING"
  value      = "a"
  target     = ["production", "preview"]
}
resource "ferry_env_var" "b" {
  project_id = ferry_project.test.id
  key        = "GREETING"
  value      = "b"
  target     = ["production"]
  depends_on = [ferry_env_var.a]
}`, name)),
				ExpectError: regexp.MustCompile(`(?s)Duplicate environment variable.*once\s+per\s+target`),
			},
			{
				// The refused variable left nothing behind.
				Config: e.config(fmt.Sprintf(`
resource "ferry_project" "test" {
  name = %q
}`, name)),
				Check: func(*terraform.State) error {
					vars, err := e.client.ListEnvVars(context.Background(), name, false)
					if err != nil {
						return err
					}
					if len(vars) != 0 {
						return fmt.Errorf("%d env vars left, want 0", len(vars))
					}
					return nil
				},
			},
		},
	})
}

// findEnvVar returns the project's variable key.
func (e *testEngine) findEnvVar(project, key string, decrypt bool) (*api.EnvVar, error) {
	vars, err := e.client.ListEnvVars(context.Background(), project, decrypt)
	if err != nil {
		return nil, err
	}
	for _, v := range vars {
		if v.Key == key {
			return &v, nil
		}
	}
	return nil, fmt.Errorf("project %s has no env var %s", project, key)
}

func (e *testEngine) checkEnvValue(project, key, want string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		v, err := e.findEnvVar(project, key, true)
		if err != nil {
			return err
		}
		if v.Value != want {
			return fmt.Errorf("%s on the engine is %q, want %q", key, v.Value, want)
		}
		return nil
	}
}

func (e *testEngine) setEnvValue(t *testing.T, project, key, value string) {
	v, err := e.findEnvVar(project, key, false)
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.client.UpdateEnvVar(context.Background(), project, v.ID, api.EnvVarRequest{
		Key: v.Key, Value: value, Targets: v.Targets, GitBranch: v.GitBranch, Comment: v.Comment,
	})
	if err != nil {
		t.Fatal(err)
	}
}
