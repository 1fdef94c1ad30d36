package report

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/analyze"
)

// chartSpec is one chart as the page script reads it: the container id, the
// ECharts option built with go-echarts, and what the script adds that
// go-echarts cannot express without JavaScript functions.
//
// The option is marshalled here with encoding/json, not with go-echarts'
// renderer: that one writes JSON without HTML escaping and turns any string
// holding "__f__" into live code, both unsafe for strings from email. JSON
// escaped this way has no "<" at all, so no "</script>" can end the script
// block early.
type chartSpec struct {
	ID     string          `json:"id"`
	Option json.RawMessage `json:"option"`
	// Units are appended to values in the tooltip, one per series.
	Units []string `json:"units"`
	// LabelWidth truncates category labels (domain names) to this many
	// pixels; 0 leaves them.
	LabelWidth int `json:"labelWidth,omitempty"`
	// Display, when set, is the text the tooltip shows for each point
	// ([series][point]) instead of the raw value, e.g. "4.1 h".
	Display [][]string `json:"display,omitempty"`
}

// Series colours: calm, distinct, and the same meaning on every chart.
const (
	colAccepted  = "#64748b"
	colDelivered = "#16a34a"
	colTemporary = "#f59e0b"
	colPermanent = "#dc2626"
	colRate      = "#2563eb"
	colComplaint = "#9333ea"
	colUnsub     = "#0891b2"
	// Mailgun's metrics (sync --metrics), before the index's first event:
	// the same meanings, paler.
	colMetricsAccepted  = "#cbd5e1"
	colMetricsDelivered = "#86efac"
	colMetricsRate      = "#93c5fd"
)

// colOther is the grey of "other" and of classes without a colour.
const colOther = "#94a3b8"

// classColours give each failure class one colour on every report, whatever
// its rank: red is always a policy block. Related classes share a hue.
var classColours = map[string]string{
	maildiag.ClassPolicyBlock:           "#dc2626",
	maildiag.ClassBlocklisted:           "#991b1b",
	maildiag.ClassSpamContent:           "#f97316",
	maildiag.ClassAuthentication:        "#db2777",
	maildiag.ClassRateLimited:           "#f59e0b",
	maildiag.ClassGreylisted:            "#fcd34d",
	maildiag.ClassConnection:            "#a16207",
	maildiag.ClassUserUnknown:           "#2563eb",
	maildiag.ClassMailboxDisabled:       "#1e40af",
	maildiag.ClassMailboxFull:           "#0891b2",
	maildiag.ClassDomainNotFound:        "#9333ea",
	maildiag.ClassExpired:               "#6d28d9",
	maildiag.ClassMessageTooLarge:       "#0d9488",
	maildiag.ClassSuppressedBounce:      "#65a30d",
	maildiag.ClassSuppressedComplaint:   "#3f6212",
	maildiag.ClassSuppressedUnsubscribe: "#84cc16",
	maildiag.ClassSuppressedListQuality: "#4d7c0f",
	maildiag.ClassDelayedBounce:         "#7c3aed",
	maildiag.ClassRejectedByMailgun:     "#475569",
	maildiag.ClassOther:                 "#94a3b8",
}

// bucketUnit names the time axis of the volume and class charts.
func bucketUnit(hourly bool) string {
	if hourly {
		return "hour"
	}
	return "day"
}

// classColour is a class's fixed colour; grey for one it does not know.
func classColour(class string) string {
	if c, ok := classColours[class]; ok {
		return c
	}
	return colOther
}

// maxClassSeries is how many classes get their own series; the rest are
// summed as "other".
const maxClassSeries = 7

func baseOpts(id string, height int) []charts.GlobalOpts {
	return []charts.GlobalOpts{
		charts.WithInitializationOpts(opts.Initialization{
			ChartID: id, // fixed: go-echarts would pick a random one
			Width:   "100%",
			Height:  fmt.Sprintf("%dpx", height),
		}),
		// No animation: charts are complete at once, for print and screenshots.
		charts.WithAnimation(false),
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "axis"}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(true), Type: "scroll", Top: "0"}),
		charts.WithGridOpts(opts.Grid{Left: "8", Right: "16", Top: "40", Bottom: "8", ContainLabel: opts.Bool(true)}),
	}
}

// spec validates a go-echarts chart and marshals its option.
func spec(id string, c interface {
	Validate()
	JSON() map[string]interface{}
}, units []string, labelWidth int) (chartSpec, error) {
	c.Validate()
	b, err := json.Marshal(c.JSON())
	if err != nil {
		return chartSpec{}, fmt.Errorf("marshal chart %s: %w", id, err)
	}
	return chartSpec{ID: id, Option: b, Units: units, LabelWidth: labelWidth}, nil
}

