package client

import (
	"context"
	"net/http"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
)

// Plans lists the plans the engine knows.
func (c *Client) Plans(ctx context.Context) ([]api.Plan, error) {
	var out api.PlanList
	if err := c.do(ctx, http.MethodGet, api.PathPlans, nil, nil, &out); err != nil {
		return nil, err
	}
	return out.Plans, nil
}

// TeamPlan returns a team's plan and what the team used of it this month.
func (c *Client) TeamPlan(ctx context.Context, team string) (*api.TeamPlan, error) {
	var out api.TeamPlan
	if err := c.do(ctx, http.MethodGet, expand(api.PathTeamPlan, "team", team), nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// SetTeamPlan puts a team on a plan ("" for none); the operator only.
func (c *Client) SetTeamPlan(ctx context.Context, team, plan string) (*api.Team, error) {
	var out api.Team
	if err := c.do(ctx, http.MethodPut, expand(api.PathTeamPlan, "team", team), nil, api.TeamPlanRequest{Plan: plan}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
