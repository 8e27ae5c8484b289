package validators

import (
	"strings"
	"testing"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
)

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
	if p := api.EnvKeyProblem("API\x00KEY"); !strings.HasPrefix(p, "The key contains a NUL byte") {
		t.Errorf("key with NUL: %q", p)
	}
}
