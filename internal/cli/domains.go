package cli

import (
	"github.com/spf13/cobra"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/client"
)

func newDomainsCommand(con *console) *cobra.Command {
	return projectListing(con, "domains [PROJECT]", "List the custom domains of a project (default: of every project) with their DNS and TLS state",
		func(cmd *cobra.Command, c *client.Client, projects []api.Project, asJSON bool) error {
			type listed struct {
				api.Domain
				project string
			}
			var all []listed
			for _, p := range projects {
				domains, err := c.ListDomains(cmd.Context(), p.ID)
				if err != nil {
					return err
				}
				for _, d := range domains {
					all = append(all, listed{Domain: d, project: p.Name})
				}
			}
			if asJSON {
				out := []api.Domain{}
				for _, d := range all {
					out = append(out, d.Domain)
				}
				return con.printJSON(out)
			}
			t := con.newTable("DOMAIN", "PROJECT", "VERIFIED", "TLS", "SERVES", "URL")
			for _, d := range all {
				verified := "yes"
				if !d.Verified {
					verified = "no: " + d.Verification
				}
				serves := "production"
				switch {
				case d.Redirect != "":
					serves = "redirect to " + d.Redirect
				case d.GitBranch != "":
					serves = "branch " + d.GitBranch
				}
				t.row(d.Name, d.project, verified, d.TLS.Status, serves, d.URL)
			}
			return t.flush()
		})
}
