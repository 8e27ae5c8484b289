package api

// Paths of plans: the plans an engine knows (GET), and a team's plan with what the team used of
// it this month (GET; PUT sets it, the operator only).
const (
	PathPlans    = "/v1/plans"
	PathTeamPlan = "/v1/teams/{team}/plan"
)

// CodeOverPlan refuses a new deployment of a team past a build limit of its plan (403); the
// message names the limit, the usage and when it resets.
const CodeOverPlan = "over_plan_limit"

// What a plan does when a team passes a serving limit (bandwidth, function GB-hours).
const (
	OverLimitBlock = "block" // its apps answer 429 with a page saying why, until the month ends or the plan changes
	OverLimitWarn  = "warn"  // served still; the engine's log, the plan's status and ferry teams say so
)

// Plan is a named set of limits, by calendar month (UTC) where they are amounts. A zero limit
// is no limit.
type Plan struct {
	Name            string  `json:"name"`
	Description     string  `json:"description"`
	BandwidthGB     float64 `json:"bandwidth_gb"`      // bytes out a month, in GB (10^9 bytes)
	FunctionGBHours float64 `json:"function_gb_hours"` // memory limit x instance time a month
	BuildMinutes    float64 `json:"build_minutes"`     // a month: past it new deployments are refused
	// Per project: the most its limits may set.
	MaxDurationSeconds int64 `json:"max_duration_seconds"`
	MaxMemoryMB        int64 `json:"max_memory_mb"`
	CustomDomains      int   `json:"custom_domains"` // per project
	// RetainedDeployments is the most deployments a project keeps: housekeeping deletes the
	// oldest beyond it that nothing serves and that are done building.
	RetainedDeployments int `json:"retained_deployments"`
	// ConcurrentBuilds is the most builds of the team's projects that run at once, on all
	// nodes; more wait in the queue.
	ConcurrentBuilds int `json:"concurrent_builds"`
	// OverServingLimit is OverLimitBlock or OverLimitWarn.
	OverServingLimit string `json:"over_serving_limit"`
}

// Plans are the plans every engine knows, with the limits Vercel publishes for its plans of the
// same names (and Vercel's behaviour past them: Hobby projects are paused, Pro pays for more):
// Hobby builds one at a time, Pro 12. Vercel keeps deployments by age only (its retention
// policy) and publishes no count, so RetainedDeployments is ferry's own: 100 a project on
// hobby (as many as Hobby may create in a day) and 10 times that on pro, as its other amounts.
var Plans = []Plan{
	{
		Name: "hobby", Description: "Vercel's Hobby: personal projects",
		BandwidthGB: 100, FunctionGBHours: 100, BuildMinutes: 6000,
		MaxDurationSeconds: 300, MaxMemoryMB: 2048, CustomDomains: 50,
		RetainedDeployments: 100, ConcurrentBuilds: 1,
		OverServingLimit: OverLimitBlock,
	},
	{
		Name: "pro", Description: "Vercel's Pro: teams, commercial use",
		BandwidthGB: 1000, FunctionGBHours: 1000, BuildMinutes: 24000,
		MaxDurationSeconds: 800, MaxMemoryMB: 4096,
		RetainedDeployments: 1000, ConcurrentBuilds: 12,
		OverServingLimit: OverLimitWarn,
	},
}

// PlanNamed returns the plan of that name.
func PlanNamed(name string) (Plan, bool) {
	for _, p := range Plans {
		if p.Name == name {
			return p, true
		}
	}
	return Plan{}, false
}

// PlanList answers GET PathPlans.
type PlanList struct {
	Plans []Plan `json:"plans"`
}

// TeamPlanRequest puts a team on a plan (PUT PathTeamPlan); "" takes it off any: no limits.
type TeamPlanRequest struct {
	Plan string `json:"plan"`
}

// TeamPlan answers GET PathTeamPlan: the team's plan and what the team used of it this month.
type TeamPlan struct {
	Team  string `json:"team"`
	Plan  *Plan  `json:"plan,omitempty"` // nil: no plan, no limits
	Since string `json:"since"`          // the month's first day
	Until string `json:"until"`          // the next month's first day: when amounts start again
	// Used is what the team's projects used this month.
	Used UsageTotals `json:"used"`
	// Over names the limits passed; Warnings those at 80 % or more.
	Over     []string `json:"over,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
}
