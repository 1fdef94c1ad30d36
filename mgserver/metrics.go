package mgserver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Metrics API retention, as Mailgun documents it: hourly counts for 60
// days, daily ones for a year (monthly ones as long as daily).
const (
	metricsHourRetention = 60 * 24 * time.Hour
	metricsDayRetention  = 365 * 24 * time.Hour
	maxMetricsLimit      = 1000
	defaultMetricsLimit  = 10 // mailgun-go v5's default too
)

// metricsRequest is the body of POST /v1/analytics/metrics.
type metricsRequest struct {
	Start              string                     `json:"start"`
	End                string                     `json:"end"`
	Resolution         string                     `json:"resolution"`
	Duration           string                     `json:"duration"`
	Dimensions         []string                   `json:"dimensions"`
	Metrics            []string                   `json:"metrics"`
	Filter             map[string][]logsCondition `json:"filter"`
	IncludeSubaccounts bool                       `json:"include_subaccounts"`
	IncludeAggregates  bool                       `json:"include_aggregates"`
	Pagination         struct {
		Sort  string `json:"sort"`
		Skip  int    `json:"skip"`
		Limit int    `json:"limit"`
	} `json:"pagination"`
}

// metricCounter counts one metric: whether an event adds to it.
type metricCounter func(e *Event) bool

// metricCounters are the counts the server computes from the account's
// events, by Mailgun's metric definitions (hard bounce: permanent, reason
// bounce, not a delayed bounce; soft: permanent for a generic, greylisted,
// blacklisted or ESP-block reason; suppressed: dropped for a list).
var metricCounters = map[string]metricCounter{
	"accepted_count":   func(e *Event) bool { return e.Type == "accepted" },
	"delivered_count":  func(e *Event) bool { return e.Type == "delivered" },
	"failed_count":     func(e *Event) bool { return e.Type == "failed" },
	"opened_count":     func(e *Event) bool { return e.Type == "opened" },
	"clicked_count":    func(e *Event) bool { return e.Type == "clicked" },
	"complained_count": func(e *Event) bool { return e.Type == "complained" },
	"unsubscribed_count": func(e *Event) bool {
		return e.Type == "unsubscribed"
	},
	"temporary_failed_count": func(e *Event) bool { return e.Type == "failed" && e.Severity == "temporary" },
	"permanent_failed_count": func(e *Event) bool { return e.Type == "failed" && e.Severity == "permanent" },
	"hard_bounces_count": func(e *Event) bool {
		return e.Type == "failed" && e.Severity == "permanent" && e.reason == "bounce" && !e.delayedBounce
	},
	"soft_bounces_count": func(e *Event) bool {
		switch e.reason {
		case "generic", "greylisted", "blacklisted", "espblock":
			return e.Type == "failed" && e.Severity == "permanent"
		}
		return false
	},
	"delayed_bounce_count":          func(e *Event) bool { return e.Type == "failed" && e.delayedBounce },
	"suppressed_bounces_count":      func(e *Event) bool { return e.Type == "failed" && e.reason == "suppress-bounce" },
	"suppressed_unsubscribed_count": func(e *Event) bool { return e.Type == "failed" && e.reason == "suppress-unsubscribe" },
	"suppressed_complaints_count":   func(e *Event) bool { return e.Type == "failed" && e.reason == "suppress-complaint" },
}

// metricsQuery is a parsed metrics request.
type metricsQuery struct {
	from, to   time.Time // [from, to), on period bounds
	resolution string
	metrics    []string
	domains    map[string]bool // nil: every domain
	skip       int
	limit      int
	aggregates bool
}

