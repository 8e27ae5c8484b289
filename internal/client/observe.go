package client

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
)

// RuntimeLog returns the last tail lines of a deployment's runtime log (what its instances
// printed); tail 0 means the engine's default.
func (c *Client) RuntimeLog(ctx context.Context, deploymentID string, tail int) (string, error) {
	var text strings.Builder
	if err := c.streamRuntimeLog(ctx, expand(api.PathDeploymentRuntimeLog, "deployment", deploymentID), tail, false, &text); err != nil {
		return "", err
	}
	return text.String(), nil
}

// FollowRuntimeLog writes the last tail lines of a deployment's runtime log to w, then each new
// line as the instances print it, until ctx ends (then it returns nil) or the engine ends the
// stream (the deployment was deleted).
func (c *Client) FollowRuntimeLog(ctx context.Context, deploymentID string, tail int, w io.Writer) error {
	return c.streamRuntimeLog(ctx, expand(api.PathDeploymentRuntimeLog, "deployment", deploymentID), tail, true, w)
}

// FollowProjectRuntimeLog writes the runtime logs of every deployment of a project to w, each
// line prefixed by its deployment's id: the last tail lines of each, then, with follow, new
// lines until ctx ends or the project is deleted.
func (c *Client) FollowProjectRuntimeLog(ctx context.Context, project string, tail int, follow bool, w io.Writer) error {
	return c.streamRuntimeLog(ctx, expand(api.PathProjectRuntimeLog, "project", project), tail, follow, w)
}

func (c *Client) streamRuntimeLog(ctx context.Context, path string, tail int, follow bool, w io.Writer) error {
	query := url.Values{}
	if tail > 0 {
		query.Set("tail", strconv.Itoa(tail))
	}
	if follow {
		query.Set("follow", "1")
	}
	resp, err := c.send(ctx, http.MethodGet, path, query, nil, "text/plain")
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }() // read to the end or abandoned with ctx
	if _, err := io.Copy(w, resp.Body); err != nil {
		if follow && ctx.Err() != nil {
			return nil // the caller stopped following
		}
		return fmt.Errorf("reading the runtime log at %s: %w", path, err)
	}
	return nil
}

// RequestLog returns the newest limit access-log entries of a deployment, oldest first; limit 0
// means the engine's default.
func (c *Client) RequestLog(ctx context.Context, deploymentID string, limit int) (api.RequestLog, error) {
	var l api.RequestLog
	query := url.Values{}
	if limit > 0 {
		query.Set("limit", strconv.Itoa(limit))
	}
	err := c.do(ctx, http.MethodGet, expand(api.PathDeploymentRequests, "deployment", deploymentID), query, nil, &l)
	return l, err
}

// DeploymentMetrics returns the per-minute series of a deployment over the last since; since 0
// means the engine's default.
func (c *Client) DeploymentMetrics(ctx context.Context, deploymentID string, since time.Duration) (api.DeploymentMetrics, error) {
	var m api.DeploymentMetrics
	query := url.Values{}
	if since > 0 {
		query.Set("since", since.String())
	}
	err := c.do(ctx, http.MethodGet, expand(api.PathDeploymentMetrics, "deployment", deploymentID), query, nil, &m)
	return m, err
}