func newBar(id string, height int, colors ...string) *charts.Bar {
	bar := charts.NewBar()
	bar.SetGlobalOptions(baseOpts(id, height)...)
	bar.SetGlobalOptions(charts.WithColorsOpts(opts.Colors(colors)))
	// The assets are inlined by the page; drop go-echarts' CDN script list.
	bar.ClearPresetAssets()
	return bar
}

func barData(vs []int64) []opts.BarData {
	out := make([]opts.BarData, len(vs))
	for i, v := range vs {
		out[i] = opts.BarData{Value: v}
	}
	return out
}

// buildCharts makes the spec of every chart that has data, in page order.
// Sections without data render a sentence instead, and have no spec.
func buildCharts(d *analyze.HealthResult, v *view, o Options) ([]chartSpec, error) {
	c := newClock(o.Location, d.Period)
	bars := limit(o.MaxBars, 10)
	var out []chartSpec
	add := func(s chartSpec, err error) error {
		if err == nil {
			out = append(out, s)
		}
		return err
	}
	if !v.Volume.Empty {
		if err := add(volumeChart(d, c, v.Volume.Chart.Height)); err != nil {
			return nil, err
		}
	}
	if !v.Failures.Empty && len(d.Classes) > 0 {
		if err := add(classesChart(d, c, v.Failures.Chart.Height)); err != nil {
			return nil, err
		}
	}
	if !v.Domains.Empty {
		if err := add(domainsChart(d.Domains[:min(bars, len(d.Domains))], v.Domains.Chart.Height)); err != nil {
			return nil, err
		}
	}
	if !v.Providers.Empty {
		if err := add(providersChart(d.Providers[:min(bars, len(d.Providers))], v.Providers.Chart.Height)); err != nil {
			return nil, err
		}
	}
	if len(d.SuppressionDays) > 0 && !v.Suppressions.Empty {
		if err := add(suppressionsChart(d, c, v.Suppressions.Chart.Height)); err != nil {
			return nil, err
		}
	}
	if !v.Delays.Empty {
		if err := add(delaysChart(d.Delays[:min(bars, len(d.Delays))], v.Delays.Chart.Height)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func volumeChart(d *analyze.HealthResult, c clock, height int) (chartSpec, error) {
	labels := make([]string, len(d.Volume))
	var acc, del, tmp, perm []int64
	rate := make([]opts.LineData, len(d.Volume))
	lowest := 100.0
	for i, b := range d.Volume {
		labels[i] = c.bucket(b.Start, d.Hourly)
		acc = append(acc, b.Accepted)
		del = append(del, b.Delivered)
		tmp = append(tmp, b.FailedTemporary)
		perm = append(perm, b.FailedPermanent)
		rate[i] = opts.LineData{Value: "-"} // ECharts' mark for "no value"
		// The analysis's rate is over messages, so the line stays on the
		// chart (never above 100%).
		if b.Accepted+b.Delivered > 0 {
			r := b.DeliveryRate * 100
			rate[i] = opts.LineData{Value: round1(r)}
			lowest = min(lowest, r)
		}
	}
	hist := metricsSeries(d)
	if hist != nil {
		for _, r := range hist.rate {
			if v, ok := r.Value.(float64); ok {
				lowest = min(lowest, v)
			}
		}
	}
	colors := []string{colAccepted, colDelivered, colTemporary, colPermanent, colRate}
	units := []string{"", "", "", "", "%"}
	if hist != nil {
		colors = []string{colAccepted, colDelivered, colTemporary, colPermanent, colMetricsAccepted, colMetricsDelivered, colRate, colMetricsRate}
		units = []string{"", "", "", "", "", "", "%", "%"}
	}
	bar := newBar(chartVolume, height, colors...)
	bar.SetXAxis(labels).
		AddSeries("Accepted", barData(acc)).
		AddSeries("Delivered", barData(del)).
		AddSeries("Failed temporary", barData(tmp), charts.WithBarChartOpts(opts.BarChart{Stack: "failed"})).
		AddSeries("Failed permanent", barData(perm), charts.WithBarChartOpts(opts.BarChart{Stack: "failed"}))
	if hist != nil {
		bar.AddSeries("Accepted (Mailgun metrics)", barData(hist.acc)).
			AddSeries("Delivered (Mailgun metrics)", barData(hist.del))
	}
	bar.SetGlobalOptions(charts.WithYAxisOpts(opts.YAxis{Type: "value", Name: "messages"}), charts.WithXAxisOpts(opts.XAxis{Name: bucketUnit(d.Hourly)}))
	// The rate lives near 100%: start its axis at the next multiple of 5
	// below the lowest value so that dips are visible.
	bar.ExtendYAxis(opts.YAxis{
		Type: "value", Name: "delivery %", Max: 100,
		Min:       math.Max(0, math.Floor(lowest/5)*5-5),
		SplitLine: &opts.SplitLine{Show: opts.Bool(false)},
	})
	line := charts.NewLine()
	line.SetXAxis(labels).AddSeries("Delivery rate", rate,
		charts.WithLineChartOpts(opts.LineChart{YAxisIndex: 1, ConnectNulls: opts.Bool(false)}))
	if hist != nil {
		line.AddSeries("Delivery rate (Mailgun metrics)", hist.rate,
			charts.WithLineChartOpts(opts.LineChart{YAxisIndex: 1, ConnectNulls: opts.Bool(false)}))
	}
	bar.Overlap(line)
	return spec(chartVolume, bar, units, 0)
}

// volumeHistory is the volume chart's series from Mailgun's metrics, one
// point per bucket of Volume (zero, or no rate, where they have none).
type volumeHistory struct {
	acc, del []int64
	rate     []opts.LineData
}

// metricsSeries lays d.MetricsHistory over d.Volume's buckets; nil when
// there is none.
func metricsSeries(d *analyze.HealthResult) *volumeHistory {
	if len(d.MetricsHistory) == 0 {
		return nil
	}
	h := &volumeHistory{acc: make([]int64, len(d.Volume)), del: make([]int64, len(d.Volume)), rate: make([]opts.LineData, len(d.Volume))}
	at := map[int64]analyze.VolumeBucket{}
	for _, b := range d.MetricsHistory {
		at[b.Start.UnixMicro()] = b
	}
	for i, v := range d.Volume {
		h.rate[i] = opts.LineData{Value: "-"}
		b, ok := at[v.Start.UnixMicro()]
		if !ok {
			continue
		}
		h.acc[i], h.del[i] = b.Accepted, b.Delivered
		if r, ok := ratio(b.Delivered, b.Accepted); ok {
			h.rate[i] = opts.LineData{Value: round1(r)}
		}
	}
	return h
}

func classesChart(d *analyze.HealthResult, c clock, height int) (chartSpec, error) {
	totals := classTotals(d.Classes)
	named := map[string]int{} // class -> series index
	var names []string
	for i, t := range totals {
		if i == maxClassSeries && len(totals) > maxClassSeries+1 {
			break
		}
		named[t.Class] = len(names)
		names = append(names, t.Class)
	}
	other := len(names) < len(totals)
	if other {
		names = append(names, "other")
	}
	series := make([][]int64, len(names))
	labels := make([]string, len(d.Classes))
	for i, b := range d.Classes {
		labels[i] = c.bucket(b.Start, d.Hourly)
		row := make([]int64, len(names))
		for _, x := range b.Counts {
			if k, ok := named[x.Class]; ok {
				row[k] += x.Count
			} else {
				row[len(names)-1] += x.Count
			}
		}
		for k := range names {
			series[k] = append(series[k], row[k])
		}
	}
	colors := make([]string, len(names))
	for k, n := range names {
		colors[k] = classColour(n)
	}
	bar := newBar(chartClasses, height, colors...)
	bar.SetXAxis(labels)
	// Up to eight names: let the legend wrap to two lines above the plot
	// rather than page, so that print shows them all.
	bar.SetGlobalOptions(
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(true), Top: "0"}),
		charts.WithGridOpts(opts.Grid{Left: "8", Right: "16", Top: "64", Bottom: "8", ContainLabel: opts.Bool(true)}),
	)
	bar.SetGlobalOptions(charts.WithYAxisOpts(opts.YAxis{Type: "value", Name: "failures"}), charts.WithXAxisOpts(opts.XAxis{Name: bucketUnit(d.Hourly)}))
	units := make([]string, len(names))
	for k, n := range names {
		bar.AddSeries(n, barData(series[k]), charts.WithBarChartOpts(opts.BarChart{Stack: "classes"}))
	}
	return spec(chartClasses, bar, units, 0)
}

// horizontal sets up a bar chart with categories down the side, first at top.
func horizontal(bar *charts.Bar, labels []string, valueAxis opts.XAxis) {
	bar.SetXAxis(labels).XYReversal()
	valueAxis.NameLocation, valueAxis.NameGap = "middle", 26
	bar.SetGlobalOptions(
		charts.WithGridOpts(opts.Grid{Left: "8", Right: "32", Top: "40", Bottom: "28", ContainLabel: opts.Bool(true)}),
		charts.WithXAxisOpts(valueAxis),
		charts.WithYAxisOpts(opts.YAxis{Type: "category", Inverse: opts.Bool(true)}),
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "axis", AxisPointer: &opts.AxisPointer{Type: "shadow"}}),
	)
}