// handleMetrics answers POST /v1/analytics/metrics with the counts of the
// account's sending domains by period ("time" is the one dimension
// served), every period of the range (zeros included) oldest first.
// Periods older than the resolution's retention are left out; metrics
// outlive the events' own retention, as Mailgun's do.
func (s *Server) handleMetrics(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		writeMessage(w, http.StatusBadRequest, "read body: "+err.Error())
		return
	}
	var req metricsRequest
	if err := json.NewDecoder(bytes.NewReader(body)).Decode(&req); err != nil {
		writeMessage(w, http.StatusBadRequest, "invalid JSON body: "+err.Error())
		return
	}
	now := s.opts.Now().UTC()
	q, err := parseMetricsRequest(&req, now)
	if err != nil {
		writeMessage(w, http.StatusBadRequest, err.Error())
		return
	}
	periods := metricPeriods(q, now)
	counts := make([][]uint64, len(periods))
	for i := range counts {
		counts[i] = make([]uint64, len(q.metrics))
	}
	counters := make([]metricCounter, len(q.metrics))
	for i, m := range q.metrics {
		counters[i] = metricCounters[m]
	}
	sums := make([]uint64, len(q.metrics))
	if len(periods) > 0 {
		lo, hi := periods[0].UnixMicro(), q.to.UnixMicro()
		a := s.acct
		a.mu.RLock()
		for _, d := range a.domains {
			if q.domains != nil && !q.domains[d.name] {
				continue
			}
			for i := range d.events {
				e := &d.events[i]
				if e.Time < lo || e.Time >= hi || e.Time > now.UnixMicro() {
					continue
				}
				p := periodIndex(periods, e.When())
				for j, c := range counters {
					if c(e) {
						counts[p][j]++
						sums[j]++
					}
				}
			}
		}
		a.mu.RUnlock()
	}
	type dimension struct {
		Dimension    string `json:"dimension"`
		Value        string `json:"value"`
		DisplayValue string `json:"display_value"`
	}
	type item struct {
		Dimensions []dimension        `json:"dimensions"`
		Metrics    map[string]*uint64 `json:"metrics"`
	}
	metricMap := func(vals []uint64) map[string]*uint64 {
		m := make(map[string]*uint64, len(vals))
		for j, name := range q.metrics {
			m[name] = &vals[j]
		}
		return m
	}
	items := []item{}
	for i := q.skip; i < len(periods) && i < q.skip+q.limit; i++ {
		v := formatRFC2822Metrics(periods[i])
		items = append(items, item{Dimensions: []dimension{{"time", v, v}}, Metrics: metricMap(counts[i])})
	}
	resp := map[string]any{
		"start":      formatRFC2822Metrics(q.from),
		"end":        formatRFC2822Metrics(q.to),
		"resolution": q.resolution,
		"dimensions": []string{"time"},
		"items":      items,
		"pagination": map[string]any{"sort": "time:asc", "skip": q.skip, "limit": q.limit, "total": len(periods)},
		"aggregates": map[string]any{"metrics": map[string]*uint64{}},
	}
	if q.aggregates {
		resp["aggregates"] = map[string]any{"metrics": metricMap(sums)}
	}
	s.stats.metricsPages.Add(1)
	writeJSON(w, http.StatusOK, resp)
}

// formatRFC2822Metrics writes a period's time as the Metrics API does,
// e.g. "Tue, 24 Sep 2024 00:00:00 +0000".
func formatRFC2822Metrics(t time.Time) string {
	return t.UTC().Format("Mon, 02 Jan 2006 15:04:05 -0700")
}

