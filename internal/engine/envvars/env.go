// Package envvars decides what environment a deployment gets: the project's
// user variables for its target, then the system variables ferry and Vercel
// apps expect. The result is frozen into the deployment when it is created.
package envvars

import (
	"slices"
	"sort"
)

// Var is a user variable with its value in the clear.
type Var struct {
	Key       string
	Value     string
	Targets   []string
	GitBranch string
}

// Deployment describes the deployment whose env is being resolved.
type Deployment struct {
	ID             string
	ProjectID      string
	ProjectName    string
	Target         string // production | preview
	GitBranch      string // "" when not from git
	Hostname       string // the deployment's own host
	ProductionHost string // the project's production host
}

// Resolve returns the deployment's environment as sorted KEY=VALUE pairs:
// user vars of its target (a var for its git branch wins over one for any
// branch), then system vars, which always win.
func Resolve(d Deployment, vars []Var) []string {
	values := map[string]string{}
	branchSpecific := map[string]bool{}
	for _, v := range vars {
		if !slices.Contains(v.Targets, d.Target) {
			continue
		}
		switch {
		case v.GitBranch == "":
			if !branchSpecific[v.Key] {
				values[v.Key] = v.Value
			}
		case v.GitBranch == d.GitBranch && d.Target == "preview":
			values[v.Key] = v.Value
			branchSpecific[v.Key] = true
		}
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

// System returns the system variables of a deployment: ferry's own names and
// the Vercel names, so an app written for Vercel runs unchanged.
func System(d Deployment) map[string]string {
	return map[string]string{
		"VERCEL":                        "1",
		"VERCEL_ENV":                    d.Target,
		"VERCEL_URL":                    d.Hostname,
		"VERCEL_PROJECT_PRODUCTION_URL": d.ProductionHost,
		"VERCEL_DEPLOYMENT_ID":          d.ID,
		"VERCEL_PROJECT_ID":             d.ProjectID,
		"VERCEL_REGION":                 "local",
		"VERCEL_GIT_COMMIT_REF":         d.GitBranch,
		"FERRY":                         "1",
		"FERRY_ENV":                     d.Target,
		"FERRY_URL":                     d.Hostname,
		"FERRY_PROJECT_PRODUCTION_URL":  d.ProductionHost,
		"FERRY_DEPLOYMENT_ID":           d.ID,
		"FERRY_PROJECT_ID":              d.ProjectID,
		"FERRY_PROJECT_NAME":            d.ProjectName,
	}
}
