package cli

import (
	"strconv"

	"github.com/spf13/cobra"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
)

func newAuditCommand(con *console) *cobra.Command {
	var asJSON bool
	var team string
	var limit int
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "List the audit log, newest first: who changed what, when and from where (a team's admin token: its team)",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if limit < 1 || limit > api.MaxAuditLimit {
				return usageErrorf("--limit %d is not from 1 to %d", limit, api.MaxAuditLimit)
			}
			c, err := con.connect(cmd)
			if err != nil {
				return err
			}
			events, err := c.ListAudit(cmd.Context(), team, limit, 0)
			if err != nil {
				return err
			}
			if asJSON {
				return con.printJSON(events)
			}
			t := con.newTable("WHEN", "WHO", "TEAM", "ACTION", "TARGET", "FROM", "OUTCOME")
			for _, e := range events {
				who := e.Actor
				if e.Actor == api.ActorToken {
					who = "token " + e.TokenName + " (" + e.TokenID + ")"
				}
				outcome := strconv.Itoa(e.Status)
				if e.Error != "" {
					outcome += " " + e.Error
				}
				t.row(e.At.Local().Format("2006-01-02 15:04:05"), who, e.TeamID, e.Action, e.Target, e.Remote, outcome)
			}
			return t.flush()
		},
	}
	addJSONFlag(cmd, &asJSON)
	cmd.Flags().StringVar(&team, "team", "", "only this team's events (name or id); default: every team the token sees")
	cmd.Flags().IntVar(&limit, "limit", api.DefaultAuditLimit, "how many of the newest events to list")
	return cmd
}
