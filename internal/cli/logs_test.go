//go:build !windows

package cli

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/client"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine"
)

// TestLogsPrintsAndFollowsABuildLog deploys an app whose build command prints a marker, then
// reads its build log with `ferry logs` and `ferry logs -f`, found through the data dir.
func TestLogsPrintsAndFollowsABuildLog(t *testing.T) {
	dataDir, err := os.MkdirTemp("", "ferry-cli") //nolint:usetesting // apps' uids must pass through it; short for the socket path
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = os.RemoveAll(dataDir) }()
	ctx, cancel := context.WithCancel(context.Background())
	e, err := engine.Start(ctx, engine.Config{DataDir: dataDir, HTTPAddress: "127.0.0.1:0", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		cancel()
		_ = e.Shutdown(context.Background())
	}()
	c, err := client.New(client.Config{Endpoint: "unix://" + filepath.Join(dataDir, api.SocketName)})
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.CreateProject(ctx, api.ProjectRequest{Name: "logs"})
	if err != nil {
		t.Fatal(err)
	}
	src := t.TempDir()
	for name, text := range map[string]string{
		"index.py":    "from http.server import BaseHTTPRequestHandler\nclass handler(BaseHTTPRequestHandler):\n    pass\n",
		"vercel.json": `{"buildCommand": "echo marker-from-the-build"}`,
	} {
		if err := os.WriteFile(filepath.Join(src, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	d, err := c.Deploy(ctx, p.ID, src, true)
	if err != nil {
		t.Fatal(err)
	}
	var followed, stderr bytes.Buffer
	if code := run([]string{"logs", "--data-dir", dataDir, "--build", "-f", d.ID}, &followed, &stderr); code != 0 {
		t.Fatalf("ferry logs -f: exit %d, %s", code, stderr.String())
	}
	if !strings.Contains(followed.String(), "marker-from-the-build") {
		t.Errorf("the followed log lacks the build's output:\n%s", followed.String())
	}
	waitCtx, stopWaiting := context.WithTimeout(ctx, 2*time.Minute)
	defer stopWaiting()
	if done, err := c.WaitDeployment(waitCtx, d.ID, 0); err != nil || done.State != api.StateReady {
		t.Fatalf("the deployment: %+v, %v", done, err)
	}
	var printed bytes.Buffer
	if code := run([]string{"logs", "--data-dir", dataDir, "--build", d.ID}, &printed, &stderr); code != 0 || printed.String() != followed.String() {
		t.Errorf("ferry logs: exit %d, %q; want what -f printed, %q", code, printed.String(), followed.String())
	}

	for _, bad := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"logs", "--data-dir", dataDir}, ExitUsage, "one deployment id"},
		{[]string{"logs", "--data-dir", dataDir, "dpl_nosuchdeploymentaaaaaa"}, ExitNotFound, "does not exist"},
		{[]string{"logs", "--data-dir", t.TempDir(), d.ID}, ExitFailure, "--endpoint"},
	} {
		stderr.Reset()
		if code := run(bad.args, io.Discard, &stderr); code != bad.code || !strings.Contains(stderr.String(), bad.want) {
			t.Errorf("ferry %v: exit %d, %q; want %d and %q", bad.args, code, stderr.String(), bad.code, bad.want)
		}
	}
}
