package cli

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/client"
)

func newTokensCommand(con *console) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tokens",
		Short: "List, create and revoke the API tokens of a team",
		Args:  exactArgs(0, "a subcommand: ls, create or revoke"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return usageErrorf("give a subcommand of %s: ls, create or revoke", cmd.CommandPath())
		},
	}
	cmd.AddCommand(newTokensLsCommand(con), newTokensCreateCommand(con), newTokensRevokeCommand(con))
	return cmd
}

// addTeamFlag adds --team: the team a command acts on; by default the token's own.
func addTeamFlag(cmd *cobra.Command, team *string) {
	cmd.Flags().StringVar(team, "team", "", "the team (name or id); default: the team of the token in use")
}

// connectToTeam connects to the engine and names the team a command acts on: the one of
// --team, or the team of the token in use.
func (con *console) connectToTeam(cmd *cobra.Command, team string) (*client.Client, string, error) {
	c, err := con.connect(cmd)
	if err != nil || team != "" {
		return c, team, err
	}
	who, err := c.WhoAmI(cmd.Context())
	if err != nil {
		return nil, "", err
	}
	if who.Operator {
		return nil, "", usageErrorf("the operator's token belongs to no team: name one with --team")
	}
	return c, who.TeamID, nil
}

func newTokensLsCommand(con *console) *cobra.Command {
	var asJSON bool
	var team string
	cmd := &cobra.Command{
		Use:   "ls",
		Short: "List a team's tokens: never their values, only their first characters",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, team, err := con.connectToTeam(cmd, team)
			if err != nil {
				return err
			}
			tokens, err := c.ListTokens(cmd.Context(), team)
			if err != nil {
				return err
			}
			if asJSON {
				return con.printJSON(tokens)
			}
			now := time.Now()
			t := con.newTable("NAME", "ID", "PREFIX", "SCOPES", "PROJECTS", "STATE", "EXPIRES", "LAST USED")
			for _, tok := range tokens {
				state, expires, used := "active", "never", "never"
				if tok.ExpiresAt != nil {
					expires = tok.ExpiresAt.Local().Format("2006-01-02 15:04")
					if !now.Before(*tok.ExpiresAt) {
						state = "expired"
					}
				}
				if tok.RevokedAt != nil {
					state = "revoked"
				}
				if tok.LastUsedAt != nil {
					used = age(*tok.LastUsedAt, now) + " ago"
				}
				t.row(tok.Name, tok.ID, tok.Prefix+"...", strings.Join(tok.Scopes, ","), strings.Join(tok.Projects, ","), state, expires, used)
			}
			return t.flush()
		},
	}
	addJSONFlag(cmd, &asJSON)
	addTeamFlag(cmd, &team)
	return cmd
}

func newTokensCreateCommand(con *console) *cobra.Command {
	var asJSON bool
	var team string
	var req api.TokenRequest
	var expiresIn time.Duration
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a token of a team and print its value, once: the engine keeps only its hash",
		Args:  exactArgs(1, "the token's name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, team, err := con.connectToTeam(cmd, team)
			if err != nil {
				return err
			}
			req.Name = args[0]
			if expiresIn < 0 {
				return usageErrorf("--expires-in %s is negative: give how long the token lasts, such as 720h", expiresIn)
			}
			if expiresIn > 0 {
				at := time.Now().Add(expiresIn).UTC()
				req.ExpiresAt = &at
			}
			created, err := c.CreateToken(cmd.Context(), team, req)
			if err != nil {
				return err
			}
			if asJSON {
				return con.printJSON(created)
			}
			_, err = fmt.Fprintf(con.stdout, "token %s (%s) of team %s, scopes %s:\n\n  %s\n\nCopy it now: it is not shown again. Use it with `ferry login --token` or FERRY_TOKEN.\n",
				created.Name, created.ID, team, strings.Join(created.Scopes, ","), created.Value)
			return err
		},
	}
	addJSONFlag(cmd, &asJSON)
	addTeamFlag(cmd, &team)
	cmd.Flags().StringSliceVar(&req.Scopes, "scope", []string{api.ScopeRead}, "scopes: read (every GET), deploy (read + deployments, promote, rollback, aliases), admin (deploy + settings, env vars, domains, tokens)")
	cmd.Flags().StringSliceVar(&req.Projects, "project", nil, "limit the token to these projects (names or ids); default: every project of the team")
	cmd.Flags().DurationVar(&expiresIn, "expires-in", 0, "the token expires after this long (such as 720h); default: never")
	return cmd
}

func newTokensRevokeCommand(con *console) *cobra.Command {
	var team string
	cmd := &cobra.Command{
		Use:   "revoke TOKEN_ID",
		Short: "Revoke a token of a team: it is refused from its next request on",
		Args:  exactArgs(1, "the token's id (ferry tokens ls)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, team, err := con.connectToTeam(cmd, team)
			if err != nil {
				return err
			}
			if err := c.RevokeToken(cmd.Context(), team, args[0]); err != nil {
				return err
			}
			_, err = fmt.Fprintf(con.stdout, "token %s revoked\n", args[0])
			return err
		},
	}
	addTeamFlag(cmd, &team)
	return cmd
}
