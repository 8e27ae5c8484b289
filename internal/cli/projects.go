package cli

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/client"
)

func newProjectsCommand(con *console) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "projects",
		Short: "List the projects",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := con.connect(cmd)
			if err != nil {
				return err
			}
			projects, err := c.ListProjects(cmd.Context())
			if err != nil {
				return err
			}
			if asJSON {
				return con.printJSON(projects)
			}
			t := con.newTable("NAME", "ID", "FRAMEWORK", "PRODUCTION URL", "PRODUCTION DEPLOYMENT", "UPDATED")
			for _, p := range projects {
				t.row(p.Name, p.ID, p.Framework, p.ProductionURL, p.ProductionDeploymentID, age(p.UpdatedAt, time.Now()))
			}
			return t.flush()
		},
	}
	addJSONFlag(cmd, &asJSON)
	return cmd
}

// projectListing is a listing command over the project its argument names, or every project.
func projectListing(con *console, use, short string, list func(cmd *cobra.Command, c *client.Client, projects []api.Project, asJSON bool) error) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:               use,
		Short:             short,
		Args:              optionalArg("one project"),
		ValidArgsFunction: completeProjects(con),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := con.connect(cmd)
			if err != nil {
				return err
			}
			ref := ""
			if len(args) == 1 {
				ref = args[0]
			}
			projects, err := projectsNamed(cmd.Context(), c, ref)
			if err != nil {
				return err
			}
			return list(cmd, c, projects, asJSON)
		},
	}
	addJSONFlag(cmd, &asJSON)
	return cmd
}

// projectsNamed is the project named by ref (a name or id), or every project when ref is "".
func projectsNamed(ctx context.Context, c *client.Client, ref string) ([]api.Project, error) {
	if ref == "" {
		return c.ListProjects(ctx)
	}
	p, err := c.GetProject(ctx, ref)
	if err != nil {
		return nil, err
	}
	return []api.Project{*p}, nil
}

// completeProjects completes a project argument with the names of the engine's projects.
func completeProjects(con *console) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		c, err := con.connect(cmd)
		if err != nil {
			return nil, cobra.ShellCompDirectiveError
		}
		projects, err := c.ListProjects(cmd.Context())
		if err != nil {
			return nil, cobra.ShellCompDirectiveError
		}
		var names []cobra.Completion
		for _, p := range projects {
			names = append(names, p.Name)
		}
		return names, cobra.ShellCompDirectiveNoFileComp
	}
}
