package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
)

// PullEnv returns the variables, values in the clear, that a new deployment of project with
// target (development, preview or production) and gitBranch (previews only) would get from the
// project's env vars and integrations.
func (c *Client) PullEnv(ctx context.Context, project, target, gitBranch string) (map[string]string, error) {
	var pulled api.EnvPull
	query := url.Values{"target": {target}}
	if gitBranch != "" {
		query.Set("git_branch", gitBranch)
	}
	if err := c.do(ctx, http.MethodGet, expand(api.PathEnvPull, "project", project), query, nil, &pulled); err != nil {
		return nil, err
	}
	return pulled.Vars, nil
}
