// Package cli is the command line of ferry: the `ferry` binary, and the
// `serve` subcommand of the provider binary that runs the engine.
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/client"
	"github.com/ferryhq/terraform-provider-ferry/internal/launcher"
	"github.com/ferryhq/terraform-provider-ferry/internal/version"
)

const usage = `ferry deploys Python web apps on a self-hosted engine.

Usage:
  ferry serve   [--data-dir DIR] [--http-address ADDR] [--https-address ADDR|off] [--python PATH] [--extra-pythons PATH,...]
                [--api-address ADDR --token-file FILE]
                [--max-deployment-size SIZE] [--max-deployment-files N]
                [--build-workers N] [--build-timeout DURATION] [--max-queued-builds N] [--node-id NAME]
                [--git-timeout DURATION]
                [--take-over]
                [--base-domain NAME] [--public-address IP,...] [--public-http-port N] [--public-https-port N] [--dns-resolvers HOST:PORT,...]
                [--acme-directory URL] [--acme-email ADDRESS] [--acme-ca-roots FILE] [--hsts DURATION]
                run the engine in the foreground
  ferry ca      [--data-dir DIR]   print the local CA's certificate, for browsers and curl to trust
  ferry logs    [--data-dir DIR | --endpoint URL] [-f] DEPLOYMENT
                                   print a deployment's build log; -f follows it until the build ends
  ferry status  [--data-dir DIR]   show the engine of a data dir
  ferry dashboard [--data-dir DIR] [--no-browser]
                                   open the engine's web dashboard with a one-time login link
  ferry stop    [--data-dir DIR]   stop the engine of a data dir
  ferry upgrade [--data-dir DIR]   replace the engine of a data dir by this version, in place, without downtime
  ferry backup  [--data-dir DIR] FILE
                                   copy the engine's store, key, uploads and deployments to FILE (a .tar.gz), online
  ferry restore [--data-dir DIR] FILE
                                   restore a backup into a new data dir
  ferry version                    print the version

Settings also come from FERRY_DATA_DIR, FERRY_HTTP_ADDRESS, FERRY_HTTPS_ADDRESS, FERRY_PYTHON, FERRY_API_ADDRESS,
FERRY_EXTRA_PYTHONS, FERRY_TOKEN, FERRY_BUILD_WORKERS, FERRY_BUILD_TIMEOUT, FERRY_MAX_QUEUED_BUILDS, FERRY_GIT_TIMEOUT, FERRY_NODE_ID, FERRY_PUBLIC_ADDRESS,
FERRY_PUBLIC_HTTP_PORT, FERRY_PUBLIC_HTTPS_PORT, FERRY_DNS_RESOLVERS, FERRY_ACME_DIRECTORY, FERRY_ACME_EMAIL, FERRY_ACME_CA_ROOTS, FERRY_HSTS.
`

// Run runs the command in args (args[0] is the subcommand) and returns the
// process exit code.
func Run(args []string) int {
	return run(args, os.Stdout, os.Stderr)
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		_, _ = fmt.Fprint(stderr, usage) // nowhere left to report a failed write
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = serve(args[1:], stderr)
	case "status":
		err = status(args[1:], stdout)
	case "logs":
		err = logs(args[1:], stdout)
	case "ca":
		err = printCA(args[1:], stdout)
	case "dashboard":
		err = dashboardCommand(args[1:], stdout)
	case "stop":
		err = stop(args[1:], stdout)
	case "upgrade":
		err = upgrade(args[1:], stdout)
	case "backup":
		err = backup(args[1:], stdout)
	case "restore":
		err = restore(args[1:], stdout)
	case "version", "--version":
		_, err = fmt.Fprintln(stdout, "ferry", version.String())
	case "help", "-h", "--help":
		_, err = fmt.Fprint(stdout, usage)
	default:
		_, _ = fmt.Fprintf(stderr, "ferry: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	if errors.Is(err, flag.ErrHelp) {
		return 2
	}
	if err != nil {
		_, _ = fmt.Fprintln(stderr, "ferry:", err)
		return 1
	}
	return 0
}

func dataDirFlag(fs *flag.FlagSet) *string {
	def := os.Getenv("FERRY_DATA_DIR")
	if def == "" {
		def, _ = launcher.DefaultDataDir()
	}
	return fs.String("data-dir", def, "data dir of the engine (FERRY_DATA_DIR)")
}

func status(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	dataDir := dataDirFlag(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	e, err := launcher.Find(context.Background(), *dataDir)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(e.Health)
}

func stop(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("stop", flag.ContinueOnError)
	dataDir := dataDirFlag(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx := context.Background()
	e, err := launcher.Find(ctx, *dataDir)
	if errors.Is(err, launcher.ErrNotRunning) {
		_, err := fmt.Fprintln(stdout, "no engine is running on", *dataDir)
		return err
	}
	if err != nil {
		return err
	}
	c, err := client.New(client.Config{Endpoint: "unix://" + e.SocketPath, UserAgent: "ferry/" + version.String()})
	if err != nil {
		return err
	}
	if err := c.Shutdown(ctx); err != nil {
		return err
	}
	// The engine releases its socket when it has stopped.
	for i := 0; i < 200; i++ {
		if _, err := os.Stat(e.SocketPath); errors.Is(err, os.ErrNotExist) {
			_, err := fmt.Fprintf(stdout, "stopped the engine of %s (pid %d)\n", e.Health.DataDir, e.Health.PID)
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("the engine (pid %d) did not stop within 10s", e.Health.PID)
}

func upgrade(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("upgrade", flag.ContinueOnError)
	dataDir := dataDirFlag(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	e, err := launcher.Upgrade(context.Background(), launcher.Options{DataDir: *dataDir, Version: version.String()})
	if err != nil {
		return err
	}
	if e.Replaced == nil {
		_, err = fmt.Fprintf(stdout, "the engine of %s (pid %d) runs version %s: nothing to upgrade to %s\n", e.Health.DataDir, e.Health.PID, e.Health.Version, version.String())
		return err
	}
	_, err = fmt.Fprintf(stdout, "upgraded the engine of %s from version %s (pid %d) to %s (pid %d)\n",
		e.Health.DataDir, e.Replaced.Version, e.Replaced.PID, e.Health.Version, e.Health.PID)
	return err
}
