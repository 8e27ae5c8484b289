package client

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
)

// Health returns the engine's health. See Compatible.
func (c *Client) Health(ctx context.Context) (*api.Health, error) {
	var h api.Health
	if err := c.do(ctx, http.MethodGet, api.PathHealth, nil, nil, &h); err != nil {
		return nil, err
	}
	return &h, nil
}

// Compatible reports an error if this client and the engine of h share no
// level of the API: the engine is older than this client needs, or no longer
// serves this client's level. The error says which levels each side has and
// which one to upgrade.
func Compatible(h *api.Health) error {
	switch {
	case int(h.APIVersion) < api.MinEngineVersion:
		return fmt.Errorf("the engine (version %s, pid %d) speaks API version %d, but this client needs API version %d or later: "+
			"upgrade the engine to this client's version or later (`ferry upgrade` on its machine, run by the new ferry binary)",
			h.Version, h.PID, h.APIVersion, api.MinEngineVersion)
	case int(h.APIOldestVersion) > api.Version:
		return fmt.Errorf("the engine (version %s, pid %d) serves clients of API versions %d to %d, but this client speaks API version %d: "+
			"upgrade this client (the provider: raise its version constraint and run `terraform init -upgrade`; or install a newer ferry CLI)",
			h.Version, h.PID, h.APIOldestVersion, h.APIVersion, api.Version)
	}
	return nil
}

// Shutdown asks the engine to stop gracefully.
func (c *Client) Shutdown(ctx context.Context) error {
	return c.do(ctx, http.MethodPost, api.PathShutdown, nil, nil, nil)
}

