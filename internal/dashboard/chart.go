package dashboard

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strings"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
)

// Size of a chart in its own units; it scales to the page's width.
const (
	chartWidth  = 600.0
	chartHeight = 120.0
	chartTop    = 16.0 // room for the title and the largest value
)

// series is one line of a chart: a value per step (a minute, or a day), NaN where there is none.
type series struct {
	Name   string
	Class  string // its colour, in the style sheet
	Values []float64
}

// chart is a chart of a value per minute (or per day), rendered on the server as inline SVG: no
// script draws it.
type chart struct {
	Title  string
	Unit   string
	Start  time.Time
	Daily  bool // a value per day rather than per minute
	Series []series
}

// steps says what one value of c covers, and how its times are written.
func (c chart) steps() (step time.Duration, noun, layout string) {
	if c.Daily {
		return 24 * time.Hour, "days", "Jan 2"
	}
	return time.Minute, "minutes", "15:04"
}

// metricsCharts are the charts of a deployment's per-minute series over the minutes from start
// on. Minutes without requests, which the engine omits, count zero requests, errors and cold
// starts, and have no latency.
func metricsCharts(m api.DeploymentMetrics, start time.Time, minutes int) []chart {
	start = start.UTC().Truncate(time.Minute)
	filled := func() []float64 { return make([]float64, minutes) }
	empty := func() []float64 {
		v := filled()
		for i := range v {
			v[i] = math.NaN()
		}
		return v
	}
	requests, errors, coldStarts, p50, p99 := filled(), filled(), filled(), empty(), empty()
	for _, p := range m.Points {
		i := int(p.Start.UTC().Sub(start) / time.Minute)
		if i < 0 || i >= minutes {
			continue
		}
		requests[i], errors[i], coldStarts[i] = float64(p.Requests), float64(p.Errors), float64(p.ColdStarts)
		if p.Requests > 0 {
			p50[i], p99[i] = p.P50MS, p.P99MS
		}
	}
	return []chart{
		{Title: "Requests per minute", Start: start, Series: []series{{Name: "requests", Class: "s-requests", Values: requests}}},
		{Title: "Errors (5xx) per minute", Start: start, Series: []series{{Name: "errors", Class: "s-errors", Values: errors}}},
		{Title: "Latency", Unit: "ms", Start: start, Series: []series{{Name: "p50", Class: "s-p50", Values: p50}, {Name: "p99", Class: "s-p99", Values: p99}}},
		{Title: "Cold starts per minute", Start: start, Series: []series{{Name: "cold starts", Class: "s-cold", Values: coldStarts}}},
	}
}

// SVG draws the chart: one path per series, scaled to the largest value, broken where a
// step has no value.
func (c chart) SVG() template.HTML {
	top, minutes := 0.0, 0
	for _, s := range c.Series {
		minutes = max(minutes, len(s.Values))
		for _, v := range s.Values {
			if !math.IsNaN(v) {
				top = math.Max(top, v)
			}
		}
	}
	scale := 1.0
	if top > 0 {
		scale = (chartHeight - chartTop) / top
	}
	step := chartWidth / float64(max(minutes-1, 1))
	var b strings.Builder
	names := make([]string, len(c.Series))
	for i, s := range c.Series {
		names[i] = s.Name
	}
	stepLength, noun, layout := c.steps()
	label := fmt.Sprintf("%s: %s over %d %s from %s UTC, at most %s", c.Title, strings.Join(names, " and "), minutes, noun, c.Start.Format(layout), formatValue(top, c.Unit))
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %g %g" role="img" aria-label="%s">`, chartWidth, chartHeight+14, html.EscapeString(label))
	fmt.Fprintf(&b, `<title>%s</title>`, html.EscapeString(label))
	fmt.Fprintf(&b, `<text x="0" y="11" class="chart-title">%s</text>`, html.EscapeString(c.Title))
	fmt.Fprintf(&b, `<text x="%g" y="11" class="chart-max" text-anchor="end">max %s</text>`, chartWidth, html.EscapeString(formatValue(top, c.Unit)))
	fmt.Fprintf(&b, `<line x1="0" y1="%g" x2="%g" y2="%g" class="chart-axis"/>`, chartHeight, chartWidth, chartHeight)
	for _, s := range c.Series {
		var path strings.Builder
		pen := "M"
		for i, v := range s.Values {
			if math.IsNaN(v) {
				pen = "M"
				continue
			}
			fmt.Fprintf(&path, "%s%.1f %.1f ", pen, float64(i)*step, chartHeight-v*scale)
			if pen == "M" {
				path.WriteString("l0 0 ") // a dot (round line caps) for a minute alone
			}
			pen = "L"
		}
		if path.Len() > 0 {
			fmt.Fprintf(&b, `<path d="%s" class="chart-line %s"><title>%s</title></path>`, strings.TrimSpace(path.String()), s.Class, html.EscapeString(s.Name))
		}
	}
	fmt.Fprintf(&b, `<text x="0" y="%g" class="chart-time">%s</text>`, chartHeight+13, c.Start.Format(layout))
	fmt.Fprintf(&b, `<text x="%g" y="%g" class="chart-time" text-anchor="end">%s UTC</text>`, chartWidth, chartHeight+13, c.Start.Add(time.Duration(minutes-1)*stepLength).Format(layout))
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) //nolint:gosec // built above from numbers and escaped text only
}

func formatValue(v float64, unit string) string {
	text := fmt.Sprintf("%.0f", v)
	switch {
	case v != math.Trunc(v) && v < 0.1:
		text = fmt.Sprintf("%.4f", v) // GB-hours of a quiet day
	case v != math.Trunc(v) && v < 10:
		text = fmt.Sprintf("%.1f", v)
	}
	if unit != "" {
		text += " " + unit
	}
	return text
}
