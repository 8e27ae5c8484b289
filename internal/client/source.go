package client

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
)

// DeploymentFiles lists the files of a deployment's source (path, size, digest), sorted by path.
func (c *Client) DeploymentFiles(ctx context.Context, deploymentID string) ([]api.File, error) {
	var l api.DeploymentFiles
	if err := c.do(ctx, http.MethodGet, expand(api.PathDeploymentFiles, "deployment", deploymentID), nil, nil, &l); err != nil {
		return nil, err
	}
	return l.Files, nil
}

// DeploymentFile returns the content of one source file of a deployment, by its slash-separated
// path; a file over api.MaxSourceFileBytes is an error with api.CodeTooLarge.
func (c *Client) DeploymentFile(ctx context.Context, deploymentID, path string) ([]byte, error) {
	segments := strings.Split(path, "/")
	for i, segment := range segments {
		segments[i] = url.PathEscape(segment)
	}
	target := expand(api.PathDeploymentFiles, "deployment", deploymentID) + "/" + strings.Join(segments, "/")
	resp, err := c.send(ctx, http.MethodGet, target, nil, nil, "application/octet-stream")
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }() // read to the end or failed; err says which
	content, err := io.ReadAll(io.LimitReader(resp.Body, api.MaxSourceFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s of deployment %s: %w", path, deploymentID, err)
	}
	return content, nil
}
