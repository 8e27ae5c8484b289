package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// newTeamsPlanCommand shows a team's plan and what the team used of it this month, or sets it.
func newTeamsPlanCommand(con *console) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "plan TEAM [PLAN|none]",
		Short: "Show a team's plan and this month's usage of it; with PLAN (hobby, pro, none), put the team on it (the operator only)",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 1 || len(args) > 2 {
				return usageErrorf("%s takes a team, and optionally a plan: %s", cmd.CommandPath(), cmd.UseLine())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := con.connect(cmd)
			if err != nil {
				return err
			}
			if len(args) == 2 {
				plan := args[1]
				if plan == "none" {
					plan = ""
				}
				if _, err := c.SetTeamPlan(cmd.Context(), args[0], plan); err != nil {
					return err
				}
			}
			status, err := c.TeamPlan(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if asJSON {
				return con.printJSON(status)
			}
			var b strings.Builder
			if status.Plan == nil {
				fmt.Fprintf(&b, "team %s has no plan: no limits\n", status.Team)
			} else {
				p := status.Plan
				fmt.Fprintf(&b, "team %s is on plan %s (%s)\n", status.Team, p.Name, p.Description)
				fmt.Fprintf(&b, "  a month: %.0f GB out, %.0f function GB-hours, %.0f build minutes; past a serving limit: %s\n", p.BandwidthGB, p.FunctionGBHours, p.BuildMinutes, p.OverServingLimit)
				fmt.Fprintf(&b, "  a project: %d s max duration, %d MB memory, %s custom domains, %s deployments kept (the oldest beyond go)\n",
					p.MaxDurationSeconds, p.MaxMemoryMB, orUnlimited(p.CustomDomains), orUnlimited(p.RetainedDeployments))
				fmt.Fprintf(&b, "  the team: concurrent builds %s (more wait in the queue)\n", orUnlimited(p.ConcurrentBuilds))
			}
			u := status.Used
			fmt.Fprintf(&b, "used %s to %s (UTC): %d requests, %s out, %s function GB-hours, %s build minutes\n",
				status.Since, status.Until, u.Requests, byteSize(u.BytesOut), gbHours(u.FunctionGBHours), minutes(u.BuildMinutes))
			for _, over := range status.Over {
				fmt.Fprintf(&b, "  over: %s\n", over)
			}
			for _, warning := range status.Warnings {
				fmt.Fprintf(&b, "  at 80 %% or more: %s\n", warning)
			}
			_, err = fmt.Fprint(con.stdout, b.String())
			return err
		},
	}
	addJSONFlag(cmd, &asJSON)
	return cmd
}

func orUnlimited(n int) string {
	if n <= 0 {
		return "unlimited"
	}
	return fmt.Sprint(n)
}
