// Package cli is the command line of ferry: the `ferry` binary, and the
// `serve` subcommand of the provider binary that runs the engine.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ferryhq/terraform-provider-ferry/internal/version"
)

// Exit codes of every command, for scripts.
const (
	ExitOK           = 0 // done
	ExitFailure      = 1 // the command ran and failed: the engine refused, a build failed, a file could not be written
	ExitUsage        = 2 // the command line is wrong: unknown command or flag, missing or extra arguments
	ExitUnauthorized = 3 // the engine refused the token: log in again (ferry login) or fix FERRY_TOKEN
	ExitNotFound     = 4 // the deployment or project named does not exist
)

const exitCodesHelp = `Exit codes: 0 ok; 1 failure; 2 usage error; 3 the engine refused the token (ferry login again,
or fix FERRY_TOKEN); 4 the deployment or project named does not exist.`

const connectionHelp = `Console commands reach an engine by --endpoint (FERRY_ENDPOINT, with its token in FERRY_TOKEN), else the
one saved by ferry login, else the engine running on --data-dir (FERRY_DATA_DIR). An explicit --data-dir
wins over a saved login.`

// Run runs the command in args (args[0] is the subcommand) and returns the
// process exit code.
func Run(args []string) int {
	return run(args, os.Stdout, os.Stderr)
}

func run(args []string, stdout, stderr io.Writer) int {
	return runWithInput(args, os.Stdin, stdout, stderr)
}

// runWithInput is run with stdin given, for the commands that read it (login); an interrupt
// (Ctrl-C) ends the command.
func runWithInput(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	return execute(ctx, args, stdin, stdout, stderr)
}

// execute runs the command in args until it ends or ctx does, and returns its exit code.
func execute(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	con := &console{stdin: stdin, stdout: stdout, stderr: stderr}
	root := newRootCommand(con)
	root.SetArgs(args)
	if len(args) == 0 {
		root.SetOut(stderr)
		_ = root.Help() // nowhere left to report a failed write
		return ExitUsage
	}
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	code, message := explain(err)
	_, _ = fmt.Fprintln(stderr, "ferry:", message)
	return code
}

// newRootCommand is the `ferry` command with every command of commands.go under it.
func newRootCommand(con *console) *cobra.Command {
	root := &cobra.Command{
		Use:           "ferry",
		Short:         "ferry deploys Python web apps on a self-hosted engine",
		Long:          "ferry deploys Python web apps on a self-hosted engine.\n\n" + connectionHelp + "\n\n" + exitCodesHelp,
		Version:       version.String(),
		SilenceErrors: true, // run prints them, with the exit code they map to
		SilenceUsage:  true,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageErrorf("unknown command %q: see `ferry --help`", args[0])
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cmd.Help()
		},
	}
	root.SetIn(con.stdin)
	root.SetOut(con.stdout)
	root.SetErr(con.stderr)
	root.SetVersionTemplate("ferry {{.Version}}\n")
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return usageErrorf("%v (see `%s --help`)", err, cmd.CommandPath())
	})
	con.addConnectionFlags(root)
	for _, newCommand := range commands {
		root.AddCommand(newCommand(con))
	}
	return root
}

// console is what every command shares: the process's streams and the flags that choose the engine.
type console struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	dataDir        string
	endpoint       string
}

// exitError carries the exit code of an error other than a failure.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageErrorf is an error in the command line itself: exit code 2.
func usageErrorf(format string, args ...any) error {
	return &exitError{code: ExitUsage, err: fmt.Errorf(format, args...)}
}

// explain is the exit code and message of err.
func explain(err error) (int, string) {
	var exit *exitError
	if errors.As(err, &exit) {
		return exit.code, err.Error()
	}
	if code, message, ok := explainEngineError(err); ok {
		return code, message
	}
	// cobra's own checks of the command line.
	if strings.HasPrefix(err.Error(), "unknown command") || strings.HasPrefix(err.Error(), "accepts ") ||
		strings.HasPrefix(err.Error(), "requires at least") || strings.HasPrefix(err.Error(), "invalid argument") {
		return ExitUsage, err.Error()
	}
	return ExitFailure, err.Error()
}

// exactArgs is cobra.ExactArgs with a message that says what to give, as a usage error.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usageErrorf("%s takes %s: %s", cmd.CommandPath(), what, cmd.UseLine())
		}
		return nil
	}
}

// optionalArg is cobra.MaximumNArgs(1) as a usage error.
func optionalArg(what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) > 1 {
			return usageErrorf("%s takes at most %s: %s", cmd.CommandPath(), what, cmd.UseLine())
		}
		return nil
	}
}
