package cli

import (
	"strconv"
	"time"

	"github.com/spf13/cobra"
)

func newNodesCommand(con *console) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "nodes",
		Short: "List the engine nodes that share the engine's store, from their heartbeats (one, for an engine of its own)",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := con.connect(cmd)
			if err != nil {
				return err
			}
			list, err := c.Nodes(cmd.Context())
			if err != nil {
				return err
			}
			if asJSON {
				return con.printJSON(list)
			}
			now := time.Now()
			t := con.newTable("NODE", "STATE", "INSTANCES", "BUILDS", "VERSION", "HTTP", "API", "STARTED", "LAST SEEN")
			for _, n := range list.Nodes {
				state := "up"
				if n.Lost {
					state = "lost" // heartbeats stopped without the node leaving: killed, or cut off
				}
				name := n.ID
				if n.ID == list.Self {
					name += " (answered)"
				}
				t.row(name, state, strconv.Itoa(n.Instances), strconv.Itoa(n.Builds), n.Version, n.HTTPAddress, n.APIAddress, age(n.StartedAt, now), age(n.SeenAt, now))
			}
			return t.flush()
		},
	}
	addJSONFlag(cmd, &asJSON)
	return cmd
}
