// Package overview renders the start page: counts by status and provider,
// the review queue, and decision statistics, as server-rendered SVG (no
// chart script; every chart also has its numbers as a table).
package overview

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/views"
)

// View is the overview page.
type View struct {
	Page      views.Page
	Data      db.Overview
	Periods   []int
	Providers []string // display order
	Statuses  []string // workflow order
	Now       time.Time
}

// Chart geometry, in SVG user units.
const (
	chartWidth = 640
	labelWidth = 130
	valueWidth = 110
	rowHeight  = 26
	barHeight  = 16
)

// Bar is one horizontal bar, possibly stacked from segments.
type Bar struct {
	Label    string
	Value    string // the number as text, shown after the bar
	Segments []Segment
}

// Segment is one coloured part of a bar.
type Segment struct {
	X, W  float64
	Class string // a Tailwind fill-* class
	Title string // tooltip
}

// BarChart is a horizontal bar chart ready to draw.
type BarChart struct {
	ID    string
	Title string
	Bars  []Bar
}

// Height is the SVG's height.
func (c BarChart) Height() int { return len(c.Bars)*rowHeight + 4 }

// ViewBox is the SVG viewBox.
func (c BarChart) ViewBox() string { return fmt.Sprintf("0 0 %d %d", chartWidth, c.Height()) }

func rowY(i int) string  { return f1(float64(i*rowHeight) + float64(rowHeight-barHeight)/2) }
func textY(i int) string { return f1(float64(i*rowHeight) + float64(rowHeight)/2 + 4) }
func f1(v float64) string {
	return strconv.FormatFloat(v, 'f', 1, 64)
}
func valueX(b Bar) string {
	end := float64(labelWidth)
	for _, s := range b.Segments {
		end = math.Max(end, s.X+s.W)
	}
	return f1(end + 6)
}

const barSpace = chartWidth - labelWidth - valueWidth

// scale maps a value onto the bar area (at least 1 unit for non-zero
// values, so a small count is still visible).
func scale(v, maxV float64) float64 {
	if maxV <= 0 || v <= 0 {
		return 0
	}
	return math.Max(1, v/maxV*barSpace)
}

// statusFills gives each normalised status its colour, the same family as
// components.StatusBadge.
var statusFills = map[string]string{
	"invited":      "fill-slate-400",
	"in_progress":  "fill-blue-500",
	"needs_review": "fill-amber-400",
	"approved":     "fill-green-600",
	"rejected":     "fill-red-600",
	"blocked":      "fill-rose-800",
	"expired":      "fill-zinc-300",
	"failed":       "fill-orange-500",
	"withdrawn":    "fill-purple-500",
}

// StatusFill is the SVG fill class of a status.
func StatusFill(status string) string {
	if c, ok := statusFills[status]; ok {
		return c
	}
	return "fill-slate-300"
}

// StatusChart draws the applicants by status.
func StatusChart(o db.Overview, statuses []string, label func(string) string) BarChart {
	c := BarChart{ID: "chart-status", Title: "Applicants by status"}
	var maxN int64
	counts := map[string]int64{}
	for _, s := range o.ByStatus {
		counts[s.Status] = s.N
		maxN = max(maxN, s.N)
	}
	for _, s := range orderStatuses(statuses, o.ByStatus) {
		n := counts[s]
		c.Bars = append(c.Bars, Bar{Label: label(s), Value: strconv.FormatInt(n, 10),
			Segments: []Segment{{X: labelWidth, W: scale(float64(n), float64(maxN)), Class: StatusFill(s), Title: fmt.Sprintf("%s: %d", label(s), n)}}})
	}
	return c
}

// orderStatuses lists the known statuses in workflow order, then any other
// status the counters hold.
func orderStatuses(known []string, have []db.StatusCount) []string {
	out := append([]string(nil), known...)
	seen := map[string]bool{}
	for _, s := range known {
		seen[s] = true
	}
	for _, s := range have {
		if !seen[s.Status] {
			out = append(out, s.Status)
		}
	}
	return out
}

