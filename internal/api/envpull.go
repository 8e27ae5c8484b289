package api

// PathEnvPull answers GET ?target=&git_branch=: the variables, values in the clear, that a new
// deployment of the target (and branch, for a preview) gets from the project's env vars and
// integrations, without ferry's system variables; as EnvPull. It is what `ferry env pull`
// writes into a dotenv file; target may also be development.
const PathEnvPull = "/v1/projects/{project}/env-pull"

// EnvPull answers PathEnvPull.
type EnvPull struct {
	Target    string            `json:"target"`
	GitBranch string            `json:"git_branch,omitempty"`
	Vars      map[string]string `json:"vars"`
}
