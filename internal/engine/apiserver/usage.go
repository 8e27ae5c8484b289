package apiserver

import (
	"net/http"
	"sort"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
)

// usage reports what projects used, by day: of one project, or of every one the caller sees
// (the operator: every project, deleted ones too; a team token: its team's, deleted ones too;
// a token limited to projects: those).
func (s *Server) usage(r *http.Request) (int, any, error) {
	ctx := r.Context()
	query := r.URL.Query()
	today := store.Day(time.Now())
	since, err := usageDay(query.Get("since"), "since", time.Date(today.Year(), today.Month(), 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		return 0, nil, err
	}
	until, err := usageDay(query.Get("until"), "until", today.AddDate(0, 0, 1))
	if err != nil {
		return 0, nil, err
	}
	if !until.After(since) {
		return 0, nil, badRequest("until", "until (%s) must be a later day than since (%s): it is the day after the last one reported", until.Format(api.DateLayout), since.Format(api.DateLayout))
	}
	if until.Sub(since) > 366*24*time.Hour {
		return 0, nil, badRequest("until", "a report spans at most 366 days: ask for a shorter range")
	}
	projects, err := s.cfg.Store.ListProjects(ctx)
	if err != nil {
		return 0, nil, err
	}
	caller := principalOf(ctx)
	filter := store.UsageFilter{TeamID: caller.teamID()}
	limited := !caller.Operator && len(caller.Token.Projects) > 0
	if limited {
		filter.ProjectIDs = []string{}
	}
	names := map[string]string{}
	for _, p := range projects {
		names[p.ID] = p.Name
		if limited && caller.sees(p) {
			filter.ProjectIDs = append(filter.ProjectIDs, p.ID)
		}
	}
	if ref := query.Get("project"); ref != "" {
		p, err := s.visibleProject(ctx, ref)
		if err != nil {
			return 0, nil, err
		}
		filter.ProjectIDs = []string{p.ID}
	}
	if s.cfg.FlushUsage != nil {
		if err := s.cfg.FlushUsage(ctx); err != nil {
			s.cfg.Logger.Warn("usage: what this node counted last could not be added; the report may lack its last seconds", "error", err)
		}
	}
	records, err := s.cfg.Store.ListUsage(ctx, filter, since, until)
	if err != nil {
		return 0, nil, err
	}
	report := api.UsageReport{Since: since.Format(api.DateLayout), Until: until.Format(api.DateLayout), Days: make([]api.UsageDay, 0, len(records))}
	for _, rec := range records {
		amounts := api.UsageTotals{
			Requests: rec.Requests, BytesOut: rec.BytesOut,
			FunctionGBHours: rec.FunctionGBHours(),
			BuildMinutes:    rec.BuildMinutes(),
		}
		report.Days = append(report.Days, api.UsageDay{Date: rec.Day.Format(api.DateLayout), ProjectID: rec.ProjectID, Project: names[rec.ProjectID], UsageTotals: amounts})
		report.Totals.Requests += amounts.Requests
		report.Totals.BytesOut += amounts.BytesOut
		report.Totals.FunctionGBHours += amounts.FunctionGBHours
		report.Totals.BuildMinutes += amounts.BuildMinutes
	}
	sort.SliceStable(report.Days, func(i, j int) bool {
		a, b := report.Days[i], report.Days[j]
		return a.Date < b.Date || a.Date == b.Date && a.Project < b.Project
	})
	return http.StatusOK, report, nil
}

// usageDay reads a day of the usage query, or gives the default.
func usageDay(text, field string, byDefault time.Time) (time.Time, error) {
	if text == "" {
		return byDefault, nil
	}
	day, err := time.Parse(api.DateLayout, text)
	if err != nil {
		return time.Time{}, badRequest(field, "%s %q is not a day: write it as YYYY-MM-DD, e.g. %s", field, text, time.Now().UTC().Format(api.DateLayout))
	}
	return day, nil
}
