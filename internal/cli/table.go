package cli

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
)

// table writes aligned columns for people.
type table struct{ w *tabwriter.Writer }

func (con *console) newTable(headers ...string) *table {
	t := &table{w: tabwriter.NewWriter(con.stdout, 0, 4, 2, ' ', 0)}
	t.row(headers...)
	return t
}

func (t *table) row(cells ...string) {
	for i, cell := range cells {
		if cell == "" {
			cells[i] = "-"
		}
	}
	_, _ = fmt.Fprintln(t.w, strings.Join(cells, "\t")) // the error comes back from flush
}

func (t *table) flush() error { return t.w.Flush() }

// addJSONFlag adds --json, which prints the listing as JSON for scripts instead of a table.
func addJSONFlag(cmd *cobra.Command, asJSON *bool) {
	cmd.Flags().BoolVar(asJSON, "json", false, "print JSON for scripts instead of a table")
}

// age says how long ago t was, in the largest unit that fits.
func age(t, now time.Time) string {
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}

// buildTime is how long a deployment took from its creation to READY; "" until it is.
func buildTime(d api.Deployment) string {
	if d.ReadyAt == nil {
		return ""
	}
	took := d.ReadyAt.Sub(d.CreatedAt)
	if took < 10*time.Second {
		return took.Round(10 * time.Millisecond).String()
	}
	return took.Round(time.Second).String()
}

// commitLine is a commit's short sha and the first line of its message, cut to fit a table.
func commitLine(c *api.GitCommit) string {
	if c == nil {
		return ""
	}
	sha := c.SHA
	if len(sha) > 7 {
		sha = sha[:7]
	}
	message, _, _ := strings.Cut(c.Message, "\n")
	const width = 50
	if runes := []rune(message); len(runes) > width {
		message = string(runes[:width-1]) + "…"
	}
	return strings.TrimSpace(sha + " " + message)
}
