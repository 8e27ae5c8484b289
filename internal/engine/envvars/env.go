// Package envvars decides what environment a deployment gets: the project's
// user variables and integrations for its target and branch, then the system
// variables ferry and Vercel apps expect. The result is frozen into the
// deployment when it is created.
package envvars

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
)

// Var is a user variable with its value in the clear.
type Var struct {
	Key         string
	Value       string
	ValueDigest string // the engine's keyed digest of Value
	Targets     []string
	GitBranch   string
}

// Integration is what an integration gives the deployments of its targets.
type Integration struct {
	Targets   []string
	GitBranch string
	Vars      map[string]string // the variables it injects, as a user var would
	System    map[string]string // ferry's own variables it sets, such as FERRY_DB_DRIVER_SETTINGS
	// Digest is the engine's keyed digest of what it injects, so that a changed connection
	// changes the digest of the env of the deployments that get it.
	Digest string
}

// Deployment describes the deployment whose env is being resolved. Its hosts are written as
// the URL variables carry them: a host name, with the edge's port unless that is 443.
type Deployment struct {
	ID             string
	ProjectID      string
	ProjectName    string
	Target         string // production | preview
	GitBranch      string // "" when not from a git branch
	Hostname       string // the deployment's own host
	ProductionHost string // the project's production host
	BranchHost     string // its branch's host; "" without a branch
	Git            *api.GitCommit
}

// Select returns the vars a deployment gets of the project's user vars and integrations, by
// key: those of its target, a var for its git branch (previews only, as on Vercel) winning over
// one for any branch. A preview of a branch that has an integration of its own gets none of
// the others: a branch's database and production's never mix. Users cannot name the system
// variables an integration sets (their prefix is reserved), so those cannot clash.
func Select(d Deployment, vars []Var, integrations []Integration) map[string]Var {
	vars = slices.Clip(vars) // appended to below: never into the caller's array
	for _, in := range integrationsFor(d, integrations) {
		for _, injected := range []map[string]string{in.Vars, in.System} {
			for k, v := range injected {
				vars = append(vars, Var{Key: k, Value: v, ValueDigest: in.Digest, Targets: in.Targets, GitBranch: in.GitBranch})
			}
		}
	}
	selected := map[string]Var{}
	for _, v := range vars {
		if !slices.Contains(v.Targets, d.Target) {
			continue
		}
		switch {
		case v.GitBranch == "":
			if selected[v.Key].GitBranch == "" {
				selected[v.Key] = v
			}
		case v.GitBranch == d.GitBranch && d.Target == api.TargetPreview:
			selected[v.Key] = v
		}
	}
	return selected
}

// integrationsFor returns the integrations of d's target that apply to it:
// those of its git branch when it is a preview and some are, else those for
// any branch.
func integrationsFor(d Deployment, integrations []Integration) []Integration {
	var anyBranch, ofBranch []Integration
	for _, in := range integrations {
		switch {
		case !slices.Contains(in.Targets, d.Target):
		case in.GitBranch == "":
			anyBranch = append(anyBranch, in)
		case in.GitBranch == d.GitBranch && d.Target == api.TargetPreview:
			ofBranch = append(ofBranch, in)
		}
	}
	if len(ofBranch) > 0 {
		return ofBranch
	}
	return anyBranch
}

// Resolve returns the deployment's environment as sorted KEY=VALUE pairs:
// the vars Select picks, then system vars, which always win.
func Resolve(d Deployment, vars []Var, integrations []Integration) []string {
	values := map[string]string{}
	for k, v := range Select(d, vars, integrations) {
		values[k] = v.Value
	}
	for k, v := range System(d) {
		values[k] = v
	}
	out := make([]string, 0, len(values))
	for k, v := range values {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// Digest is the digest of the vars Select picked: their keys and value digests, so it
// says nothing of the values. Two deployments with the same digest got the same user env.
func Digest(selected map[string]Var) string {
	keys := make([]string, 0, len(selected))
	for k := range selected {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	h := sha256.New()
	for _, k := range keys {
		_, _ = fmt.Fprintf(h, "%s\x00%s\n", k, selected[k].ValueDigest)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// System returns the system variables of a deployment: ferry's own names and
// the Vercel names, so an app written for Vercel runs unchanged.
func System(d Deployment) map[string]string {
	vars := map[string]string{
		"VERCEL":                        "1",
		"VERCEL_ENV":                    d.Target,
		"VERCEL_TARGET_ENV":             d.Target,
		"VERCEL_URL":                    d.Hostname,
		"VERCEL_PROJECT_PRODUCTION_URL": d.ProductionHost,
		"VERCEL_DEPLOYMENT_ID":          d.ID,
		"VERCEL_PROJECT_ID":             d.ProjectID,
		"VERCEL_REGION":                 "local",
		"FERRY":                         "1",
		"FERRY_ENV":                     d.Target,
		"FERRY_TARGET_ENV":              d.Target,
		"FERRY_URL":                     d.Hostname,
		"FERRY_PROJECT_PRODUCTION_URL":  d.ProductionHost,
		"FERRY_DEPLOYMENT_ID":           d.ID,
		"FERRY_PROJECT_ID":              d.ProjectID,
		"FERRY_PROJECT_NAME":            d.ProjectName,
	}
	if d.GitBranch != "" {
		vars["VERCEL_GIT_COMMIT_REF"] = d.GitBranch
		vars["FERRY_GIT_COMMIT_REF"] = d.GitBranch
	}
	if d.BranchHost != "" {
		vars["VERCEL_BRANCH_URL"] = d.BranchHost
		vars["FERRY_BRANCH_URL"] = d.BranchHost
	}
	if g := d.Git; g != nil {
		for _, prefix := range []string{"VERCEL_GIT_", "FERRY_GIT_"} {
			vars[prefix+"PROVIDER"] = g.Provider
			vars[prefix+"REPO_SLUG"] = g.RepoSlug
			vars[prefix+"REPO_OWNER"] = g.RepoOwner
			vars[prefix+"COMMIT_REF"] = g.Ref
			vars[prefix+"COMMIT_SHA"] = g.SHA
			vars[prefix+"COMMIT_MESSAGE"] = g.Message
			vars[prefix+"COMMIT_AUTHOR_NAME"] = g.AuthorName
			vars[prefix+"COMMIT_AUTHOR_LOGIN"] = g.AuthorLogin
		}
		vars["FERRY_GIT_REPO_URL"] = g.URL
		vars["FERRY_GIT_COMMIT_AUTHOR_EMAIL"] = g.AuthorEmail
	}
	return vars
}
