//go:build !windows

package cli

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine"
)

// TestDashboardPrintsALoginLinkThatWorksOnce runs `ferry dashboard --no-browser` against an
// engine found through its data dir, and follows the link it prints twice.
func TestDashboardPrintsALoginLinkThatWorksOnce(t *testing.T) {
	dataDir, err := os.MkdirTemp("", "ferry-cli") //nolint:usetesting // short for the socket path
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = os.RemoveAll(dataDir) }()
	e, err := engine.Start(context.Background(), engine.Config{DataDir: dataDir, HTTPAddress: "127.0.0.1:0", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = e.Shutdown(context.Background()) }()

	var stdout, stderr bytes.Buffer
	if code := run([]string{"dashboard", "--data-dir", dataDir, "--no-browser"}, &stdout, &stderr); code != 0 {
		t.Fatalf("ferry dashboard exited %d: %s", code, stderr.String())
	}
	var link string
	for _, line := range strings.Split(stdout.String(), "\n") {
		if strings.HasPrefix(line, "http://ferry.localhost:") {
			link = line
		}
	}
	if link == "" {
		t.Fatalf("no link on ferry.localhost in:\n%s", stdout.String())
	}
	// The edge serves the dashboard by its host name; dial the address the link names.
	follow := func() (int, string) {
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		req, err := http.NewRequest("GET", strings.Replace(link, "ferry.localhost", "127.0.0.1", 1), nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Host = strings.Split(strings.TrimPrefix(link, "http://"), "/")[0]
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if status, _ := follow(); status != http.StatusSeeOther {
		t.Fatalf("the link answered %d, want a redirect into the dashboard", status)
	}
	if status, body := follow(); status != http.StatusUnauthorized || !strings.Contains(body, "used up") {
		t.Fatalf("the link used a second time answered %d:\n%s", status, body)
	}
}
