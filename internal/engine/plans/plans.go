// Package plans holds teams to the limits of their plans (api.Plans): build minutes refuse new
// deployments, serving limits (bandwidth, function GB-hours) block a team's apps or only warn,
// as the plan says, and per-project limits (max duration, memory, custom domains) are checked
// when set. Concurrent builds are held by the build queue (BuildCaps), retained deployments by
// housekeeping. Amounts are by calendar month (UTC) and come from the usage the meters store, so
// they lag what nodes serve by the meters' flush and the enforcer's check.
package plans

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/webhooks"
)

// CheckEvery is how often the enforcer looks at every team's usage.
const CheckEvery = 30 * time.Second

// WarnAt is the share of a limit past which a team is warned.
const WarnAt = 0.8

// Config wires an Enforcer.
type Config struct {
	Store  store.Store
	Logger *slog.Logger
	Now    func() time.Time // nil: time.Now
	// Events, when set, hears of a team passing 80 % and 100 % of a limit, once a month each
	// (api.EventUsageThreshold, to the team's webhooks).
	Events webhooks.Emitter
}

// Enforcer applies plans. Its state is what its last check found; every node runs one.
type Enforcer struct {
	cfg     Config
	blocked atomic.Pointer[map[string]string] // project id -> why its apps answer 429

	mu     sync.Mutex
	warned map[string]bool // "team month limit": said once a month
}

// New returns an Enforcer that blocks nothing until its first check.
func New(cfg Config) *Enforcer {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	e := &Enforcer{cfg: cfg, warned: map[string]bool{}}
	e.blocked.Store(&map[string]string{})
	return e
}

// month returns the first day of the month of now and of the next.
func month(now time.Time) (since, until time.Time) {
	y, m, _ := now.UTC().Date()
	since = time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
	return since, since.AddDate(0, 1, 0)
}

// limit is one amount of a plan, with what was used of it.
type limit struct {
	name      string // as users read it
	used, max float64
	unit      string
	serving   bool // bandwidth and function time, as opposed to builds
}

func limitsOf(p api.Plan, used api.UsageTotals) []limit {
	return []limit{
		{"bandwidth", float64(used.BytesOut) / 1e9, p.BandwidthGB, "GB", true},
		{"function GB-hours", used.FunctionGBHours, p.FunctionGBHours, "GB-hours", true},
		{"build minutes", used.BuildMinutes, p.BuildMinutes, "minutes", false},
	}
}

func (l limit) String() string {
	return fmt.Sprintf("%s: %.2f of %.0f %s", l.name, l.used, l.max, l.unit)
}

// Status is a team's plan and what the team's projects used of it this month.
func (e *Enforcer) Status(ctx context.Context, team *store.Team) (api.TeamPlan, error) {
	since, until := month(e.cfg.Now())
	status := api.TeamPlan{Team: team.Name, Since: since.Format(api.DateLayout), Until: until.Format(api.DateLayout)}
	// By the team, not its projects: what a deleted project used this month still counts.
	records, err := e.cfg.Store.ListUsage(ctx, store.UsageFilter{TeamID: team.ID}, since, until)
	if err != nil {
		return status, err
	}
	for _, r := range records {
		status.Used.Requests += r.Requests
		status.Used.BytesOut += r.BytesOut
		status.Used.FunctionGBHours += r.FunctionGBHours()
		status.Used.BuildMinutes += r.BuildMinutes()
	}
	plan, ok := api.PlanNamed(team.Plan)
	if !ok {
		return status, nil
	}
	status.Plan = &plan
	for _, l := range limitsOf(plan, status.Used) {
		switch {
		case l.max <= 0:
		case l.used >= l.max:
			status.Over = append(status.Over, l.String())
		case l.used >= WarnAt*l.max:
			status.Warnings = append(status.Warnings, l.String())
		}
	}
	return status, nil
}

// BuildCaps are the concurrent builds of every plan, as the build queue holds teams to them.
func BuildCaps() store.BuildCaps {
	caps := store.BuildCaps{}
	for _, p := range api.Plans {
		caps[p.Name] = p.ConcurrentBuilds
	}
	return caps
}

// RefuseDeployment says why a new deployment of project may not be made: its team used up the
// build minutes of its plan this month. Nothing already deployed is touched.
func (e *Enforcer) RefuseDeployment(ctx context.Context, project *store.Project) error {
	team, err := e.cfg.Store.GetTeam(ctx, project.TeamID)
	if err != nil || team.Plan == "" {
		return err
	}
	status, err := e.Status(ctx, team)
	if err != nil || status.Plan == nil || status.Plan.BuildMinutes <= 0 || status.Used.BuildMinutes < status.Plan.BuildMinutes {
		return err
	}
	return &api.Error{Code: api.CodeOverPlan, Message: fmt.Sprintf(
		"team %s used %.1f of the %.0f build minutes of plan %s this month: new deployments are refused until %s (UTC), when the month's amounts start again. "+
			"What is deployed keeps serving. Ask the engine's operator for a larger plan (ferry teams plan %s pro)",
		team.Name, status.Used.BuildMinutes, status.Plan.BuildMinutes, status.Plan.Name, status.Until, team.Name)}
}

