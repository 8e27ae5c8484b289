// Package validators holds the plan-time checks of ferry's Terraform
// attributes, each mirroring a rule the engine enforces, so that bad input
// fails at plan with a message that says what to write instead.
package validators

import (
	"context"
	"fmt"
	"path"
	"regexp"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/schema/validator"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
)

// MaxProjectNameLength leaves room in a 63-byte DNS label for the
// "-<short id>" of deployment host names.
const MaxProjectNameLength = 52

// ReservedEnvPrefixes are key prefixes the engine keeps for its system
// variables (ferry's own and Vercel's names), in any letter case.
var ReservedEnvPrefixes = []string{"FERRY_", "VERCEL_"}

// reservedEnvKeys are names the engine's runtime controls itself, in any
// letter case.
var reservedEnvKeys = []string{"VERCEL", "FERRY", "PATH", "VIRTUAL_ENV", "PYTHONHOME"}

// MaxEnvValueBytes is the engine's limit on one value (Vercel's).
const MaxEnvValueBytes = api.MaxEnvValueBytes

var envKeyPattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// stringCheck adapts a function returning a problem ("" for none) to a
// validator.String. Null and unknown values are left alone.
type stringCheck struct {
	description string
	summary     string
	check       func(string) string
}

func (v stringCheck) Description(context.Context) string         { return v.description }
func (v stringCheck) MarkdownDescription(context.Context) string { return v.description }

func (v stringCheck) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if problem := v.check(req.ConfigValue.ValueString()); problem != "" {
		resp.Diagnostics.AddAttributeError(req.Path, v.summary, problem)
	}
}

// ProjectName checks that a project name is a DNS label: 1 to 52 lowercase
// letters, digits and hyphens, not starting or ending with a hyphen.
func ProjectName() validator.String {
	return stringCheck{
		description: fmt.Sprintf("must be 1 to %d lowercase letters (a-z), digits and single hyphens, and must not start or end with a hyphen", MaxProjectNameLength),
		summary:     "Invalid project name",
		check:       checkProjectName,
	}
}

func checkProjectName(name string) string {
	const rule = "A project name becomes part of its apps' host names, so it must be a DNS label: lowercase letters a-z, digits 0-9 and hyphens, not starting or ending with a hyphen."
	switch {
	case name == "":
		return "The project name is empty. " + rule
	case len(name) > MaxProjectNameLength:
		return fmt.Sprintf("The project name %q is %d characters long; at most %d are allowed (the rest of the DNS label holds the deployment id). Choose a shorter name.", name, len(name), MaxProjectNameLength)
	case strings.HasPrefix(name, "-") || strings.HasSuffix(name, "-"):
		return fmt.Sprintf("The project name %q starts or ends with a hyphen. %s", name, rule)
	case strings.Contains(name, "--"):
		return fmt.Sprintf("The project name %q has two hyphens in a row; use single hyphens. %s", name, rule)
	}
	for _, r := range name {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-' {
			hint := ""
			if lower := strings.ToLower(name); lower != name && checkProjectName(lower) == "" {
				hint = fmt.Sprintf(" Did you mean %q?", lower)
			}
			return fmt.Sprintf("The project name %q contains %q. %s%s", name, r, rule, hint)
		}
	}
	return ""
}

// EnvKey checks that an env var key is a portable shell name that the
// engine does not reserve.
func EnvKey() validator.String {
	return stringCheck{
		description: "must start with a letter or underscore, contain only letters, digits and underscores, and not be reserved (" + strings.Join(ReservedEnvPrefixes, "*, ") + "*, " + strings.Join(reservedEnvKeys, ", ") + ")",
		summary:     "Invalid environment variable key",
		check:       checkEnvKey,
	}
}

func checkEnvKey(key string) string {
	if problem := api.NULProblem("the key", key); problem != "" {
		return capitalize(problem) + "."
	}
	if !envKeyPattern.MatchString(key) {
		return fmt.Sprintf("The key %q is not a valid environment variable name: it must start with a letter or an underscore and contain only letters, digits and underscores (for example API_KEY).", key)
	}
	upper := strings.ToUpper(key)
	for _, prefix := range ReservedEnvPrefixes {
		if strings.HasPrefix(upper, prefix) {
			return fmt.Sprintf("The key %q starts with %q, which is reserved for the variables ferry sets in every deployment. Choose another name.", key, prefix)
		}
	}
	for _, reserved := range reservedEnvKeys {
		if upper == reserved {
			return fmt.Sprintf("The key %q is reserved: ferry's runtime sets %s itself. Choose another name.", key, reserved)
		}
	}
	return ""
}

// EnvValue checks an env var value by the engine's rule (size, no NUL).
// Its message never shows the value, which may be a secret.
func EnvValue() validator.String {
	return stringCheck{
		description: fmt.Sprintf("must be at most %d bytes and hold no NUL byte", MaxEnvValueBytes),
		summary:     "Invalid environment variable value",
		check: func(value string) string {
			if problem := api.EnvValueProblem(value); problem != "" {
				return "The engine refuses this value: " + problem + "."
			}
			return ""
		},
	}
}

// capitalize starts an engine message as a sentence.
func capitalize(message string) string {
	if message == "" {
		return message
	}
	return strings.ToUpper(message[:1]) + message[1:]
}

// RootDirectory checks that a project's root directory is "." or a clean
// relative path inside the source (no "..", no leading "/" or "./", no
// trailing "/"), in the form the engine stores it.
func RootDirectory() validator.String {
	return stringCheck{
		description: `must be "." or a relative path inside the source, such as "api" or "services/web"`,
		summary:     "Invalid root directory",
		check:       checkRootDirectory,
	}
}

func checkRootDirectory(dir string) string {
	const rule = `The root directory is where the app lives inside the deployed source: "." for the top, or a relative path such as "services/web".`
	switch clean := path.Clean(dir); {
	case dir == "":
		return `The root directory is empty. ` + rule
	case strings.HasPrefix(dir, "/"):
		return fmt.Sprintf("The root directory %q is absolute. %s", dir, rule)
	case clean == ".." || strings.HasPrefix(clean, "../"):
		return fmt.Sprintf("The root directory %q leaves the source. %s", dir, rule)
	case strings.Contains(dir, `\`):
		return fmt.Sprintf(`The root directory %q contains "\": separate directories with "/".`, dir)
	case clean != dir:
		return fmt.Sprintf("Write the root directory %q as %q.", dir, clean)
	}
	return ""
}