func domainsChart(rows []analyze.DomainRow, height int) (chartSpec, error) {
	// Shares of each domain's messages, not counts: the rows are ranked
	// by impact, and a small domain losing all its mail must not be a
	// bar a few pixels wide next to a big one.
	labels := make([]string, len(rows))
	failed := make([]opts.BarData, len(rows))
	ok := make([]opts.BarData, len(rows))
	for i, r := range rows {
		labels[i] = r.Domain
		p, has := ratio(r.Failures, r.Messages)
		if !has {
			failed[i], ok[i] = opts.BarData{Value: "-"}, opts.BarData{Value: "-"}
			continue
		}
		failed[i], ok[i] = opts.BarData{Value: round1(p)}, opts.BarData{Value: round1(100 - p)}
	}
	bar := newBar(chartDomains, height, colPermanent, colAccepted)
	horizontal(bar, labels, opts.XAxis{Type: "value", Name: "% of messages", Max: 100})
	bar.AddSeries("Failed", failed, charts.WithBarChartOpts(opts.BarChart{Stack: "domain"})).
		AddSeries("Other messages", ok, charts.WithBarChartOpts(opts.BarChart{Stack: "domain"}))
	return spec(chartDomains, bar, []string{"%", "%"}, 160)
}

func providersChart(rows []analyze.ProviderRow, height int) (chartSpec, error) {
	labels := make([]string, len(rows))
	data := make([]opts.BarData, len(rows))
	for i, r := range rows {
		labels[i] = r.Provider
		p, ok := ratio(r.Delivered, r.Messages)
		if !ok {
			data[i] = opts.BarData{Value: "-"}
			continue
		}
		col := colDelivered
		switch {
		case p < 90:
			col = colPermanent
		case p < 97:
			col = colTemporary
		}
		data[i] = opts.BarData{Value: round1(p), ItemStyle: &opts.ItemStyle{Color: col}}
	}
	bar := newBar(chartProviders, height, colDelivered)
	horizontal(bar, labels, opts.XAxis{Type: "value", Name: "delivery %", Min: 0, Max: 100})
	// One series, coloured per bar by its rate: a legend would only mislead.
	bar.SetGlobalOptions(
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(false)}),
		charts.WithGridOpts(opts.Grid{Left: "8", Right: "32", Top: "16", Bottom: "28", ContainLabel: opts.Bool(true)}),
	)
	bar.AddSeries("Delivery rate", data)
	return spec(chartProviders, bar, []string{"%"}, 140)
}