// CheckLimits says why a project of the team may not set limits: they pass its plan's.
func (e *Enforcer) CheckLimits(ctx context.Context, teamID string, l api.Limits) error {
	team, err := e.cfg.Store.GetTeam(ctx, teamID)
	if err != nil {
		return err
	}
	plan, ok := api.PlanNamed(team.Plan)
	if !ok {
		return nil
	}
	if plan.MaxMemoryMB > 0 && l.MemoryMB > plan.MaxMemoryMB {
		return &api.Error{Code: api.CodeBadRequest, Field: "limits.memory_mb", Message: fmt.Sprintf(
			"memory_mb %d is more than plan %s of team %s allows (%d MB): set at most %d", l.MemoryMB, plan.Name, team.Name, plan.MaxMemoryMB, plan.MaxMemoryMB)}
	}
	if plan.MaxDurationSeconds > 0 && l.MaxDurationSeconds > plan.MaxDurationSeconds {
		return &api.Error{Code: api.CodeBadRequest, Field: "limits.max_duration_seconds", Message: fmt.Sprintf(
			"max_duration_seconds %d is more than plan %s of team %s allows (%d s): set at most %d", l.MaxDurationSeconds, plan.Name, team.Name, plan.MaxDurationSeconds, plan.MaxDurationSeconds)}
	}
	return nil
}

// CheckDomains says why a project of the team that has domains custom domains may not add one.
func (e *Enforcer) CheckDomains(ctx context.Context, teamID string, domains int) error {
	team, err := e.cfg.Store.GetTeam(ctx, teamID)
	if err != nil {
		return err
	}
	plan, ok := api.PlanNamed(team.Plan)
	if !ok || plan.CustomDomains <= 0 || domains < plan.CustomDomains {
		return nil
	}
	return &api.Error{Code: api.CodeOverPlan, Message: fmt.Sprintf(
		"the project has %d custom domains, as many as plan %s of team %s allows per project: remove one first, or ask the engine's operator for a larger plan",
		domains, plan.Name, team.Name)}
}

// Blocked says why the apps of a project answer 429 ("" when they are served): its team passed
// a serving limit of a plan that blocks.
func (e *Enforcer) Blocked(projectID string) string {
	return (*e.blocked.Load())[projectID]
}

// Check looks at every team with a plan: it blocks the projects of those past a serving limit of
// a plan that blocks (and unblocks the rest), and says once a month in the log which teams pass
// 80 % and 100 % of a limit.
func (e *Enforcer) Check(ctx context.Context) error {
	teams, err := e.cfg.Store.ListTeams(ctx)
	if err != nil {
		return err
	}
	projects, err := e.cfg.Store.ListProjects(ctx)
	if err != nil {
		return err
	}
	projectsOf := map[string][]string{} // team id -> its projects' ids, whose apps a block pauses
	for _, p := range projects {
		projectsOf[p.TeamID] = append(projectsOf[p.TeamID], p.ID)
	}
	blocked := map[string]string{}
	for _, team := range teams {
		if team.Plan == "" {
			continue
		}
		status, err := e.Status(ctx, team)
		if err != nil {
			return err
		}
		if status.Plan == nil {
			continue
		}
		for _, l := range limitsOf(*status.Plan, status.Used) {
			if l.max <= 0 || l.used < WarnAt*l.max {
				continue
			}
			over := l.used >= l.max
			if over && l.serving && status.Plan.OverServingLimit == api.OverLimitBlock {
				why := fmt.Sprintf("team %s passed the %s of plan %s this month (%s): its apps are paused until %s (UTC) or a larger plan", team.Name, l.name, status.Plan.Name, l, status.Until)
				for _, id := range projectsOf[team.ID] {
					blocked[id] = why
				}
			}
			e.warnOnce(ctx, team, status, l, over)
		}
	}
	if !maps.Equal(blocked, *e.blocked.Load()) {
		e.blocked.Store(&blocked)
	}
	return nil
}

func (e *Enforcer) warnOnce(ctx context.Context, team *store.Team, status api.TeamPlan, l limit, over bool) {
	key := fmt.Sprintf("%s %s %s %v", team.ID, status.Since, l.name, over)
	e.mu.Lock()
	said := e.warned[key]
	e.warned[key] = true
	e.mu.Unlock()
	if said {
		return
	}
	threshold := 80
	if over {
		threshold = 100
		e.cfg.Logger.Warn("plan limit passed", "team", team.Name, "limit", l.String())
	} else {
		e.cfg.Logger.Warn("plan limit at 80 %", "team", team.Name, "limit", l.String())
	}
	if e.cfg.Events == nil {
		return
	}
	err := e.cfg.Events.Emit(ctx, webhooks.Event{Type: api.EventUsageThreshold, TeamID: team.ID, Payload: map[string]any{
		"plan": status.Plan.Name, "limit": l.name, "used": l.used, "max": l.max, "unit": l.unit, "thresholdPercent": threshold,
		"periodStart": status.Since, "periodEnd": status.Until,
	}})
	if err != nil {
		// Said again at the next check.
		e.mu.Lock()
		delete(e.warned, key)
		e.mu.Unlock()
		e.cfg.Logger.Warn("plans: cannot queue the usage threshold event; the next check tries again", "team", team.Name, "error", err)
	}
}

// Run checks every CheckEvery until ctx ends.
func (e *Enforcer) Run(ctx context.Context) {
	ticker := time.NewTicker(CheckEvery)
	defer ticker.Stop()
	for {
		if err := e.Check(ctx); err != nil && ctx.Err() == nil {
			e.cfg.Logger.Warn("plans: cannot check the teams' usage; the last check stands", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}
