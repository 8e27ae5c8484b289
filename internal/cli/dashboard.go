package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/client"
	"github.com/ferryhq/terraform-provider-ferry/internal/launcher"
	"github.com/spf13/cobra"
)

func newDashboardCommand(con *console) *cobra.Command {
	var noBrowser bool
	cmd := &cobra.Command{
		Use:   "dashboard",
		Short: "Open the engine's web dashboard with a one-time login link",
		Long: `Open the web dashboard of the engine of the data dir with a one-time login link, in a browser when there
is one (else the link is only printed). A remote engine's dashboard is at its API address, opened in a
browser, which asks for its token.`,
		Args: exactArgs(0, "no arguments (a remote engine's dashboard is at its API address, opened in a browser)"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return openDashboard(cmd.Context(), con.dataDir, !noBrowser, con.stdout)
		},
	}
	cmd.Flags().BoolVar(&noBrowser, "no-browser", false, "only print the link, do not open a browser")
	return cmd
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
	c, err := client.New(client.Config{Endpoint: "unix://" + e.SocketPath, UserAgent: userAgent()})
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
