package cli

import (
	"github.com/spf13/cobra"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
)

func newDomainsCommand(con *console) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:               "domains [PROJECT]",
		Short:             "List the custom domains of a project (default: of every project) with their DNS and TLS state",
		Args:              optionalArg("one project"),
		ValidArgsFunction: completeProjects(con),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := con.connect(cmd)
			if err != nil {
				return err
			}
			projects, err := projectsNamed(cmd.Context(), c, firstArg(args))
			if err != nil {
				return err
			}
			all := []api.Domain{}
			t := con.newTable("DOMAIN", "PROJECT", "VERIFIED", "TLS", "SERVES", "URL")
			for _, p := range projects {
				domains, err := c.ListDomains(cmd.Context(), p.ID)
				if err != nil {
					return err
				}
				all = append(all, domains...)
				for _, d := range domains {
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
					t.row(d.Name, p.Name, verified, d.TLS.Status, serves, d.URL)
				}
			}
			if asJSON {
				return con.printJSON(all)
			}
			return t.flush()
		},
	}
	addJSONFlag(cmd, &asJSON)
	return cmd
}
