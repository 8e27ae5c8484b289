package cli

import (
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/ferryhq/terraform-provider-ferry/internal/client"
)

func newUsageCommand(con *console) *cobra.Command {
	var asJSON, byDay bool
	var q client.UsageQuery
	cmd := &cobra.Command{
		Use:   "usage [PROJECT]",
		Short: "Show what projects used: requests, bytes out, function GB-hours and build minutes (this month unless --since/--until)",
		Long: "Show what projects used, as the engine meters it: requests and bytes out as the edge answered them, function GB-hours\n" +
			"(each instance's memory limit times the time it ran) and build minutes. Days are UTC; --until is the day after the last.",
		Args:              optionalArg("one project"),
		ValidArgsFunction: completeProjects(con),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				q.Project = args[0]
			}
			c, err := con.connect(cmd)
			if err != nil {
				return err
			}
			report, err := c.Usage(cmd.Context(), q)
			if err != nil {
				return err
			}
			if asJSON {
				return con.printJSON(report)
			}
			if byDay {
				t := con.newTable("DATE", "PROJECT", "REQUESTS", "BYTES OUT", "GB-HOURS", "BUILD MIN")
				for _, d := range report.Days {
					name := d.Project
					if name == "" {
						name = d.ProjectID + " (deleted)"
					}
					t.row(d.Date, name, strconv.FormatInt(d.Requests, 10), byteSize(d.BytesOut), gbHours(d.FunctionGBHours), minutes(d.BuildMinutes))
				}
				if err := t.flush(); err != nil {
					return err
				}
			}
			total := report.Totals
			_, err = fmt.Fprintf(con.stdout, "%s to %s (UTC, until excluded): %d requests, %s out, %s function GB-hours, %s build minutes\n",
				report.Since, report.Until, total.Requests, byteSize(total.BytesOut), gbHours(total.FunctionGBHours), minutes(total.BuildMinutes))
			return err
		},
	}
	cmd.Flags().StringVar(&q.Since, "since", "", "first day, YYYY-MM-DD (default: the first day of this month)")
	cmd.Flags().StringVar(&q.Until, "until", "", "the day after the last, YYYY-MM-DD (default: tomorrow)")
	cmd.Flags().BoolVar(&byDay, "days", false, "list each day of each project, not only the totals")
	addJSONFlag(cmd, &asJSON)
	return cmd
}

func gbHours(v float64) string { return strconv.FormatFloat(v, 'f', 4, 64) }
func minutes(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }

// byteSize writes n bytes in the largest binary unit that keeps it at 1 or more.
func byteSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	value, prefix := float64(n)/unit, 0
	for value >= unit && prefix < 4 {
		value /= unit
		prefix++
	}
	return fmt.Sprintf("%.1f %ciB", value, "KMGTP"[prefix])
}
