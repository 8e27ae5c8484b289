package provider

import (
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"
)

func TestSupabaseIntegrationValidation(t *testing.T) {
	const url = `connection_string = "` + functionTestURL + `"`
	for name, tc := range map[string]struct{ attrs, want string }{
		"unknown driver":          {url + "\ndriver = \"pg8000\"\ntarget = [\"production\"]", `value must be one of`},
		"unknown pool mode":       {url + "\ndriver = \"asyncpg\"\npool_mode = \"pooled\"\ntarget = [\"production\"]", `value must be one of`},
		"placeholder password":    {`connection_string = "` + strings.Replace(functionTestURL, functionTestPassword, "[YOUR-PASSWORD]", 1) + "\"\ndriver = \"asyncpg\"\ntarget = [\"production\"]", `placeholder [YOUR-PASSWORD]`},
		"placeholder, write-only": {`connection_string_wo = "` + strings.Replace(functionTestURL, functionTestPassword, "[YOUR-PASSWORD]", 1) + "\"\nconnection_string_wo_version = 1\ndriver = \"asyncpg\"\ntarget = [\"production\"]", `placeholder [YOUR-PASSWORD]`},
		"direct host, pooled":     {`connection_string = "postgresql://postgres:` + functionTestPassword + `@db.abcdefghijklmnopqrst.supabase.co:5432/postgres"` + "\ndriver = \"asyncpg\"\npool_mode = \"transaction\"\ntarget = [\"production\"]", `copy the pooler's connection string`},
		"no connection string":    {"driver = \"asyncpg\"\ntarget = [\"production\"]", `Exactly one of these attributes must be configured: [connection_string,connection_string_wo]`},
		"both":                    {url + "\nconnection_string_wo = \"x\"\nconnection_string_wo_version = 1\ndriver = \"asyncpg\"\ntarget = [\"production\"]", `Exactly one of these attributes must be configured`},
		"write-only, no version":  {`connection_string_wo = "` + functionTestURL + "\"\ndriver = \"asyncpg\"\ntarget = [\"production\"]", `"connection_string_wo_version" must be specified`},
		"no target":               {url + "\ndriver = \"asyncpg\"\ntarget = []", `set must contain at least 1 elements`},
		"branch for production":   {url + "\ndriver = \"asyncpg\"\ntarget = [\"production\", \"preview\"]\ngit_branch = \"feature\"", `git_branch needs target = ["preview"]`},
		"bad branch":              {url + "\ndriver = \"asyncpg\"\ntarget = [\"preview\"]\ngit_branch = \"a..b\"", `not a valid git branch name`},
		"bad supabase_url":        {url + "\ndriver = \"asyncpg\"\ntarget = [\"preview\"]\nsupabase_url = \"abcdefghijklmnopqrst.supabase.co\"", `not an http(s) URL`},
		"NUL in a key":            {url + "\ndriver = \"asyncpg\"\ntarget = [\"preview\"]\nservice_role_key = \"a\u0000b\"", `contains a NUL byte`},
	} {
		t.Run(name, func(t *testing.T) {
			resource.UnitTest(t, resource.TestCase{
				ProtoV6ProviderFactories: protoV6ProviderFactories,
				TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_11_0)},
				Steps: []resource.TestStep{{
					Config:      unreachableProvider + "resource \"ferry_supabase_integration\" \"db\" {\nproject_id = \"p\"\n" + tc.attrs + "\n}\n",
					PlanOnly:    true,
					ExpectError: errorText(tc.want),
				}},
			})
		})
	}
}

func TestSupabaseIntegrationImportIDs(t *testing.T) {
	e := fakeEngine(t)
	for _, id := range []string{"hello", "hello/staging", "/production", "hello/preview/"} {
		t.Run(id, func(t *testing.T) {
			resource.UnitTest(t, resource.TestCase{
				ProtoV6ProviderFactories: protoV6ProviderFactories,
				Steps: []resource.TestStep{{
					Config: requiredProviders() + e + `resource "ferry_supabase_integration" "db" {` + "\n" + `project_id = "p"` + "\n" +
						`connection_string = "` + functionTestURL + `"` + "\n" + `driver = "asyncpg"` + "\n" + `target = ["production"]` + "\n}",
					ResourceName:  "ferry_supabase_integration.db",
					ImportState:   true,
					ImportStateId: id,
					ExpectError:   errorText(`Import a Supabase integration as project/target`),
				}},
			})
		})
	}
}
