package dashboard

import (
	"math"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/client"
)

// usageData is the usage page: this month's charts, of every project the session sees or of one,
// and each project's totals.
type usageData struct {
	Report   *api.UsageReport
	Project  string // "" for every project
	Charts   []chart
	Projects []projectUsage
}

type projectUsage struct {
	ID, Name string
	api.UsageTotals
}

func (d *Dashboard) usagePage(w http.ResponseWriter, r *request) {
	project := r.URL.Query().Get("project")
	report, err := r.api.Usage(r.ctx, client.UsageQuery{Project: project})
	if err != nil {
		d.fail(w, r, err)
		return
	}
	data := usageData{Report: report, Project: project}
	since, errSince := time.Parse(api.DateLayout, report.Since)
	until, errUntil := time.Parse(api.DateLayout, report.Until)
	if errSince == nil && errUntil == nil {
		data.Charts = usageCharts(report.Days, since, int(until.Sub(since)/(24*time.Hour)))
	}
	byProject := map[string]*projectUsage{}
	for _, day := range report.Days {
		p := byProject[day.ProjectID]
		if p == nil {
			p = &projectUsage{ID: day.ProjectID, Name: day.Project}
			byProject[day.ProjectID] = p
		}
		p.Requests += day.Requests
		p.BytesOut += day.BytesOut
		p.FunctionGBHours += day.FunctionGBHours
		p.BuildMinutes += day.BuildMinutes
	}
	for _, p := range byProject {
		data.Projects = append(data.Projects, *p)
	}
	slices.SortFunc(data.Projects, func(a, b projectUsage) int { return strings.Compare(a.Name+a.ID, b.Name+b.ID) })
	title := "Usage"
	if project != "" {
		title = "Usage of " + project
	}
	d.render(w, http.StatusOK, "usage", view{Title: title, CSRF: r.session.csrf, Data: data})
}

// usageCharts are the daily charts of what was used over the days from since on, every project
// of days summed. Days without usage count zero.
func usageCharts(days []api.UsageDay, since time.Time, count int) []chart {
	requests, mebibytes, gbHours, buildMinutes := make([]float64, count), make([]float64, count), make([]float64, count), make([]float64, count)
	for _, day := range days {
		at, err := time.Parse(api.DateLayout, day.Date)
		if err != nil {
			continue
		}
		i := int(at.Sub(since) / (24 * time.Hour))
		if i < 0 || i >= count {
			continue
		}
		requests[i] += float64(day.Requests)
		mebibytes[i] += float64(day.BytesOut) / (1 << 20)
		gbHours[i] += day.FunctionGBHours
		buildMinutes[i] += day.BuildMinutes
	}
	for i := range mebibytes {
		mebibytes[i] = math.Round(mebibytes[i]*10) / 10
	}
	daily := func(title, unit, name, class string, values []float64) chart {
		return chart{Title: title, Unit: unit, Start: since, Daily: true, Series: []series{{Name: name, Class: class, Values: values}}}
	}
	return []chart{
		daily("Requests per day", "", "requests", "s-requests", requests),
		daily("Bytes out per day", "MiB", "bytes out", "s-p50", mebibytes),
		daily("Function GB-hours per day", "GB-h", "GB-hours", "s-p99", gbHours),
		daily("Build minutes per day", "min", "build minutes", "s-cold", buildMinutes),
	}
}
