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
	for _, ok := range []string{"", "main", "feature/login", "release-1.2", "dependabot/pip/flask-3.0"} {
		if p := GitBranchProblem(ok); p != "" {
			t.Errorf("%q: %s", ok, p)
		}
	}
	for _, bad := range []string{"-x", "a..b", "a b", "a~1", "x.lock", "/x", "x/", "a//b", "a@{1}", "a:b", "a\x00b", "x."} {
		if p := GitBranchProblem(bad); p == "" {
			t.Errorf("%q accepted", bad)
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
