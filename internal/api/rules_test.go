package api

import (
	"strings"
	"testing"
)

func TestProjectNameProblem(t *testing.T) {
	for _, ok := range []string{"a", "hello", "my-flask-app", "app2", "0", strings.Repeat("a", 52)} {
		if p := ProjectNameProblem(ok); p != "" {
			t.Errorf("%q: %s", ok, p)
		}
	}
	for name, want := range map[string]string{
		"":                      "empty",
		"-app":                  "hyphen",
		"app-":                  "hyphen",
		"my--app":               "two hyphens in a row",
		"My-App":                `Did you mean "my-app"?`,
		"my_app":                `'_'`,
		"app.example":           `'.'`,
		strings.Repeat("a", 53): "53 characters",
	} {
		if p := ProjectNameProblem(name); !strings.Contains(p, want) {
			t.Errorf("%q: %q does not say %q", name, p, want)
		}
	}
}

func TestEnvKeyProblem(t *testing.T) {
	for _, ok := range []string{"A", "_x", "API_KEY", "greeting2", "VERCELX", "FERRYBOAT", "PATHS"} {
		if p := EnvKeyProblem(ok); p != "" {
			t.Errorf("%q: %s", ok, p)
		}
	}
	for key, want := range map[string]string{
		"":           "not a valid",
		"1ABC":       "not a valid",
		"API-KEY":    "not a valid",
		"A B":        "not a valid",
		"FERRY_X":    "reserved",
		"VERCEL_ENV": "reserved",
		"vercel_env": "reserved",
		"Ferry_X":    "reserved",
		"PATH":       "reserved",
		"path":       "reserved",
		"VERCEL":     "reserved",
		"PYTHONHOME": "reserved",
	} {
		if p := EnvKeyProblem(key); !strings.Contains(p, want) {
			t.Errorf("%q: %q does not say %q", key, p, want)
		}
	}
}

func TestGitBranchProblem(t *testing.T) {
	for _, ok := range []string{"", "main", "feature/login", "release-1.2", "Dev_2", "a.b", "dependabot/pip/flask-3.0"} {
		if p := GitBranchProblem(ok); p != "" {
			t.Errorf("GitBranchProblem(%q) = %q, want none", ok, p)
		}
	}
	for _, bad := range []string{"a b", "a..b", "a~1", "x^", "a:b", "a?", "a*", "a[b", "a\\b", "/a", "a/", "a//b", ".a", "a/.b", "a.", "a.lock", "-a", "@", "a@{1}", "a\tb", "a\x00b", strings.Repeat("b", 256)} {
		if GitBranchProblem(bad) == "" {
			t.Errorf("GitBranchProblem(%q) found nothing wrong", bad)
		}
	}
}

func TestGitCommitProblem(t *testing.T) {
	if p := GitCommitProblem("0123456789abcdef0123456789abcdef01234567"); p != "" {
		t.Errorf("a full sha: %s", p)
	}
	for _, bad := range []string{"", "0123456", "0123456789ABCDEF0123456789ABCDEF01234567", "0123456789abcdef0123456789abcdef0123456g", "main"} {
		if GitCommitProblem(bad) == "" {
			t.Errorf("GitCommitProblem(%q) found nothing wrong", bad)
		}
	}
}

func TestEnvTargetsProblem(t *testing.T) {
	for targets, want := range map[string]string{
		"":                   "no target",
		"staging":            `"staging" is not one of`,
		"preview,preview":    `"preview" is listed twice`,
		"production,preview": "",
	} {
		var list []string
		if targets != "" {
			list = strings.Split(targets, ",")
		}
		if p := EnvTargetsProblem(list); (want == "" && p != "") || !strings.Contains(p, want) {
			t.Errorf("%q: %q, want %q", targets, p, want)
		}
	}
}
