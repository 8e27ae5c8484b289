package client

import (
	"context"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
)

// Redeploy creates a deployment of the same project and source (files or git commit) as the
// deployment deploymentID, with the project's env as it is now: a production one when
// production is true, else a preview. useBuildCache false builds from scratch, installing the
// dependencies anew, as Vercel's "Redeploy without cache".
func (c *Client) Redeploy(ctx context.Context, deploymentID string, production, useBuildCache bool) (api.Deployment, error) {
	d, err := c.CreateDeployment(ctx, api.DeploymentRequest{RedeployOf: deploymentID, Production: production, UseBuildCache: &useBuildCache})
	if err != nil {
		return api.Deployment{}, err
	}
	return *d, nil
}
