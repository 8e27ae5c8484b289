package api

// PathUsage reports what projects used, by day (GET), as the engine meters it: requests and
// bytes out as the edge answers them, function GB-hours (each instance's memory limit times the
// time it ran, as Vercel counts them) and build minutes. Query parameters:
//
//	project  a project's id or name; without it, every project the caller may see
//	since    the first day (YYYY-MM-DD, UTC); default: the first day of this month
//	until    the day after the last (YYYY-MM-DD); default: tomorrow, so that today is in
//
// What nodes counted in the last seconds is in too: the answering node adds what it counted
// before reading, others add theirs every 10 s.
const PathUsage = "/v1/usage"

// UsageReport answers GET PathUsage.
type UsageReport struct {
	Since  string      `json:"since"`
	Until  string      `json:"until"`
	Days   []UsageDay  `json:"days"` // by date, then project name
	Totals UsageTotals `json:"totals"`
}

// UsageDay is what one project used on one day.
type UsageDay struct {
	Date      string `json:"date"` // YYYY-MM-DD, UTC
	ProjectID string `json:"project_id"`
	Project   string `json:"project"` // its name; "" for a project deleted since
	UsageTotals
}

// UsageTotals are amounts of usage.
type UsageTotals struct {
	Requests        int64   `json:"requests"`
	BytesOut        int64   `json:"bytes_out"`
	FunctionGBHours float64 `json:"function_gb_hours"`
	BuildMinutes    float64 `json:"build_minutes"`
}

// DateLayout is how PathUsage writes and reads days.
const DateLayout = "2006-01-02"
