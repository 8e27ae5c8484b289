package cli

import (
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
)

func newTeamsCommand(con *console) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "teams",
		Short: "List, create and remove teams: a team owns projects, and its tokens reach only them",
		Args:  exactArgs(0, "a subcommand: ls, create, rm or plan"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return usageErrorf("give a subcommand of %s: ls, create, rm or plan", cmd.CommandPath())
		},
	}
	cmd.AddCommand(newTeamsLsCommand(con), newTeamsCreateCommand(con), newTeamsRmCommand(con), newTeamsPlanCommand(con))
	return cmd
}

func newTeamsLsCommand(con *console) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "ls",
		Short: "List the teams (a team's token sees its own only)",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := con.connect(cmd)
			if err != nil {
				return err
			}
			teams, err := c.ListTeams(cmd.Context())
			if err != nil {
				return err
			}
			if asJSON {
				return con.printJSON(teams)
			}
			t := con.newTable("TEAM", "ID", "PLAN", "PROJECTS", "CREATED")
			for _, team := range teams {
				t.row(team.Name, team.ID, orNone(team.Plan), strconv.Itoa(team.Projects), team.CreatedAt.Local().Format("2006-01-02 15:04"))
			}
			return t.flush()
		},
	}
	addJSONFlag(cmd, &asJSON)
	return cmd
}

func newTeamsCreateCommand(con *console) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a team (the engine's operator only)",
		Args:  exactArgs(1, "the team's name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := con.connect(cmd)
			if err != nil {
				return err
			}
			team, err := c.CreateTeam(cmd.Context(), api.TeamRequest{Name: args[0]})
			if err != nil {
				return err
			}
			if asJSON {
				return con.printJSON(team)
			}
			_, err = fmt.Fprintf(con.stdout, "team %s created (%s); give it a token with: ferry tokens create --team %s NAME\n", team.Name, team.ID, team.Name)
			return err
		},
	}
	addJSONFlag(cmd, &asJSON)
	return cmd
}

func newTeamsRmCommand(con *console) *cobra.Command {
	return &cobra.Command{
		Use:   "rm NAME",
		Short: "Remove a team that owns no project, with its tokens (the engine's operator only)",
		Args:  exactArgs(1, "the team's name or id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := con.connect(cmd)
			if err != nil {
				return err
			}
			if err := c.DeleteTeam(cmd.Context(), args[0]); err != nil {
				return err
			}
			_, err = fmt.Fprintf(con.stdout, "team %s removed\n", args[0])
			return err
		},
	}
}
