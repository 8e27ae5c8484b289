package apiserver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/deploy"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
)

func (s *Server) routeWebhooks() {
	s.handle("GET", api.PathWebhooks, s.listWebhooks)
	s.handle("POST", api.PathWebhooks, s.createWebhook)
	s.handle("GET", api.PathWebhook, s.getWebhook)
	s.handle("PUT", api.PathWebhook, s.updateWebhook)
	s.handle("DELETE", api.PathWebhook, s.deleteWebhook)
	s.handle("GET", api.PathWebhookDeliveries, s.listDeliveries)
}

func toAPIWebhook(w *store.Webhook) api.Webhook {
	return api.Webhook{ID: w.ID, TeamID: w.TeamID, URL: w.URL, Events: w.Events, Projects: append([]string{}, w.Projects...),
		CreatedAt: w.CreatedAt, UpdatedAt: w.UpdatedAt}
}

// webhookTeam is the team of the path, if the caller may manage its webhooks: they hear of
// every project of the team, so a token limited to projects may not.
func (s *Server) webhookTeam(ctx context.Context, r *http.Request) (*store.Team, error) {
	t, err := s.visibleTeam(ctx, r.PathValue("team"))
	if err != nil {
		return nil, err
	}
	if p := principalOf(ctx); !p.Operator && len(p.Token.Projects) > 0 {
		return nil, &api.Error{Code: api.CodeForbidden, Message: fmt.Sprintf("token %s is limited to projects, and webhooks belong to the whole team: use an admin token of team %s that is not limited", p.Token.Name, t.Name)}
	}
	return t, nil
}

// teamWebhook loads the webhook of the path, if it belongs to the path's team.
func (s *Server) teamWebhook(ctx context.Context, r *http.Request) (*store.Team, *store.Webhook, error) {
	t, err := s.webhookTeam(ctx, r)
	if err != nil {
		return nil, nil, err
	}
	id := r.PathValue("webhook")
	w, err := s.cfg.Store.GetWebhook(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && w.TeamID != t.ID) {
		return nil, nil, notFound("team %s has no webhook %q: list them with `ferry webhooks ls --team %s`", t.Name, id, t.Name)
	}
	return t, w, err
}

func (s *Server) listWebhooks(r *http.Request) (int, any, error) {
	t, err := s.webhookTeam(r.Context(), r)
	if err != nil {
		return 0, nil, err
	}
	hooks, err := s.cfg.Store.ListWebhooks(r.Context(), t.ID)
	if err != nil {
		return 0, nil, err
	}
	out := api.WebhookList{Webhooks: []api.Webhook{}}
	for _, w := range hooks {
		out.Webhooks = append(out.Webhooks, toAPIWebhook(w))
	}
	return http.StatusOK, out, nil
}

func (s *Server) getWebhook(r *http.Request) (int, any, error) {
	_, w, err := s.teamWebhook(r.Context(), r)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, toAPIWebhook(w), nil
}

// checkWebhook checks a request and fills w with it: its projects by id, its secret sealed
// (unless none is given and secretRequired is false).
func (s *Server) checkWebhook(ctx context.Context, team *store.Team, req api.WebhookRequest, secretRequired bool, w *store.Webhook) error {
	if problem := api.WebhookURLProblem(req.URL); problem != "" {
		return badRequest("url", "%s", problem)
	}
	if problem := api.WebhookEventsProblem(req.Events); problem != "" {
		return badRequest("events", "%s", problem)
	}
	if req.Secret != "" || secretRequired {
		if problem := api.WebhookSecretProblem(req.Secret); problem != "" {
			return badRequest("secret", "%s", problem)
		}
	}
	var projects []string
	for _, ref := range req.Projects {
		p, err := s.cfg.Store.GetProject(ctx, ref)
		if errors.Is(err, store.ErrNotFound) || (err == nil && p.TeamID != team.ID) {
			return badRequest("projects", "project %q is not a project of team %s: a webhook hears only of its team's projects", ref, team.Name)
		}
		if err != nil {
			return err
		}
		if !slices.Contains(projects, p.ID) {
			projects = append(projects, p.ID)
		}
	}
	w.URL, w.Events, w.Projects = req.URL, slices.Compact(slices.Sorted(slices.Values(req.Events))), projects
	w.SealedSecret = nil
	if req.Secret != "" {
		sealed, err := s.cfg.Secrets.Seal(ctx, []byte(req.Secret))
		if err != nil {
			return fmt.Errorf("seal the webhook's secret: %w", err)
		}
		w.SealedSecret = sealed
	}
	return nil
}

