package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/ferryhq/terraform-provider-ferry/internal/client"
	"github.com/ferryhq/terraform-provider-ferry/internal/launcher"
	"github.com/ferryhq/terraform-provider-ferry/internal/version"
)

// The commands of this file act on the engine of a data dir, on this machine.

func newServeCommand(con *console) *cobra.Command {
	return &cobra.Command{
		Use:   "serve [flags]",
		Short: "Run the engine in the foreground (see `ferry serve --help` for its flags)",
		// serve keeps its own flag parsing, so that the command line the launcher and
		// existing service files pass it means what it always meant.
		DisableFlagParsing: true,
		RunE: func(_ *cobra.Command, args []string) error {
			err := serve(args, con.stderr)
			if errors.Is(err, flag.ErrHelp) {
				return &exitError{code: ExitUsage, err: errors.New("the flags of ferry serve are above")}
			}
			return err
		},
	}
}

func newStatusCommand(con *console) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show the engine of a data dir, as JSON",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			e, err := launcher.Find(cmd.Context(), con.dataDir)
			if err != nil {
				return err
			}
			return con.printJSON(e.Health)
		},
	}
}

func newStopCommand(con *console) *cobra.Command {
	return &cobra.Command{
		Use:   "stop",
		Short: "Stop the engine of a data dir",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return stop(cmd.Context(), con)
		},
	}
}

func stop(ctx context.Context, con *console) error {
	e, err := launcher.Find(ctx, con.dataDir)
	if errors.Is(err, launcher.ErrNotRunning) {
		_, err := fmt.Fprintln(con.stdout, "no engine is running on", con.dataDir)
		return err
	}
	if err != nil {
		return err
	}
	c, err := client.New(client.Config{Endpoint: "unix://" + e.SocketPath, UserAgent: userAgent()})
	if err != nil {
		return err
	}
	if err := c.Shutdown(ctx); err != nil {
		return err
	}
	// The engine releases its socket when it has stopped.
	for i := 0; i < 200; i++ {
		if _, err := os.Stat(e.SocketPath); errors.Is(err, os.ErrNotExist) {
			_, err := fmt.Fprintf(con.stdout, "stopped the engine of %s (pid %d)\n", e.Health.DataDir, e.Health.PID)
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("the engine (pid %d) did not stop within 10s", e.Health.PID)
}

func newUpgradeCommand(con *console) *cobra.Command {
	return &cobra.Command{
		Use:   "upgrade",
		Short: "Replace the engine of a data dir by this version, in place, without downtime",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			e, err := launcher.Upgrade(cmd.Context(), launcher.Options{DataDir: con.dataDir, Version: version.String()})
			if err != nil {
				return err
			}
			if e.Replaced == nil {
				_, err = fmt.Fprintf(con.stdout, "the engine of %s (pid %d) runs version %s: nothing to upgrade to %s\n", e.Health.DataDir, e.Health.PID, e.Health.Version, version.String())
				return err
			}
			_, err = fmt.Fprintf(con.stdout, "upgraded the engine of %s from version %s (pid %d) to %s (pid %d)\n",
				e.Health.DataDir, e.Replaced.Version, e.Replaced.PID, e.Health.Version, e.Health.PID)
			return err
		},
	}
}

func newBackupCommand(con *console) *cobra.Command {
	return &cobra.Command{
		Use:   "backup FILE",
		Short: "Copy the engine's store, key, uploads and deployments to FILE (a .tar.gz), online",
		Args:  exactArgs(1, "one file, the backup (a .tar.gz)"),
		RunE: func(_ *cobra.Command, args []string) error {
			return backup(con.dataDir, args[0], con.stdout)
		},
	}
}

func newRestoreCommand(con *console) *cobra.Command {
	return &cobra.Command{
		Use:   "restore FILE",
		Short: "Restore a backup into a new data dir",
		Args:  exactArgs(1, "one file, the backup (a .tar.gz)"),
		RunE: func(_ *cobra.Command, args []string) error {
			return restore(con.dataDir, args[0], con.stdout)
		},
	}
}

func newCACommand(con *console) *cobra.Command {
	return &cobra.Command{
		Use:   "ca",
		Short: "Print the local CA's certificate, for browsers and curl to trust",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(_ *cobra.Command, _ []string) error {
			return printCA(con.dataDir, con.stdout)
		},
	}
}

func newVersionCommand(con *console) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(_ *cobra.Command, _ []string) error {
			_, err := fmt.Fprintln(con.stdout, "ferry", version.String())
			return err
		},
	}
}

func userAgent() string { return "ferry/" + version.String() }

// printJSON writes v as indented JSON, for scripts.
func (con *console) printJSON(v any) error {
	enc := json.NewEncoder(con.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
