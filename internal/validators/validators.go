// Package validators holds the plan-time checks of ferry's Terraform
// attributes, each mirroring a rule the engine enforces, so that bad input
// fails at plan with a message that says what to write instead.
package validators

import (
	"context"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/schema/validator"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
)

// MaxEnvValueBytes is the engine's limit on one value (Vercel's).
const MaxEnvValueBytes = api.MaxEnvValueBytes

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
		description: fmt.Sprintf("must be 1 to %d lowercase letters (a-z), digits and single hyphens, and must not start or end with a hyphen", api.MaxProjectNameLength),
		summary:     "Invalid project name",
		check:       api.ProjectNameProblem,
	}
}

// EnvKey checks that an env var key is a portable shell name that the
// engine does not reserve.
func EnvKey() validator.String {
	return stringCheck{
		description: "must start with a letter or underscore, contain only letters, digits and underscores, and not be reserved (" + strings.Join(api.ReservedEnvPrefixes, "*, ") + "*, " + strings.Join(api.ReservedEnvKeys, ", ") + ")",
		summary:     "Invalid environment variable key",
		check:       api.EnvKeyProblem,
	}
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

// GitBranch checks a git branch name by git's rules.
func GitBranch() validator.String {
	return stringCheck{
		description: "must be a valid git branch name, such as main or feature/login",
		summary:     "Invalid git branch",
		check: func(branch string) string {
			if branch == "" {
				return "the git branch is empty: give a branch such as main, or leave the attribute out"
			}
			return api.GitBranchProblem(branch)
		},
	}
}

// GitCommit checks that a commit is a full sha.
func GitCommit() validator.String {
	return stringCheck{
		description: "must be a full commit sha: 40 lowercase hexadecimal characters",
		summary:     "Invalid git commit",
		check:       api.GitCommitProblem,
	}
}

// RetentionPeriod checks a deployment retention period.
func RetentionPeriod() validator.String {
	return stringCheck{
		description: "must be one of " + strings.Join(api.RetentionPeriods, ", "),
		summary:     "Invalid retention period",
		check:       api.RetentionProblem,
	}
}

// DomainName checks that a custom domain's name is valid (length, labels,
// IDNA, public suffixes, wildcards only where certificates can serve them)
// and written in the canonical form the engine keeps it in.
func DomainName() validator.String {
	return stringCheck{
		description: "must be a DNS name in lowercase ASCII (internationalized labels in their xn-- form) without a trailing dot, such as www.example.com; " +
			"a wildcard (*.example.test) only under names ferry's local CA certifies",
		summary: "Invalid domain name",
		check:   api.DomainNameProblem,
	}
}

// TeamName checks that a team name is 1 to 63 lowercase letters, digits and hyphens.
func TeamName() validator.String {
	return stringCheck{
		description: "must be 1 to 63 lowercase letters (a-z), digits and hyphens, starting and ending with a letter or digit",
		summary:     "Invalid team name",
		check:       api.TeamNameProblem,
	}
}

// Timestamp checks that a value is an RFC 3339 time, such as 2027-01-31T00:00:00Z.
func Timestamp() validator.String {
	return stringCheck{
		description: "must be an RFC 3339 time, such as 2027-01-31T00:00:00Z",
		summary:     "Invalid time",
		check: func(v string) string {
			if _, err := time.Parse(time.RFC3339, v); err != nil {
				return fmt.Sprintf("%q is not an RFC 3339 time: write it as 2027-01-31T00:00:00Z (or with an offset, such as +02:00); timeadd(timestamp(), \"720h\") makes one, but changes at every plan", v)
			}
			return ""
		},
	}
}

// WebhookURL checks that a webhook's URL is an absolute http or https URL.
func WebhookURL() validator.String {
	return stringCheck{
		description: "must be an absolute http:// or https:// URL, such as https://hooks.example.com/ferry",
		summary:     "Invalid webhook URL",
		check:       api.WebhookURLProblem,
	}
}

// WebhookEvent checks that an event is one a webhook may subscribe to.
func WebhookEvent() validator.String {
	return stringCheck{
		description: "must be one of " + strings.Join(api.WebhookEvents, ", "),
		summary:     "Invalid webhook event",
		check:       func(e string) string { return api.WebhookEventsProblem([]string{e}) },
	}
}

// WebhookSecret checks that a webhook's secret is long enough to sign with.
func WebhookSecret() validator.String {
	return stringCheck{
		description: fmt.Sprintf("must be at least %d characters long", api.MinWebhookSecret),
		summary:     "Webhook secret too short",
		check:       api.WebhookSecretProblem,
	}
}