// CreateProject creates a project.
func (c *Client) CreateProject(ctx context.Context, req api.ProjectRequest) (*api.Project, error) {
	var p api.Project
	if err := c.do(ctx, http.MethodPost, api.PathProjects, nil, req, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// GetProject returns a project by id or name.
func (c *Client) GetProject(ctx context.Context, idOrName string) (*api.Project, error) {
	var p api.Project
	if err := c.do(ctx, http.MethodGet, expand(api.PathProject, "project", idOrName), nil, nil, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// UpdateProject replaces a project's settings.
func (c *Client) UpdateProject(ctx context.Context, id string, req api.ProjectRequest) (*api.Project, error) {
	var p api.Project
	if err := c.do(ctx, http.MethodPut, expand(api.PathProject, "project", id), nil, req, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// DeleteProject deletes a project with its env vars and deployments.
func (c *Client) DeleteProject(ctx context.Context, idOrName string) error {
	return c.do(ctx, http.MethodDelete, expand(api.PathProject, "project", idOrName), nil, nil, nil)
}

// ListProjects returns every project.
func (c *Client) ListProjects(ctx context.Context) ([]api.Project, error) {
	var l api.ProjectList
	if err := c.do(ctx, http.MethodGet, api.PathProjects, nil, nil, &l); err != nil {
		return nil, err
	}
	return l.Projects, nil
}

// CreateEnvVar creates an env var of a project (id or name).
func (c *Client) CreateEnvVar(ctx context.Context, project string, req api.EnvVarRequest) (*api.EnvVar, error) {
	var e api.EnvVar
	if err := c.do(ctx, http.MethodPost, expand(api.PathEnvVars, "project", project), nil, req, &e); err != nil {
		return nil, err
	}
	return &e, nil
}

// ListEnvVars returns a project's env vars, with their values if decrypt.
func (c *Client) ListEnvVars(ctx context.Context, project string, decrypt bool) ([]api.EnvVar, error) {
	var l api.EnvVarList
	if err := c.do(ctx, http.MethodGet, expand(api.PathEnvVars, "project", project), decryptQuery(decrypt), nil, &l); err != nil {
		return nil, err
	}
	return l.EnvVars, nil
}

// GetEnvVar returns one env var, with its value if decrypt.
func (c *Client) GetEnvVar(ctx context.Context, project, id string, decrypt bool) (*api.EnvVar, error) {
	var e api.EnvVar
	if err := c.do(ctx, http.MethodGet, expand(api.PathEnvVar, "project", project, "env", id), decryptQuery(decrypt), nil, &e); err != nil {
		return nil, err
	}
	return &e, nil
}

// UpdateEnvVar replaces an env var.
func (c *Client) UpdateEnvVar(ctx context.Context, project, id string, req api.EnvVarRequest) (*api.EnvVar, error) {
	var e api.EnvVar
	if err := c.do(ctx, http.MethodPut, expand(api.PathEnvVar, "project", project, "env", id), nil, req, &e); err != nil {
		return nil, err
	}
	return &e, nil
}

// DeleteEnvVar deletes an env var.
func (c *Client) DeleteEnvVar(ctx context.Context, project, id string) error {
	return c.do(ctx, http.MethodDelete, expand(api.PathEnvVar, "project", project, "env", id), nil, nil, nil)
}

// UploadFile stores a blob under its sha256 digest (hex).
func (c *Client) UploadFile(ctx context.Context, digest string, content []byte) error {
	return c.do(ctx, http.MethodPut, expand(api.PathFiles, "digest", digest), nil, content, nil)
}

// CreateDeployment starts a deployment. Unless every file's blob is on the
// engine, it fails with an error for which IsMissingFiles is true.
func (c *Client) CreateDeployment(ctx context.Context, req api.DeploymentRequest) (*api.Deployment, error) {
	var d api.Deployment
	if err := c.do(ctx, http.MethodPost, api.PathDeployments, nil, req, &d); err != nil {
		return nil, err
	}
	return &d, nil
}

// GetDeployment returns a deployment.
func (c *Client) GetDeployment(ctx context.Context, id string) (*api.Deployment, error) {
	var d api.Deployment
	if err := c.do(ctx, http.MethodGet, expand(api.PathDeployment, "deployment", id), nil, nil, &d); err != nil {
		return nil, err
	}
	return &d, nil
}

// ListDeployments returns a project's deployments.
func (c *Client) ListDeployments(ctx context.Context, projectID string) ([]api.Deployment, error) {
	var l api.DeploymentList
	if err := c.do(ctx, http.MethodGet, api.PathDeployments, url.Values{"project": {projectID}}, nil, &l); err != nil {
		return nil, err
	}
	return l.Deployments, nil
}

// DeleteDeployment deletes a deployment (canceling its build if it runs)
// and stops its processes.
func (c *Client) DeleteDeployment(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, expand(api.PathDeployment, "deployment", id), nil, nil, nil)
}

// CancelDeployment stops a queued or building deployment, which ends
// CANCELED, and returns it. A deployment that already finished otherwise
// is refused with the engine's conflict code.
func (c *Client) CancelDeployment(ctx context.Context, id string) (*api.Deployment, error) {
	var d api.Deployment
	if err := c.do(ctx, http.MethodPost, expand(api.PathDeploymentCancel, "deployment", id), nil, nil, &d); err != nil {
		return nil, err
	}
	return &d, nil
}

// DeploymentLog returns a deployment's build log.
func (c *Client) DeploymentLog(ctx context.Context, id string) (string, error) {
	var l api.DeploymentLog
	if err := c.do(ctx, http.MethodGet, expand(api.PathDeploymentLog, "deployment", id), nil, nil, &l); err != nil {
		return "", err
	}
	return l.Log, nil
}

// ResolveGit returns the commit a git source names now; the engine fetches it.
func (c *Client) ResolveGit(ctx context.Context, req api.GitResolveRequest) (*api.GitCommit, error) {
	var g api.GitCommit
	if err := c.do(ctx, http.MethodPost, api.PathGitResolve, nil, req, &g); err != nil {
		return nil, err
	}
	return &g, nil
}

// EnvDigest returns the digest of the env vars a new deployment of the
// project would get for target (and, for a preview, gitBranch).
func (c *Client) EnvDigest(ctx context.Context, project, target, gitBranch string) (string, error) {
	var d api.EnvDigest
	query := url.Values{"target": {target}}
	if gitBranch != "" {
		query.Set("git_branch", gitBranch)
	}
	if err := c.do(ctx, http.MethodGet, expand(api.PathEnvDigest, "project", project), query, nil, &d); err != nil {
		return "", err
	}
	return d.EnvDigest, nil
}

// followResumes is how often FollowDeploymentLog picks a broken stream up again.
const followResumes = 3

// FollowDeploymentLog writes a deployment's build log to w as the build writes it, and returns
// once the build has ended (READY, ERROR or CANCELED) and its log is written whole; see
// WaitDeployment for the outcome. A stream that breaks off is resumed where it stopped.
func (c *Client) FollowDeploymentLog(ctx context.Context, id string, w io.Writer) error {
	var written int64
	var err error
	for attempt := 0; attempt <= followResumes; attempt++ {
		var resp *http.Response
		query := url.Values{"follow": {"1"}, "offset": {strconv.FormatInt(written, 10)}}
		resp, err = c.send(ctx, http.MethodGet, expand(api.PathDeploymentLog, "deployment", id), query, nil, "text/plain")
		if err != nil {
			return err // the request itself was retried already
		}
		var n int64
		n, err = io.Copy(w, resp.Body)
		_ = resp.Body.Close() // read to the end or broken off; err says which
		written += n
		if err == nil || ctx.Err() != nil {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("following the build log of %s: %w", id, err)
	}
	return nil
}

func decryptQuery(decrypt bool) url.Values {
	if !decrypt {
		return nil
	}
	return url.Values{"decrypt": {"true"}}
}

// aliasPath is PathAlias for a hostname, or PathProductionAlias for "": every production hostname.
func aliasPath(project, hostname string) string {
	if hostname == "" {
		return expand(api.PathProductionAlias, "project", project)
	}
	return expand(api.PathAlias, "project", project, "hostname", hostname)
}

// PinAlias points a project's production hostnames (hostname "": all of them)
// at a READY production deployment and keeps them there.
func (c *Client) PinAlias(ctx context.Context, project, hostname, deploymentID string) (*api.Alias, error) {
	var a api.Alias
	if err := c.do(ctx, http.MethodPut, aliasPath(project, hostname), nil, api.AliasRequest{DeploymentID: deploymentID}, &a); err != nil {
		return nil, err
	}
	return &a, nil
}

// GetAlias returns where a project's production hostnames (hostname "": all of them) point.
func (c *Client) GetAlias(ctx context.Context, project, hostname string) (*api.Alias, error) {
	var a api.Alias
	if err := c.do(ctx, http.MethodGet, aliasPath(project, hostname), nil, nil, &a); err != nil {
		return nil, err
	}
	return &a, nil
}

// UnpinAlias lets the hostnames follow the project's newest production deployment again.
func (c *Client) UnpinAlias(ctx context.Context, project, hostname string) error {
	return c.do(ctx, http.MethodDelete, aliasPath(project, hostname), nil, nil, nil)
}

// Nodes lists the engine nodes that share the engine's store.
func (c *Client) Nodes(ctx context.Context) (*api.NodeList, error) {
	var out api.NodeList
	if err := c.do(ctx, http.MethodGet, api.PathNodes, nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
