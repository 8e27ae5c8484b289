package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
)

func TestCommandLineErrorsAreUsageErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{nil, ExitUsage, "Available Commands"},
		{[]string{"bogus"}, ExitUsage, `unknown command "bogus"`},
		{[]string{"projects", "--bogus"}, ExitUsage, "unknown flag: --bogus"},
		{[]string{"inspect"}, ExitUsage, "takes one deployment id"},
		{[]string{"deployments", "a", "b"}, ExitUsage, "takes at most one project"},
		{[]string{"env"}, ExitUsage, "give a subcommand"},
		{[]string{"serve", "--bogus"}, ExitUsage, "flag provided but not defined: -bogus"},
		{[]string{"serve", "--max-queue", "0"}, ExitFailure, "--max-queue 0: give at least 1"},
		{[]string{"login", "ftp://example.com"}, ExitUsage, "not an http:// or https:// URL"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(c.args, &stdout, &stderr)
		if code != c.code || !strings.Contains(stderr.String(), c.want) {
			t.Errorf("ferry %v: exit %d, %s%s; want exit %d and %q", c.args, code, stdout.String(), stderr.String(), c.code, c.want)
		}
	}
}

func TestVersionAndCompletion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		var stdout bytes.Buffer
		if code := run(args, &stdout, &stdout); code != 0 || !strings.HasPrefix(stdout.String(), "ferry ") {
			t.Errorf("ferry %v: exit %d, %q", args, code, stdout.String())
		}
	}
	for shell, want := range map[string]string{"bash": "complete -o default -F __start_ferry ferry", "zsh": "#compdef ferry", "fish": "complete -c ferry"} {
		var stdout, stderr bytes.Buffer
		if code := run([]string{"completion", shell}, &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), want) {
			t.Errorf("ferry completion %s: exit %d, %s; want %q in the script", shell, code, stderr.String(), want)
		}
	}
}

// The progress display redraws one line on a terminal: state, time and the build log's last line.
func TestBuildProgressOnATerminal(t *testing.T) {
	var out bytes.Buffer
	p := &buildProgress{out: &out, terminal: true, width: 40}
	_, _ = p.Write([]byte("first line\nrunning pip install -r requirements.txt and more words\npart"))
	p.show(api.StateBuilding, 3*time.Second)
	want := "\r\x1b[KBUILDING    3s  running pip install -r " // cut to the width
	if out.String() != want {
		t.Errorf("drawn %q, want %q", out.String(), want)
	}
	out.Reset()
	p.finish(&api.Deployment{ID: "dpl_1", State: api.StateReady, URL: "http://a.localhost", Target: "preview"}, 1500*time.Millisecond)
	if out.String() != "\r\x1b[Kdpl_1 READY in 1.5s: http://a.localhost (preview)\n" {
		t.Errorf("final line %q", out.String())
	}
}
