package cli

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/client"
)

func newDeploymentsCommand(con *console) *cobra.Command {
	return projectListing(con, "deployments [PROJECT]", "List the deployments of a project (default: of every project), newest first",
		func(cmd *cobra.Command, c *client.Client, projects []api.Project, asJSON bool) error {
			listed, err := listDeployments(cmd.Context(), c, projects)
			if err != nil {
				return err
			}
			if asJSON {
				out := make([]api.Deployment, 0, len(listed))
				for _, d := range listed {
					out = append(out, d.Deployment)
				}
				return con.printJSON(out)
			}
			t := con.newTable("ID", "PROJECT", "URL", "STATE", "TARGET", "BRANCH", "COMMIT", "AGE", "BUILD")
			now := time.Now()
			for _, d := range listed {
				target := d.Target
				if d.ID == d.project.ProductionDeploymentID {
					target += " (current)"
				}
				t.row(d.ID, d.project.Name, d.URL, d.State, target, d.GitBranch, commitLine(d.Git), age(d.CreatedAt, now), buildTime(d.Deployment))
			}
			return t.flush()
		})
}

// listedDeployment is a deployment with its project.
type listedDeployment struct {
	api.Deployment
	project api.Project
}

// listDeployments lists the deployments of projects, newest first.
func listDeployments(ctx context.Context, c *client.Client, projects []api.Project) ([]listedDeployment, error) {
	var out []listedDeployment
	for _, p := range projects {
		list, err := c.ListDeployments(ctx, p.ID)
		if err != nil {
			return nil, err
		}
		for _, d := range list {
			out = append(out, listedDeployment{Deployment: d, project: p})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].CreatedAt.After(out[j].CreatedAt) })
	return out, nil
}

func newInspectCommand(con *console) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "inspect DEPLOYMENT",
		Short: "Show a deployment: its URLs, state, source, build and runtime",
		Args:  exactArgs(1, "one deployment id, such as dpl_0123456789abcdef01234567"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := con.connect(cmd)
			if err != nil {
				return err
			}
			d, err := c.GetDeployment(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if asJSON {
				return con.printJSON(d)
			}
			p, err := c.GetProject(cmd.Context(), d.ProjectID)
			if err != nil {
				return err
			}
			return con.printDeployment(*d, *p)
		},
	}
	addJSONFlag(cmd, &asJSON)
	return cmd
}

// printDeployment writes d as "name: value" lines for people.
func (con *console) printDeployment(d api.Deployment, p api.Project) error {
	t := con.newTable("id", d.ID)
	target := d.Target
	if d.ID == p.ProductionDeploymentID {
		target += fmt.Sprintf(" (serves production: %s)", p.ProductionURL)
	}
	t.row("project", fmt.Sprintf("%s (%s)", p.Name, p.ID))
	t.row("url", d.URL)
	if d.BranchURL != "" {
		t.row("branch url", d.BranchURL)
	}
	t.row("state", d.State)
	t.row("target", target)
	now := time.Now()
	t.row("created", fmt.Sprintf("%s (%s ago)", d.CreatedAt.Local().Format(time.RFC3339), age(d.CreatedAt, now)))
	if d.ReadyAt != nil {
		t.row("ready", fmt.Sprintf("%s (build %s)", d.ReadyAt.Local().Format(time.RFC3339), buildTime(d)))
	}
	if d.ErrorMessage != "" {
		t.row("error", strings.ReplaceAll(d.ErrorMessage, "\n", " "))
	}
	if g := d.Git; g != nil {
		t.row("git", fmt.Sprintf("%s %s", g.URL, g.Ref))
		t.row("commit", commitLine(g))
		t.row("author", strings.TrimSpace(fmt.Sprintf("%s <%s>", g.AuthorName, g.AuthorEmail)))
	}
	t.row("source digest", d.SourceDigest)
	if d.ReusedBuildOf != "" {
		t.row("build", "reused from "+d.ReusedBuildOf+" (no build ran)")
	}
	t.row("entrypoint", d.Entrypoint)
	t.row("python", d.PythonVersion)
	t.row("env digest", d.EnvDigest)
	return t.flush()
}
