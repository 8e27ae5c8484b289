package provider

import (
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
)

// The acceptance test of the data source is TestAccRedeployOnEnvChange, which reads the
// production deployment a redeploy made.
func TestDeploymentDataSourceNeedsIDOrProject(t *testing.T) {
	for name, tc := range map[string]struct{ attrs, want string }{
		"neither":        {``, `Exactly one of these attributes must be configured: [id,project_id]`},
		"both":           {`id = "dpl_1"` + "\n" + `project_id = "p"`, `Exactly one of these attributes must be configured: [id,project_id]`},
		"id and target":  {`id = "dpl_1"` + "\n" + `target = "preview"`, `These attributes cannot be configured together: [id,target]`},
		"unknown target": {`project_id = "p"` + "\n" + `target = "staging"`, `value must be one of`},
		"bad branch":     {`project_id = "p"` + "\n" + `git_branch = "a..b"`, `not a valid git branch name`},
	} {
		t.Run(name, func(t *testing.T) {
			resource.UnitTest(t, resource.TestCase{
				ProtoV6ProviderFactories: protoV6ProviderFactories,
				Steps: []resource.TestStep{{
					Config:      unreachableProvider + "data \"ferry_deployment\" \"d\" {\n" + tc.attrs + "\n}\n",
					PlanOnly:    true,
					ExpectError: errorText(tc.want),
				}},
			})
		})
	}
}
