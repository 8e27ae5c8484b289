package validators

import (
	"strings"
	"testing"
)

func TestCheckProjectName(t *testing.T) {
	for _, ok := range []string{"a", "hello", "my-flask-app", "app2", "0", strings.Repeat("a", 52)} {
		if p := checkProjectName(ok); p != "" {
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
		if p := checkProjectName(name); !strings.Contains(p, want) {
			t.Errorf("%q: %q does not say %q", name, p, want)
		}
	}
}

func TestCheckEnvKey(t *testing.T) {
	for _, ok := range []string{"A", "_x", "API_KEY", "greeting2", "VERCELX", "FERRYBOAT", "PATHS"} {
		if p := checkEnvKey(ok); p != "" {
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
		if p := checkEnvKey(key); !strings.Contains(p, want) {
			t.Errorf("%q: %q does not say %q", key, p, want)
		}
	}
}

func TestCheckRootDirectory(t *testing.T) {
	for _, ok := range []string{".", "api", "services/web", ".hidden"} {
		if p := checkRootDirectory(ok); p != "" {
			t.Errorf("%q: %s", ok, p)
		}
	}
	for dir, want := range map[string]string{
		"":        "empty",
		"/srv":    "absolute",
		"..":      "leaves",
		"../x":    "leaves",
		"a/../..": "leaves",
		"./api":   `as "api"`,
		"api/":    `as "api"`,
		`a\b`:     `"/"`,
	} {
		if p := checkRootDirectory(dir); !strings.Contains(p, want) {
			t.Errorf("%q: %q does not say %q", dir, p, want)
		}
	}
}

func envValueCheck(t *testing.T) func(string) string {
	t.Helper()
	v, ok := EnvValue().(stringCheck)
	if !ok {
		t.Fatalf("EnvValue() is a %T", EnvValue())
	}
	return v.check
}

func TestEnvValueLimit(t *testing.T) {
	check := envValueCheck(t)
	if p := check(strings.Repeat("x", MaxEnvValueBytes)); p != "" {
		t.Error(p)
	}
	if p := check(strings.Repeat("s", MaxEnvValueBytes+1)); !strings.Contains(p, "65537 bytes") || strings.Contains(p, "sss") {
		t.Errorf("%q", p)
	}
}

func TestEnvNUL(t *testing.T) {
	value := envValueCheck(t)
	if p := value("s3c\x00ret"); !strings.Contains(p, "NUL byte") || strings.Contains(p, "s3c") {
		t.Errorf("value with NUL: %q", p)
	}
	if p := checkEnvKey("API\x00KEY"); !strings.HasPrefix(p, "The key contains a NUL byte") {
		t.Errorf("key with NUL: %q", p)
	}
}
