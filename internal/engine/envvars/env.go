// Package envvars decides what environment a deployment gets: the project's
// user variables and integrations for its target, then the system variables
// ferry and Vercel apps expect. The result is frozen into the deployment when
// it is created.
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

// Integration is what an integration gives the deployments of its targets.
type Integration struct {
	Targets   []string
	GitBranch string
	Vars      map[string]string // the variables it injects, as a user var would
	System    map[string]string // ferry's own variables it sets, such as FERRY_DB_DRIVER_SETTINGS
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
// user vars and integrations of its target (a var for its git branch wins over
// one for any branch), then system vars, which always win. A preview of a
// branch that has an integration of its own gets none of the others: a
// branch's database and production's never mix.
func Resolve(d Deployment, vars []Var, integrations []Integration) []string {
	values := map[string]string{}
	system := map[string]string{}
	vars = slices.Clip(vars) // appended to below: never into the caller's array
	for _, in := range integrationsFor(d, integrations) {
		for k, v := range in.Vars {
			vars = append(vars, Var{Key: k, Value: v, Targets: in.Targets, GitBranch: in.GitBranch})
		}
		for k, v := range in.System {
			system[k] = v
		}
	}
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
		system[k] = v
	}
	for k, v := range system {
		values[k] = v
	}
	out := make([]string, 0, len(values))
	for k, v := range values {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
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
		case in.GitBranch == d.GitBranch && d.Target == "preview":
			ofBranch = append(ofBranch, in)
		}
	}
	if len(ofBranch) > 0 {
		return ofBranch
	}
	return anyBranch
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