func (s *Server) createWebhook(r *http.Request) (int, any, error) {
	ctx := r.Context()
	team, err := s.webhookTeam(ctx, r)
	if err != nil {
		return 0, nil, err
	}
	var req api.WebhookRequest
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	w := &store.Webhook{ID: deploy.NewID("hook"), TeamID: team.ID}
	if err := s.checkWebhook(ctx, team, req, true, w); err != nil {
		return 0, nil, err
	}
	if err := s.cfg.Store.CreateWebhook(ctx, w); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return 0, nil, notFound("team %s was deleted", team.Name)
		}
		return 0, nil, err
	}
	s.cfg.Logger.Info("webhook created", "team", team.Name, "webhook", w.ID, "events", w.Events)
	return http.StatusCreated, toAPIWebhook(w), nil
}

func (s *Server) updateWebhook(r *http.Request) (int, any, error) {
	ctx := r.Context()
	team, w, err := s.teamWebhook(ctx, r)
	if err != nil {
		return 0, nil, err
	}
	var req api.WebhookRequest
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	if err := s.checkWebhook(ctx, team, req, false, w); err != nil {
		return 0, nil, err
	}
	if err := s.cfg.Store.UpdateWebhook(ctx, w); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return 0, nil, notFound("webhook %s was deleted", w.ID)
		}
		return 0, nil, err
	}
	s.cfg.Logger.Info("webhook updated", "team", team.Name, "webhook", w.ID, "events", w.Events, "new_secret", req.Secret != "")
	return http.StatusOK, toAPIWebhook(w), nil
}

func (s *Server) deleteWebhook(r *http.Request) (int, any, error) {
	team, w, err := s.teamWebhook(r.Context(), r)
	if err != nil {
		return 0, nil, err
	}
	if err := s.cfg.Store.DeleteWebhook(r.Context(), w.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
		return 0, nil, err
	}
	s.cfg.Logger.Info("webhook deleted", "team", team.Name, "webhook", w.ID)
	return http.StatusNoContent, nil, nil
}

func (s *Server) listDeliveries(r *http.Request) (int, any, error) {
	limit := api.DefaultDeliveriesLimit
	if text := r.URL.Query().Get("limit"); text != "" {
		n, err := strconv.Atoi(text)
		if err != nil || n < 1 || n > api.MaxDeliveriesLimit {
			return 0, nil, badRequest("limit", "limit %q is not a number of deliveries from 1 to %d", text, api.MaxDeliveriesLimit)
		}
		limit = n
	}
	_, w, err := s.teamWebhook(r.Context(), r)
	if err != nil {
		return 0, nil, err
	}
	deliveries, err := s.cfg.Store.ListDeliveries(r.Context(), w.ID, limit)
	if err != nil {
		return 0, nil, err
	}
	out := api.WebhookDeliveryList{Deliveries: []api.WebhookDelivery{}}
	for _, d := range deliveries {
		item := api.WebhookDelivery{ID: d.ID, EventID: d.EventID, Event: d.EventType, State: d.State, Attempts: d.Attempts,
			LastStatus: d.LastStatus, LastError: d.LastError, CreatedAt: d.CreatedAt, DeliveredAt: d.DeliveredAt}
		if d.State == store.DeliveryPending {
			next := d.NextAttemptAt
			item.NextAttemptAt = &next
		}
		out.Deliveries = append(out.Deliveries, item)
	}
	return http.StatusOK, out, nil
}
