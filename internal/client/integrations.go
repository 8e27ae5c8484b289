package client

import (
	"context"
	"net/http"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
)

// CreateSupabaseIntegration creates a Supabase integration of a project (id or name).
func (c *Client) CreateSupabaseIntegration(ctx context.Context, project string, req api.SupabaseIntegrationRequest) (*api.SupabaseIntegration, error) {
	var i api.SupabaseIntegration
	if err := c.do(ctx, http.MethodPost, expand(api.PathSupabaseIntegrations, "project", project), nil, req, &i); err != nil {
		return nil, err
	}
	return &i, nil
}

// ListSupabaseIntegrations returns a project's Supabase integrations, with their secrets if decrypt.
func (c *Client) ListSupabaseIntegrations(ctx context.Context, project string, decrypt bool) ([]api.SupabaseIntegration, error) {
	var l api.SupabaseIntegrationList
	if err := c.do(ctx, http.MethodGet, expand(api.PathSupabaseIntegrations, "project", project), decryptQuery(decrypt), nil, &l); err != nil {
		return nil, err
	}
	return l.Integrations, nil
}

// GetSupabaseIntegration returns one Supabase integration, with its secrets if decrypt.
func (c *Client) GetSupabaseIntegration(ctx context.Context, project, id string, decrypt bool) (*api.SupabaseIntegration, error) {
	var i api.SupabaseIntegration
	path := expand(api.PathSupabaseIntegration, "project", project, "integration", id)
	if err := c.do(ctx, http.MethodGet, path, decryptQuery(decrypt), nil, &i); err != nil {
		return nil, err
	}
	return &i, nil
}

// UpdateSupabaseIntegration replaces a Supabase integration.
func (c *Client) UpdateSupabaseIntegration(ctx context.Context, project, id string, req api.SupabaseIntegrationRequest) (*api.SupabaseIntegration, error) {
	var i api.SupabaseIntegration
	path := expand(api.PathSupabaseIntegration, "project", project, "integration", id)
	if err := c.do(ctx, http.MethodPut, path, nil, req, &i); err != nil {
		return nil, err
	}
	return &i, nil
}

// DeleteSupabaseIntegration deletes a Supabase integration.
func (c *Client) DeleteSupabaseIntegration(ctx context.Context, project, id string) error {
	return c.do(ctx, http.MethodDelete, expand(api.PathSupabaseIntegration, "project", project, "integration", id), nil, nil, nil)
}
