package client

import (
	"context"
	"net/http"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
)

// CreateDomain adds a custom domain to a project (id or name).
func (c *Client) CreateDomain(ctx context.Context, project string, req api.DomainRequest) (*api.Domain, error) {
	var d api.Domain
	if err := c.do(ctx, http.MethodPost, expand(api.PathDomains, "project", project), nil, req, &d); err != nil {
		return nil, err
	}
	return &d, nil
}

// GetDomain returns a custom domain of a project.
func (c *Client) GetDomain(ctx context.Context, project, name string) (*api.Domain, error) {
	var d api.Domain
	if err := c.do(ctx, http.MethodGet, expand(api.PathDomain, "project", project, "domain", name), nil, nil, &d); err != nil {
		return nil, err
	}
	return &d, nil
}

// ListDomains returns a project's custom domains.
func (c *Client) ListDomains(ctx context.Context, project string) ([]api.Domain, error) {
	var l api.DomainList
	if err := c.do(ctx, http.MethodGet, expand(api.PathDomains, "project", project), nil, nil, &l); err != nil {
		return nil, err
	}
	return l.Domains, nil
}

// UpdateDomain changes a domain's git branch and redirect.
func (c *Client) UpdateDomain(ctx context.Context, project string, req api.DomainRequest) (*api.Domain, error) {
	var d api.Domain
	if err := c.do(ctx, http.MethodPut, expand(api.PathDomain, "project", project, "domain", req.Name), nil, req, &d); err != nil {
		return nil, err
	}
	return &d, nil
}

// DeleteDomain removes a custom domain from its project.
func (c *Client) DeleteDomain(ctx context.Context, project, name string) error {
	return c.do(ctx, http.MethodDelete, expand(api.PathDomain, "project", project, "domain", name), nil, nil, nil)
}

// VerifyDomain looks the domain's DNS records up now and returns the domain.
func (c *Client) VerifyDomain(ctx context.Context, project, name string) (*api.Domain, error) {
	var d api.Domain
	if err := c.do(ctx, http.MethodPost, expand(api.PathDomainVerify, "project", project, "domain", name), nil, nil, &d); err != nil {
		return nil, err
	}
	return &d, nil
}
