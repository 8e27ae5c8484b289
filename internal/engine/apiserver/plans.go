package apiserver

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
)

// listPlans answers the plans the engine knows.
func (s *Server) listPlans(*http.Request) (int, any, error) {
	return http.StatusOK, api.PlanList{Plans: api.Plans}, nil
}

// getTeamPlan answers a team's plan and what it used of it this month.
func (s *Server) getTeamPlan(r *http.Request) (int, any, error) {
	t, err := s.visibleTeam(r.Context(), r.PathValue("team"))
	if err != nil {
		return 0, nil, err
	}
	if s.cfg.Plans == nil {
		return http.StatusOK, api.TeamPlan{Team: t.Name}, nil
	}
	if s.cfg.FlushUsage != nil {
		_ = s.cfg.FlushUsage(r.Context()) // what this node counted last; the others' comes within 10 s
	}
	status, err := s.cfg.Plans.Status(r.Context(), t)
	return http.StatusOK, status, err
}

// setTeamPlan puts a team on a plan, or takes it off any.
func (s *Server) setTeamPlan(r *http.Request) (int, any, error) {
	t, err := s.visibleTeam(r.Context(), r.PathValue("team"))
	if err != nil {
		return 0, nil, err
	}
	noteTeam(r.Context(), t.ID)
	var req api.TeamPlanRequest
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	if _, ok := api.PlanNamed(req.Plan); !ok && req.Plan != "" {
		names := make([]string, len(api.Plans))
		for i, p := range api.Plans {
			names[i] = p.Name
		}
		return 0, nil, badRequest("plan", "there is no plan %q: choose one of %s, or \"\" for none", req.Plan, strings.Join(names, ", "))
	}
	if err := s.cfg.Store.SetTeamPlan(r.Context(), t.ID, req.Plan); errors.Is(err, store.ErrNotFound) {
		return 0, nil, notFound("team %q does not exist", r.PathValue("team"))
	} else if err != nil {
		return 0, nil, err
	}
	t.Plan = req.Plan
	if s.cfg.Plans != nil {
		if err := s.cfg.Plans.Check(r.Context()); err != nil {
			s.cfg.Logger.Warn("plans: the check after a plan change failed; the next one comes within 30 s", "error", err)
		}
	}
	return http.StatusOK, toAPITeam(t), nil
}

// withinPlan refuses project limits past what the team's plan allows.
func (s *Server) withinPlan(ctx context.Context, teamID string, limits *api.Limits) error {
	if s.cfg.Plans == nil || limits == nil {
		return nil
	}
	return s.cfg.Plans.CheckLimits(ctx, teamID, *limits)
}
