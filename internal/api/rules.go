package api

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// SocketName is the engine API's unix socket in a data dir, where a local
// client finds the engine of that dir.
const SocketName = "engine.sock"

// MaxProjectNameLength leaves room for "-<9 character id>" of a deployment's
// host within the 63 characters of a DNS label.
const MaxProjectNameLength = 52

// ProjectNameProblem says what makes name unusable as a project name (a DNS
// label: it becomes part of its apps' host names), or "" when nothing does.
func ProjectNameProblem(name string) string {
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
	case name == DashboardHostLabel:
		return fmt.Sprintf("The project name %q is reserved: %s.<base domain> is the engine's dashboard. Choose another name.", name, DashboardHostLabel)
	}
	for _, r := range name {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-' {
			hint := ""
			if lower := strings.ToLower(name); lower != name && ProjectNameProblem(lower) == "" {
				hint = fmt.Sprintf(" Did you mean %q?", lower)
			}
			return fmt.Sprintf("The project name %q contains %q. %s%s", name, r, rule, hint)
		}
	}
	return ""
}

// ReservedEnvPrefixes are key prefixes kept for the system variables every
// deployment gets (ferry's own and Vercel's names), in any letter case.
var ReservedEnvPrefixes = []string{"FERRY_", "VERCEL_"}

// ReservedEnvKeys are names the runtime controls itself, in any letter case.
var ReservedEnvKeys = []string{"VERCEL", "FERRY", "PATH", "VIRTUAL_ENV", "PYTHONHOME"}

var envKeyPattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// EnvKeyProblem says what makes key unusable as the name of a user's env
// var, or "" when nothing does.
func EnvKeyProblem(key string) string {
	if problem := NULProblem("the key", key); problem != "" {
		return "The key" + strings.TrimPrefix(problem, "the key") + "."
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
	for _, reserved := range ReservedEnvKeys {
		if upper == reserved {
			return fmt.Sprintf("The key %q is reserved: ferry's runtime sets %s itself. Choose another name.", key, reserved)
		}
	}
	return ""
}

// EnvTargets are the targets an env var or an integration may have.
var EnvTargets = []string{TargetProduction, TargetPreview, TargetDevelopment}

// EnvTargetsProblem says what makes targets unusable for an env var or an
// integration, or "" when nothing does.
func EnvTargetsProblem(targets []string) string {
	if len(targets) == 0 {
		return "no target is given: give one or more of production, preview, development"
	}
	seen := map[string]bool{}
	for _, t := range targets {
		if !slices.Contains(EnvTargets, t) {
			return fmt.Sprintf("target %q is not one of production, preview, development", t)
		}
		if seen[t] {
			return fmt.Sprintf("target %q is listed twice", t)
		}
		seen[t] = true
	}
	return ""
}

// GitBranchProblem says what makes name unusable as a git branch name, or ""
// when nothing does ("" itself is fine: no branch).
func GitBranchProblem(name string) string {
	switch {
	case name == "":
		return ""
	case len(name) > 255:
		return fmt.Sprintf("git branch name %.40q... is %d bytes long; at most 255 are allowed", name, len(name))
	case strings.HasPrefix(name, "-") || strings.HasPrefix(name, "/") || strings.HasSuffix(name, "/") ||
		strings.HasPrefix(name, ".") || strings.Contains(name, "/.") ||
		strings.HasSuffix(name, ".") || strings.HasSuffix(name, ".lock") || strings.Contains(name, "..") ||
		strings.Contains(name, "//") || strings.Contains(name, "@{") || name == "@":
		return fmt.Sprintf("%q is not a valid git branch name (git check-ref-format): give the branch as git names it, such as feature/login", name)
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f || strings.ContainsRune(" ~^:?*[\\", r) {
			return fmt.Sprintf("%q is not a valid git branch name: it contains %q, which git does not allow", name, r)
		}
	}
	return ""
}

// SupabaseURLProblem says what is wrong with a Supabase project URL such as
// https://<ref>.supabase.co, or "" when nothing is ("" itself is fine).
func SupabaseURLProblem(raw string) string {
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return fmt.Sprintf("supabase_url %q is not an http(s) URL such as https://<ref>.supabase.co: copy the project URL from Supabase's dashboard (Project Settings, API)", raw)
	}
	return ""
}

// SourceDigest is the digest of a file list: the hex sha256 over the lines
// "path\x00mode\x00digest\n" (mode in octal, e.g. 644), sorted by path. Two
// trees with the same files, contents and modes have the same digest.
func SourceDigest(files []File) string {
	sorted := append([]File(nil), files...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Path < sorted[j].Path })
	h := sha256.New()
	for _, f := range sorted {
		_, _ = fmt.Fprintf(h, "%s\x00%o\x00%s\n", f.Path, f.Mode, f.Digest)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// GitCommitProblem says what makes commit unusable as a commit to deploy, or "" when nothing
// does: it must be a full sha, so that it names one commit whatever the repository holds.
func GitCommitProblem(commit string) string {
	if len(commit) == 40 && strings.Trim(commit, "0123456789abcdef") == "" {
		return ""
	}
	return fmt.Sprintf("commit %q is not a full commit sha: give all 40 lowercase hexadecimal characters (git rev-parse HEAD prints it)", commit)
}
