package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/ferryhq/terraform-provider-ferry/internal/client"
	"github.com/ferryhq/terraform-provider-ferry/internal/launcher"
	"github.com/ferryhq/terraform-provider-ferry/internal/version"
)

// logs prints a deployment's build log; with -f it follows the log until the build ends.
func logs(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("logs", flag.ContinueOnError)
	connect := engineFlags(fs)
	follow := fs.Bool("f", false, "follow the log until the build has ended")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("give one deployment id, such as `ferry logs dpl_0123456789abcdef01234567` (ferry_deployment's id)")
	}
	id := fs.Arg(0)
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt)
	defer cancel()
	c, err := connect(ctx)
	if err != nil {
		return err
	}
	if *follow {
		return c.FollowDeploymentLog(ctx, id, stdout)
	}
	text, err := c.DeploymentLog(ctx, id)
	if err != nil {
		return err
	}
	_, err = io.WriteString(stdout, text)
	return err
}

// engineFlags adds the flags that choose an engine: a remote one by --endpoint (and
// FERRY_TOKEN), else the one running on --data-dir. It returns how to reach it.
func engineFlags(fs *flag.FlagSet) func(context.Context) (*client.Client, error) {
	dataDir := dataDirFlag(fs)
	endpoint := fs.String("endpoint", os.Getenv("FERRY_ENDPOINT"), "URL of a remote engine, with its token in FERRY_TOKEN (FERRY_ENDPOINT); default: the engine of --data-dir")
	return func(ctx context.Context) (*client.Client, error) {
		cfg := client.Config{Endpoint: *endpoint, Token: os.Getenv("FERRY_TOKEN"), UserAgent: "ferry/" + version.String()}
		if cfg.Endpoint == "" {
			e, err := launcher.Find(ctx, *dataDir)
			if err != nil {
				return nil, fmt.Errorf("%w (or give --endpoint for a remote engine)", err)
			}
			cfg.Endpoint, cfg.Token = "unix://"+e.SocketPath, ""
		}
		return client.New(cfg)
	}
}
