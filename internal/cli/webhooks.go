package cli

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
)

func newWebhooksCommand(con *console) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "webhooks",
		Short: "List, create and remove a team's webhooks, and see their deliveries",
		Args:  exactArgs(0, "a subcommand: ls, create, rm or deliveries"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return usageErrorf("give a subcommand of %s: ls, create, rm or deliveries", cmd.CommandPath())
		},
	}
	cmd.AddCommand(newWebhooksLsCommand(con), newWebhooksCreateCommand(con), newWebhooksRmCommand(con), newWebhooksDeliveriesCommand(con))
	return cmd
}

func newWebhooksLsCommand(con *console) *cobra.Command {
	var asJSON bool
	var team string
	cmd := &cobra.Command{
		Use:   "ls",
		Short: "List a team's webhooks (never their secrets)",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, team, err := con.connectToTeam(cmd, team)
			if err != nil {
				return err
			}
			hooks, err := c.ListWebhooks(cmd.Context(), team)
			if err != nil {
				return err
			}
			if asJSON {
				return con.printJSON(hooks)
			}
			t := con.newTable("ID", "URL", "EVENTS", "PROJECTS")
			for _, w := range hooks {
				projects := strings.Join(w.Projects, ",")
				if projects == "" {
					projects = "all"
				}
				t.row(w.ID, w.URL, strings.Join(w.Events, ","), projects)
			}
			return t.flush()
		},
	}
	addJSONFlag(cmd, &asJSON)
	addTeamFlag(cmd, &team)
	return cmd
}

func newWebhooksCreateCommand(con *console) *cobra.Command {
	var asJSON, secretStdin bool
	var team string
	var req api.WebhookRequest
	cmd := &cobra.Command{
		Use:   "create URL",
		Short: "Create a webhook: events are POSTed to URL, signed with its secret (made for you and shown once, or read from stdin)",
		Args:  exactArgs(1, "the URL events are POSTed to"),
		RunE: func(cmd *cobra.Command, args []string) error {
			req.URL = args[0]
			shown := ""
			if secretStdin {
				data, err := io.ReadAll(io.LimitReader(con.stdin, 4096))
				if err != nil {
					return fmt.Errorf("read the secret from stdin: %w", err)
				}
				req.Secret = strings.TrimSpace(string(data))
			} else {
				random := make([]byte, 32)
				_, _ = rand.Read(random) // never fails (crypto/rand)
				req.Secret = hex.EncodeToString(random)
				shown = req.Secret
			}
			c, team, err := con.connectToTeam(cmd, team)
			if err != nil {
				return err
			}
			w, err := c.CreateWebhook(cmd.Context(), team, req)
			if err != nil {
				return err
			}
			if asJSON {
				return con.printJSON(w)
			}
			if _, err := fmt.Fprintf(con.stdout, "webhook %s of team %s: %s hears of %s\n", w.ID, team, w.URL, strings.Join(w.Events, ", ")); err != nil || shown == "" {
				return err
			}
			_, err = fmt.Fprintf(con.stdout, "\nits secret, to check the X-Ferry-Signature (or x-vercel-signature) of each delivery:\n\n  %s\n\nCopy it now: it is not shown again.\n", shown)
			return err
		},
	}
	addJSONFlag(cmd, &asJSON)
	addTeamFlag(cmd, &team)
	cmd.Flags().StringSliceVar(&req.Events, "event", api.WebhookEvents, "events to send: "+strings.Join(api.WebhookEvents, ", "))
	cmd.Flags().StringSliceVar(&req.Projects, "project", nil, "send only the events of these projects (names or ids); default: every project of the team")
	cmd.Flags().BoolVar(&secretStdin, "secret-stdin", false, "read the secret from stdin (at least 16 characters) instead of making one")
	return cmd
}

func newWebhooksRmCommand(con *console) *cobra.Command {
	var team string
	cmd := &cobra.Command{
		Use:   "rm WEBHOOK_ID",
		Short: "Remove a webhook with its deliveries: what was not sent yet never is",
		Args:  exactArgs(1, "the webhook's id (ferry webhooks ls)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, team, err := con.connectToTeam(cmd, team)
			if err != nil {
				return err
			}
			if err := c.DeleteWebhook(cmd.Context(), team, args[0]); err != nil {
				return err
			}
			_, err = fmt.Fprintf(con.stdout, "webhook %s removed\n", args[0])
			return err
		},
	}
	addTeamFlag(cmd, &team)
	return cmd
}

func newWebhooksDeliveriesCommand(con *console) *cobra.Command {
	var asJSON bool
	var team string
	var limit int
	cmd := &cobra.Command{
		Use:   "deliveries WEBHOOK_ID",
		Short: "List a webhook's deliveries, newest first, with their attempts and last answer",
		Args:  exactArgs(1, "the webhook's id (ferry webhooks ls)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, team, err := con.connectToTeam(cmd, team)
			if err != nil {
				return err
			}
			ds, err := c.ListWebhookDeliveries(cmd.Context(), team, args[0], limit)
			if err != nil {
				return err
			}
			if asJSON {
				return con.printJSON(ds)
			}
			t := con.newTable("EVENT ID", "EVENT", "STATE", "ATTEMPTS", "LAST STATUS", "LAST ERROR", "CREATED")
			for _, d := range ds {
				status := "-"
				if d.LastStatus != 0 {
					status = fmt.Sprint(d.LastStatus)
				}
				t.row(d.EventID, d.Event, d.State, fmt.Sprint(d.Attempts), status, d.LastError, d.CreatedAt.Local().Format("2006-01-02 15:04:05"))
			}
			return t.flush()
		},
	}
	addJSONFlag(cmd, &asJSON)
	addTeamFlag(cmd, &team)
	cmd.Flags().IntVar(&limit, "limit", 0, fmt.Sprintf("at most this many (up to %d); default %d", api.MaxDeliveriesLimit, api.DefaultDeliveriesLimit))
	return cmd
}
