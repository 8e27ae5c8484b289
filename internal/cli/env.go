package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/client"
)

func newEnvCommand(con *console) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "env",
		Short: "List a project's environment variables, or pull them into a dotenv file",
		Args:  exactArgs(0, "a subcommand: ls or pull"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return usageErrorf("give a subcommand of %s: ls or pull", cmd.CommandPath())
		},
	}
	cmd.AddCommand(newEnvLsCommand(con), newEnvPullCommand(con))
	return cmd
}

func newEnvLsCommand(con *console) *cobra.Command {
	return projectListing(con, "ls [PROJECT]", "List the environment variables of a project (default: of every project): keys and targets, never values",
		func(cmd *cobra.Command, c *client.Client, projects []api.Project, asJSON bool) error {
			type listed struct {
				api.EnvVar
				Project string `json:"project"`
			}
			all := []listed{}
			for _, p := range projects {
				vars, err := c.ListEnvVars(cmd.Context(), p.ID, false)
				if err != nil {
					return err
				}
				for _, v := range vars {
					v.Value = "" // never asked for; never shown either
					all = append(all, listed{EnvVar: v, Project: p.Name})
				}
			}
			if asJSON {
				return con.printJSON(all)
			}
			t := con.newTable("KEY", "PROJECT", "TARGETS", "GIT BRANCH", "COMMENT", "UPDATED")
			for _, v := range all {
				t.row(v.Key, v.Project, strings.Join(v.Targets, ","), v.GitBranch, v.Comment, v.UpdatedAt.Local().Format("2006-01-02 15:04"))
			}
			return t.flush()
		})
}

// pulledHeader starts every file env pull writes: it may overwrite those, and no other.
const pulledHeader = "# Created by ferry env pull"

func newEnvPullCommand(con *console) *cobra.Command {
	var environment, project, gitBranch string
	var overwrite bool
	cmd := &cobra.Command{
		Use:   "pull [FILE]",
		Short: "Write the environment variables of an environment into a dotenv file (default .env), mode 0600",
		Long: `Write the environment variables of an environment into a dotenv file (default .env), readable by its owner
only, as Vercel's env pull does: python-dotenv's load_dotenv reads every value back exactly (a value holding
${ is expanded by python-dotenv unless it is loaded with interpolate=False; ferry warns of those). A file
that ferry env pull did not write is left alone unless --yes is given.`,
		Example: "  ferry env pull --environment development\n  ferry env pull .env.preview --environment preview --git-branch feature-x --project my-app",
		Args:    optionalArg("one file"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !slices.Contains([]string{api.TargetDevelopment, api.TargetPreview, api.TargetProduction}, environment) {
				return usageErrorf("--environment %q: give development, preview or production", environment)
			}
			if gitBranch != "" && environment != api.TargetPreview {
				return usageErrorf("--git-branch applies to the preview environment only, not %s", environment)
			}
			path := ".env"
			if len(args) == 1 {
				path = args[0]
			}
			if err := checkOverwrite(path, overwrite); err != nil {
				return err
			}
			c, err := con.connect(cmd)
			if err != nil {
				return err
			}
			p, err := onlyProject(cmd.Context(), c, project)
			if err != nil {
				return err
			}
			vars, err := c.PullEnv(cmd.Context(), p.ID, environment, gitBranch)
			if err != nil {
				return err
			}
			keys := slices.Sorted(maps.Keys(vars))
			var text strings.Builder
			fmt.Fprintf(&text, "%s: project %s, environment %s", pulledHeader, p.Name, environment)
			if gitBranch != "" {
				fmt.Fprintf(&text, ", git branch %s", gitBranch)
			}
			text.WriteString(". It holds secrets: keep it out of version control.\n")
			for _, key := range keys {
				fmt.Fprintf(&text, "%s=%s\n", key, dotenvQuote(vars[key]))
				if strings.Contains(vars[key], "${") {
					_, _ = fmt.Fprintf(con.stderr, "ferry: warning: the value of %s holds ${, which python-dotenv expands: load the file with interpolate=False to read it exactly\n", key)
				}
			}
			if err := writeFileAtomic(path, []byte(text.String())); err != nil {
				return fmt.Errorf("write %s: %w", path, err)
			}
			_, err = fmt.Fprintf(con.stdout, "wrote %d variables of %s (%s) to %s\n", len(keys), p.Name, environment, path)
			return err
		},
	}
	cmd.Flags().StringVar(&environment, "environment", api.TargetDevelopment, "development, preview or production")
	cmd.Flags().StringVar(&project, "project", "", "the project (name or id); needed when the engine has more than one")
	cmd.Flags().StringVar(&gitBranch, "git-branch", "", "for preview: the variables of this branch too, over the general ones")
	cmd.Flags().BoolVar(&overwrite, "yes", false, "overwrite a file that ferry env pull did not write")
	_ = cmd.RegisterFlagCompletionFunc("environment", cobra.FixedCompletions([]cobra.Completion{api.TargetDevelopment, api.TargetPreview, api.TargetProduction}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("project", completeProjects(con))
	return cmd
}

// checkOverwrite refuses to replace a file that ferry env pull did not write, unless told to.
func checkOverwrite(path string, overwrite bool) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) || overwrite {
		return nil
	}
	if err != nil {
		return err
	}
	defer func() { _ = f.Close() }() // only read
	first, _ := bufio.NewReader(f).ReadString('\n')
	if !strings.HasPrefix(first, pulledHeader) {
		return fmt.Errorf("%s exists and was not written by ferry env pull: nothing written; give --yes to overwrite it, or another file name", path)
	}
	return nil
}

// onlyProject is the project named by ref, or the engine's only project when ref is "".
func onlyProject(ctx context.Context, c *client.Client, ref string) (*api.Project, error) {
	if ref != "" {
		return c.GetProject(ctx, ref)
	}
	projects, err := c.ListProjects(ctx)
	if err != nil {
		return nil, err
	}
	if len(projects) == 1 {
		return &projects[0], nil
	}
	var names []string
	for _, p := range projects {
		names = append(names, p.Name)
	}
	if len(names) == 0 {
		return nil, errors.New("the engine has no project yet")
	}
	return nil, usageErrorf("the engine has %d projects (%s): name one with --project", len(names), strings.Join(names, ", "))
}

// dotenvQuote writes value in single quotes, which python-dotenv reads back exactly: inside
// them it knows only the escapes \\ and \', and a value may span lines.
func dotenvQuote(value string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(value) + "'"
}
