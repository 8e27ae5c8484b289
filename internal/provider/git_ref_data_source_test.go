package provider

import (
	"testing"
)

// The data source is tested with a real engine and repository in TestAccDeploymentFromGit (a
// push read at plan replaces production) and TestAccDeploymentGitErrors (an unreachable URL).
func TestEngineGitURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://github.com/acme/a.git": "https://github.com/acme/a.git",
		"git@github.com:acme/a.git":     "git@github.com:acme/a.git",
		"file:///srv/repos/a":           "file:///srv/repos/a",
		"/srv/repos/a":                  "/srv/repos/a",
		"":                              "",
	} {
		if got := engineGitURL(in); got != want {
			t.Errorf("engineGitURL(%q) = %q, want %q", in, got, want)
		}
	}
	t.Chdir(t.TempDir())
	if got := engineGitURL("repos/a"); got[0] != '/' || got[len(got)-8:] != "/repos/a" {
		t.Errorf("a relative path is sent as %q, want it absolute", got)
	}
}
