package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/client"
	"github.com/ferryhq/terraform-provider-ferry/internal/launcher"
	"github.com/ferryhq/terraform-provider-ferry/internal/version"
)

func dashboardCommand(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("dashboard", flag.ContinueOnError)
	dataDir := dataDirFlag(fs)
	noBrowser := fs.Bool("no-browser", false, "only print the link, do not open a browser")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("dashboard takes no arguments (got %q): a remote engine's dashboard is at its API address, opened in a browser", fs.Args())
	}
	return openDashboard(context.Background(), *dataDir, !*noBrowser, stdout)
}

// openDashboard asks the engine of dataDir, over its unix socket, for a one-time login link to
// its dashboard, prints it, and opens it in a browser when asked and one is at hand.
func openDashboard(ctx context.Context, dataDir string, browser bool, stdout io.Writer) error {
	e, err := launcher.Find(ctx, dataDir)
	if errors.Is(err, launcher.ErrNotRunning) {
		return fmt.Errorf("%w: start it with `ferry serve` (or a terraform apply with the ferry provider), then run `ferry dashboard` again", err)
	}
	if err != nil {
		return err
	}
	c, err := client.New(client.Config{Endpoint: "unix://" + e.SocketPath, UserAgent: "ferry/" + version.String()})
	if err != nil {
		return err
	}
	link, err := c.DashboardLoginLink(ctx)
	if client.IsNotFound(err) {
		return fmt.Errorf("the engine of %s (version %s) has no dashboard: upgrade it with `ferry upgrade`", e.Health.DataDir, e.Health.Version)
	}
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(stdout, "dashboard login link (works once, until %s):\n%s\n", link.ExpiresAt.Local().Format(time.Kitchen), link.URL); err != nil {
		return err
	}
	if browser {
		if opener := browserOpener(); opener != "" {
			// The browser outlives this command; its failure to start leaves the printed link.
			if err := exec.Command(opener, link.URL).Start(); err == nil {
				_, err = fmt.Fprintln(stdout, "opened in your browser")
				return err
			}
		}
	}
	return nil
}

// browserOpener is the command that opens a URL in the user's browser, or "" when there is
// none (no desktop session: the link is only printed).
func browserOpener() string {
	name := "xdg-open"
	switch runtime.GOOS {
	case "darwin":
		name = "open"
	case "linux", "freebsd", "openbsd", "netbsd":
		if os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
			return ""
		}
	default:
		return ""
	}
	if _, err := exec.LookPath(name); err != nil {
		return ""
	}
	return name
}