// ProviderChart draws each provider's applicants, stacked by status.
func ProviderChart(o db.Overview, providers, statuses []string, title func(string) string, label func(string) string) BarChart {
	c := BarChart{ID: "chart-provider", Title: "Applicants by provider and status"}
	byName := map[string]db.ProviderCounts{}
	var maxN int64
	for _, p := range o.ByProvider {
		byName[p.Provider] = p
		maxN = max(maxN, p.Total)
	}
	for _, name := range providers {
		p := byName[name]
		b := Bar{Label: title(name), Value: strconv.FormatInt(p.Total, 10)}
		counts := map[string]int64{}
		for _, s := range p.ByStatus {
			counts[s.Status] = s.N
		}
		x := float64(labelWidth)
		for _, s := range orderStatuses(statuses, p.ByStatus) {
			n := counts[s]
			if n == 0 {
				continue
			}
			w := float64(n) / float64(maxN) * barSpace
			b.Segments = append(b.Segments, Segment{X: x, W: w, Class: StatusFill(s), Title: fmt.Sprintf("%s, %s: %d", title(name), label(s), n)})
			x += w
		}
		c.Bars = append(c.Bars, b)
	}
	return c
}

// RateChart draws each provider's approval rate over the period.
func RateChart(o db.Overview, providers []string, title func(string) string) BarChart {
	c := BarChart{ID: "chart-rate", Title: fmt.Sprintf("Approval rate, last %d days", o.PeriodDays)}
	for _, name := range providers {
		d := decisionsOf(o, name)
		b := Bar{Label: title(name), Value: "no decisions"}
		if d.Decided() > 0 {
			rate := d.ApprovalRate()
			b.Value = fmt.Sprintf("%.0f%% of %d", rate*100, d.Decided())
			b.Segments = []Segment{
				{X: labelWidth, W: rate * barSpace, Class: "fill-green-600", Title: fmt.Sprintf("%s: %d approved", title(name), d.Approved)},
				{X: labelWidth + rate*barSpace, W: (1 - rate) * barSpace, Class: "fill-red-200", Title: fmt.Sprintf("%s: %d rejected", title(name), d.Rejected)},
			}
		}
		c.Bars = append(c.Bars, b)
	}
	return c
}

// MedianChart draws each provider's median time to decision.
func MedianChart(o db.Overview, providers []string, title func(string) string) BarChart {
	c := BarChart{ID: "chart-median", Title: fmt.Sprintf("Median time to decision, last %d days", o.PeriodDays)}
	var maxD time.Duration
	for _, d := range o.Decisions {
		maxD = max(maxD, d.Median)
	}
	for _, name := range providers {
		d := decisionsOf(o, name)
		b := Bar{Label: title(name), Value: "—"}
		if d.Decided() > 0 {
			b.Value = Duration(d.Median)
			b.Segments = []Segment{{X: labelWidth, W: scale(float64(d.Median), float64(maxD)), Class: "fill-blue-600", Title: title(name) + ": " + Duration(d.Median)}}
		}
		c.Bars = append(c.Bars, b)
	}
	return c
}

func decisionsOf(o db.Overview, provider string) db.ProviderDecisions {
	for _, d := range o.Decisions {
		if d.Provider == provider {
			return d
		}
	}
	return db.ProviderDecisions{Provider: provider}
}

// Duration renders a duration for people: "40 min", "5.2 h", "3.5 days".
func Duration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "under a minute"
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%.1f h", d.Hours())
	default:
		return fmt.Sprintf("%.1f days", d.Hours()/24)
	}
}

// Age renders how long the oldest case has waited.
func Age(since, now time.Time) string {
	if since.IsZero() {
		return "—"
	}
	return Duration(now.Sub(since))
}

func periodURL(days int) string { return "/?period=" + strconv.Itoa(days) }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
