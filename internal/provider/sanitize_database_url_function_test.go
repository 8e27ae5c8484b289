package provider

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"
)

const (
	functionTestPassword = "s3cr3t-pw"
	functionTestURL      = "postgres://postgres.abcdefghijklmnopqrst:" + functionTestPassword + "@aws-0-eu-central-1.pooler.supabase.com:6543/postgres?sslmode=require&supa=base-pooler.x"
)

// Provider functions need Terraform 1.8.
var functionsNeedTerraform18 = []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_8_0)}

func TestSanitizeDatabaseURLFunction(t *testing.T) {
	engine := fakeEngine(t)
	for driver, want := range map[string]string{
		"psycopg2":           "postgresql://postgres.abcdefghijklmnopqrst:" + functionTestPassword + "@aws-0-eu-central-1.pooler.supabase.com:6543/postgres?sslmode=require",
		"sqlalchemy+asyncpg": "postgresql+asyncpg://postgres.abcdefghijklmnopqrst:" + functionTestPassword + "@aws-0-eu-central-1.pooler.supabase.com:5432/postgres?ssl=require",
		"prisma":             "postgresql://postgres.abcdefghijklmnopqrst:" + functionTestPassword + "@aws-0-eu-central-1.pooler.supabase.com:6543/postgres?sslmode=require&pgbouncer=true",
	} {
		t.Run(driver, func(t *testing.T) {
			resource.UnitTest(t, resource.TestCase{
				ProtoV6ProviderFactories: protoV6ProviderFactories,
				TerraformVersionChecks:   functionsNeedTerraform18,
				Steps: []resource.TestStep{{
					Config: engine + sanitizeConfig(functionTestURL, driver),
					Check:  resource.TestCheckOutput("url", want),
				}},
			})
		})
	}
}

func TestSanitizeDatabaseURLFunctionErrors(t *testing.T) {
	engine := fakeEngine(t)
	for name, tc := range map[string]struct{ url, driver, want string }{
		"unknown driver": {functionTestURL, "pg8000", `driver "pg8000" is not one ferry knows`},
		"placeholder":    {strings.Replace(functionTestURL, functionTestPassword, "[YOUR-PASSWORD]", 1), "asyncpg", "placeholder [YOUR-PASSWORD]"},
		"not a URL":      {"host=db password=" + functionTestPassword, "asyncpg", "not a URL"},
	} {
		t.Run(name, func(t *testing.T) {
			resource.UnitTest(t, resource.TestCase{
				ProtoV6ProviderFactories: protoV6ProviderFactories,
				TerraformVersionChecks:   functionsNeedTerraform18,
				Steps: []resource.TestStep{{
					Config:      engine + sanitizeConfig(tc.url, tc.driver),
					ExpectError: errorText(tc.want),
				}},
			})
		})
	}
}

// sanitizeConfig is an output of sanitize_database_url(url, driver).
func sanitizeConfig(url, driver string) string {
	return fmt.Sprintf(`
output "url" {
  value = provider::ferry::sanitize_database_url(%q, %q)
}`, url, driver)
}