func suppressionsChart(d *analyze.HealthResult, c clock, height int) (chartSpec, error) {
	labels := make([]string, len(d.SuppressionDays))
	var b, cm, u []int64
	for i, s := range d.SuppressionDays {
		labels[i] = c.day(s.Day)
		b, cm, u = append(b, s.Bounces), append(cm, s.Complaints), append(u, s.Unsubscribes)
	}
	bar := newBar(chartSuppressions, height, colPermanent, colComplaint, colUnsub)
	bar.SetXAxis(labels)
	bar.SetGlobalOptions(charts.WithYAxisOpts(opts.YAxis{Type: "value", Name: "addresses"}), charts.WithXAxisOpts(opts.XAxis{Name: "day"}))
	st := charts.WithBarChartOpts(opts.BarChart{Stack: "lists"})
	bar.AddSeries("Bounces", barData(b), st).
		AddSeries("Complaints", barData(cm), st).
		AddSeries("Unsubscribes", barData(u), st)
	return spec(chartSuppressions, bar, []string{"", "", ""}, 0)
}

// delaysChart draws the percentiles on a log axis: a p50 of seconds and a
// p99 of hours side by side would otherwise leave the p50 invisible.
func delaysChart(rows []analyze.DelayRow, height int) (chartSpec, error) {
	labels := make([]string, len(rows))
	data := make([][]opts.BarData, 3)
	display := make([][]string, 3)
	for i, r := range rows {
		labels[i] = r.Provider
		for k, v := range []float64{r.P50, r.P90, r.P99} {
			d := opts.BarData{Value: "-"} // a log axis has no place for 0
			if v > 0 {
				d.Value = round1(v)
			}
			data[k] = append(data[k], d)
			display[k] = append(display[k], formatSeconds(v))
		}
	}
	bar := newBar(chartDelays, height, colDelivered, colTemporary, colPermanent)
	horizontal(bar, labels, opts.XAxis{Type: "log", Name: "seconds (log scale)"})
	bar.AddSeries("p50", data[0]).AddSeries("p90", data[1]).AddSeries("p99", data[2])
	s, err := spec(chartDelays, bar, []string{" s", " s", " s"}, 140)
	s.Display = display
	return s, err
}