func parseMetricsRequest(req *metricsRequest, now time.Time) (*metricsQuery, error) {
	q := &metricsQuery{resolution: req.Resolution, aggregates: req.IncludeAggregates}
	if q.resolution == "" {
		q.resolution = "day"
	}
	if q.resolution != "hour" && q.resolution != "day" && q.resolution != "month" {
		return nil, fmt.Errorf("resolution %q is not hour, day or month", req.Resolution)
	}
	q.to = now
	if req.End != "" {
		t, err := parseRFC2822(req.End)
		if err != nil {
			return nil, fmt.Errorf("end: %w", err)
		}
		q.to = t.UTC()
	}
	q.from = q.to.Add(-7 * 24 * time.Hour)
	if req.Start != "" {
		t, err := parseRFC2822(req.Start)
		if err != nil {
			return nil, fmt.Errorf("start: %w", err)
		}
		q.from = t.UTC()
	}
	if req.Duration != "" {
		d, err := parseMetricsDuration(req.Duration)
		if err != nil {
			return nil, err
		}
		q.from = q.to.Add(-d)
	}
	if !q.from.Before(q.to) {
		return nil, fmt.Errorf("start %s is not before end %s", formatRFC2822Metrics(q.from), formatRFC2822Metrics(q.to))
	}
	for _, d := range req.Dimensions {
		if d != "time" {
			return nil, fmt.Errorf("dimension %q is not served here (only time)", d)
		}
	}
	if len(req.Metrics) == 0 {
		return nil, fmt.Errorf("no metrics asked for")
	}
	for _, m := range req.Metrics {
		if metricCounters[m] == nil {
			return nil, fmt.Errorf("metric %q is not served here", m)
		}
	}
	q.metrics = req.Metrics
	for op, conds := range req.Filter {
		if op != "AND" {
			return nil, fmt.Errorf("filter: only AND is supported, not %q", op)
		}
		for _, c := range conds {
			if c.Attribute != "domain" || c.Comparator != "=" {
				return nil, fmt.Errorf("filter: %s %s is not served here (only domain =)", c.Attribute, c.Comparator)
			}
			if q.domains == nil {
				q.domains = map[string]bool{}
			}
			for _, v := range c.Values {
				q.domains[strings.ToLower(v.Value)] = true
			}
		}
	}
	q.skip, q.limit = req.Pagination.Skip, req.Pagination.Limit
	if q.limit == 0 {
		q.limit = defaultMetricsLimit
	}
	if q.skip < 0 || q.limit < 0 || q.limit > maxMetricsLimit {
		return nil, fmt.Errorf("pagination: skip %d, limit %d (at most %d)", q.skip, q.limit, maxMetricsLimit)
	}
	return q, nil
}

// parseMetricsDuration reads "7d" or "36h" (months, "2m", are not served).
func parseMetricsDuration(s string) (time.Duration, error) {
	var n int
	var unit string
	if _, err := fmt.Sscanf(s, "%d%s", &n, &unit); err != nil || n <= 0 {
		return 0, fmt.Errorf("duration %q is not like 7d or 36h", s)
	}
	switch unit {
	case "d":
		return time.Duration(n) * 24 * time.Hour, nil
	case "h":
		return time.Duration(n) * time.Hour, nil
	}
	return 0, fmt.Errorf("duration %q: unit %q is not d or h", s, unit)
}

// metricPeriods are the starts of the periods that overlap [from, to),
// within the resolution's retention before now.
func metricPeriods(q *metricsQuery, now time.Time) []time.Time {
	trunc := func(t time.Time) time.Time {
		switch q.resolution {
		case "hour":
			return t.Truncate(time.Hour)
		case "day":
			return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
		}
		return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	}
	next := func(t time.Time) time.Time {
		switch q.resolution {
		case "hour":
			return t.Add(time.Hour)
		case "day":
			return t.AddDate(0, 0, 1)
		}
		return t.AddDate(0, 1, 0)
	}
	keep := metricsDayRetention
	if q.resolution == "hour" {
		keep = metricsHourRetention
	}
	oldest := trunc(now.Add(-keep))
	var out []time.Time
	for t := trunc(q.from); t.Before(q.to) && len(out) < 1<<20; t = next(t) {
		if !t.Before(oldest) {
			out = append(out, t)
		}
	}
	return out
}

// periodIndex finds the period t falls in (periods are sorted, t within).
func periodIndex(periods []time.Time, t time.Time) int {
	i, found := slices.BinarySearchFunc(periods, t, func(p, t time.Time) int { return p.Compare(t) })
	if found {
		return i
	}
	return max(i-1, 0)
}
