package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/ferryhq/terraform-provider-ferry/internal/client"
)

func newLoginCommand(con *console) *cobra.Command {
	var token string
	var tokenFromStdin bool
	cmd := &cobra.Command{
		Use:   "login ENDPOINT",
		Short: "Save a remote engine's endpoint and token for the console commands",
		Long: `Save a remote engine's endpoint and token, in a file only you can read ($XDG_CONFIG_HOME/ferry/config.json,
or FERRY_CONFIG), for the console commands to use. The token is read from the terminal without echo, or
from stdin (--token-stdin, for scripts): never pass it as an argument that shell history keeps, unless
you mean to (--token). It is checked against the engine before it is saved. The embedded engine of a
data dir needs no login.`,
		Example: "  ferry login https://ferry.example.com:8443\n  echo \"$TOKEN\" | ferry login --token-stdin https://ferry.example.com:8443",
		Args:    exactArgs(1, "the engine's endpoint, such as https://ferry.example.com:8443"),
		RunE: func(cmd *cobra.Command, args []string) error {
			endpoint := strings.TrimRight(args[0], "/")
			if !strings.HasPrefix(endpoint, "http://") && !strings.HasPrefix(endpoint, "https://") {
				return usageErrorf("endpoint %q is not an http:// or https:// URL: give the engine's API address, such as https://ferry.example.com:8443", args[0])
			}
			if !cmd.Flags().Changed("token") {
				var err error
				if token, err = con.readToken(endpoint, tokenFromStdin); err != nil {
					return err
				}
			}
			if token == "" {
				return usageErrorf("the token is empty: give the engine's token (its --token-file, or FERRY_TOKEN of its ferry serve)")
			}
			c, err := client.New(client.Config{Endpoint: endpoint, Token: token, UserAgent: userAgent(), RetryMax: 1})
			if err != nil {
				return usageErrorf("%v", err)
			}
			if _, err := c.ListProjects(cmd.Context()); err != nil {
				return fmt.Errorf("nothing saved: %w", err)
			}
			path, err := saveLogin(login{Endpoint: endpoint, Token: token})
			if err != nil {
				return fmt.Errorf("save the login: %w", err)
			}
			_, err = fmt.Fprintf(con.stdout, "logged in to %s; the token is kept in %s (mode 0600)\n", endpoint, path)
			return err
		},
	}
	cmd.Flags().BoolVar(&tokenFromStdin, "token-stdin", false, "read the token from stdin, without a prompt")
	cmd.Flags().StringVar(&token, "token", "", "the token itself (it lands in shell history: prefer the prompt or --token-stdin)")
	return cmd
}

// readToken reads the token: from the terminal without echo, else from stdin's first line.
func (con *console) readToken(endpoint string, fromStdin bool) (string, error) {
	if f, ok := con.stdin.(*os.File); ok && !fromStdin && term.IsTerminal(int(f.Fd())) {
		_, _ = fmt.Fprintf(con.stderr, "token of %s: ", endpoint) // the prompt only
		secret, err := term.ReadPassword(int(f.Fd()))
		_, _ = fmt.Fprintln(con.stderr)
		return strings.TrimSpace(string(secret)), err
	}
	line, err := bufio.NewReader(con.stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read the token from stdin: %w", err)
	}
	return strings.TrimSpace(line), nil
}

func newLogoutCommand(con *console) *cobra.Command {
	return &cobra.Command{
		Use:   "logout",
		Short: "Forget the saved endpoint and token",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(_ *cobra.Command, _ []string) error {
			path, err := configPath()
			if err != nil {
				return err
			}
			saved, _ := loadLogin() // a broken file is removed all the same
			if err := os.Remove(path); errors.Is(err, os.ErrNotExist) {
				_, err := fmt.Fprintln(con.stdout, "not logged in")
				return err
			} else if err != nil {
				return err
			}
			_, err = fmt.Fprintf(con.stdout, "logged out of %s (removed %s)\n", saved.Endpoint, path)
			return err
		},
	}
}
