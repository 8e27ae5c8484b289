package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/client"
)

// defaultTail is how many lines of a runtime log are printed before following it.
const defaultTail = 1000

func newLogsCommand(con *console) *cobra.Command {
	var follow, build bool
	var tail int
	cmd := &cobra.Command{
		Use:   "logs DEPLOYMENT|PROJECT",
		Short: "Print the runtime log of a deployment or project, or a deployment's build log",
		Long: `Print what a deployment's instances wrote (stdout and stderr), or those of every deployment of a project,
each line prefixed by its deployment; -f keeps following. --build prints a deployment's build log instead,
which is also what a deployment that never got READY shows. -f on a deployment that is still building
follows its build, then its runtime log once it is READY.`,
		Example: "  ferry logs -f my-app\n  ferry logs --build -f dpl_0123456789abcdef01234567",
		Args:    exactArgs(1, "one deployment id (dpl_...) or project name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := con.connect(cmd)
			if err != nil {
				return err
			}
			ctx, ref := cmd.Context(), args[0]
			if !strings.HasPrefix(ref, "dpl_") {
				if build {
					return usageErrorf("--build takes a deployment id (dpl_...), not the project %q: find one with `ferry deployments %s`", ref, ref)
				}
				if _, err := c.GetProject(ctx, ref); err != nil {
					return err
				}
				return c.FollowProjectRuntimeLog(ctx, ref, tail, follow, con.stdout)
			}
			d, err := c.GetDeployment(ctx, ref)
			if err != nil {
				return err
			}
			building := d.State == api.StateQueued || d.State == api.StateBuilding
			// A deployment that never got READY has no runtime log; a build followed goes on into it.
			if build || (!building && d.State != api.StateReady) || (building && !follow) {
				if !build && !building {
					_, _ = fmt.Fprintf(con.stderr, "ferry: deployment %s is %s, with no runtime log: its build log follows\n", d.ID, d.State)
				}
				return printBuildLog(cmd, c, d.ID, follow, con.stdout)
			}
			if building {
				if err := c.FollowDeploymentLog(ctx, d.ID, con.stdout); err != nil {
					return err
				}
				if d, err = c.GetDeployment(ctx, d.ID); err != nil || d.State != api.StateReady {
					return buildFailed(d, err)
				}
			}
			if follow {
				return c.FollowRuntimeLog(ctx, d.ID, tail, con.stdout)
			}
			text, err := c.RuntimeLog(ctx, d.ID, tail)
			if err != nil {
				return err
			}
			_, err = io.WriteString(con.stdout, text)
			return err
		},
	}
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing new lines: until the build ends with --build, else until interrupted")
	cmd.Flags().BoolVar(&build, "build", false, "print the deployment's build log instead of its runtime log")
	cmd.Flags().IntVarP(&tail, "tail", "n", defaultTail, "runtime log: print this many of the last lines first")
	return cmd
}

// printBuildLog prints a deployment's build log; following it until the build has ended.
func printBuildLog(cmd *cobra.Command, c *client.Client, id string, follow bool, w io.Writer) error {
	if follow {
		return c.FollowDeploymentLog(cmd.Context(), id, w)
	}
	text, err := c.DeploymentLog(cmd.Context(), id)
	if err != nil {
		return err
	}
	_, err = io.WriteString(w, text)
	return err
}

// buildFailed is the error of a build that did not end READY.
func buildFailed(d *api.Deployment, err error) error {
	if err != nil {
		return err
	}
	return fmt.Errorf("deployment %s ended %s: %s (its build log: ferry logs --build %s)", d.ID, d.State, d.ErrorMessage, d.ID)
}
