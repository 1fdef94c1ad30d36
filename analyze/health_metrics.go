package analyze

import (
	"context"
	"time"

	"github.com/maildiag/maildiag"
)

// MetricsReader reads the counts of Mailgun's Metrics API a sync stored
// (sync --metrics). A Store that has none need not implement it.
type MetricsReader interface {
	// Metrics returns the periods of one resolution (maildiag.ResolutionHour
	// or ResolutionDay) that start in [fromUS, toUS), of some sending
	// domains (none: all), oldest first.
	Metrics(ctx context.Context, resolution string, sendingDomains []string, fromUS, toUS int64) ([]maildiag.Metric, error)
}

// healthMetrics fills in res.MetricsHistory: the buckets of res.Volume
// that end before the index's first event, from stored metrics of the
// same resolution. A report narrowed to recipients gets none.
func healthMetrics(ctx context.Context, db Store, q HealthQuery, res *HealthResult, span Span, sc *scope) error {
	mr, ok := db.(MetricsReader)
	if !ok || q.To != nil || len(res.Volume) == 0 {
		return nil
	}
	unit, resolution := 24*time.Hour, maildiag.ResolutionDay
	if res.Hourly {
		unit, resolution = time.Hour, maildiag.ResolutionHour
	}
	// Buckets wholly before the first event; an empty index has none.
	n := len(res.Volume)
	if !span.First.IsZero() {
		n = 0
		for n < len(res.Volume) && !res.Volume[n].Start.Add(unit).After(span.First) {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	ms, err := mr.Metrics(ctx, resolution, sc.sending, res.Volume[0].Start.UnixMicro(), res.Volume[n-1].Start.Add(unit).UnixMicro())
	if err != nil {
		return err
	}
	if len(ms) == 0 {
		return nil
	}
	hist := make([]VolumeBucket, n)
	seen := make([]bool, n)
	for i := range hist {
		hist[i].Start = res.Volume[i].Start
	}
	for _, m := range ms {
		i := int(time.UnixMicro(m.StartUS).UTC().Sub(res.Volume[0].Start) / unit)
		if i < 0 || i >= n {
			continue
		}
		seen[i] = true
		hist[i].Totals.addMetric(m)
	}
	// Only the span the metrics cover: from their first period on.
	first := 0
	for first < n && !seen[first] {
		first++
	}
	for i := range hist {
		hist[i].finish()
	}
	res.MetricsHistory = hist[first:]
	return nil
}

// addMetric adds one period of Mailgun's metrics to t.
func (t *Totals) addMetric(m maildiag.Metric) {
	t.Accepted += m.Accepted
	t.Delivered += m.Delivered
	t.FailedTemporary += m.TemporaryFailed
	t.FailedPermanent += max(m.PermanentFailed-m.Suppressed, 0) // Mailgun counts drops as permanent failures
	t.Suppressed += m.Suppressed
	t.Complaints += m.Complained
	t.Unsubscribes += m.Unsubscribed
	t.Opened += m.Opened
	t.Clicked += m.Clicked
}

// previousMetrics counts the previous period [prev, from) from Mailgun's
// metrics when the index does not reach back to its start, so that a
// first week's report still compares with the week before. It counts the
// hours as the index's hourly counts would (those that start in the
// period and end by its end), or whole UTC days when the period is made
// of them and the hours are gone. Every sending domain in scope must have
// every period (the API serves zeros too): counts of a part of the
// account would read as a drop. A report narrowed to recipients gets
// none, as metrics have no recipients.
func previousMetrics(ctx context.Context, db Store, q HealthQuery, prev time.Time, sc *scope) (*Totals, error) {
	mr, ok := db.(MetricsReader)
	if !ok || q.To != nil {
		return nil, nil
	}
	doms := sc.sending
	if len(doms) == 0 {
		var err error
		if doms, err = db.SendingDomains(ctx); err != nil {
			return nil, err
		}
	}
	if len(doms) == 0 {
		return nil, nil
	}
	from := q.Since
	for _, r := range []struct {
		res  string
		unit time.Duration
	}{{maildiag.ResolutionHour, time.Hour}, {maildiag.ResolutionDay, 24 * time.Hour}} {
		first := prev.Truncate(r.unit)
		if first.Before(prev) {
			if r.res == maildiag.ResolutionDay {
				continue // days cut at the period's edges would count another span
			}
			first = first.Add(r.unit)
		}
		last := from.Truncate(r.unit) // periods start before it
		if r.res == maildiag.ResolutionDay && !last.Equal(from) {
			continue
		}
		n := int(last.Sub(first) / r.unit)
		if n <= 0 {
			continue
		}
		ms, err := mr.Metrics(ctx, r.res, doms, first.UnixMicro(), last.UnixMicro())
		if err != nil {
			return nil, err
		}
		have := map[string]int{}
		var t Totals
		for _, m := range ms {
			have[m.SendingDomain]++
			t.addMetric(m)
		}
		whole := true
		for _, d := range doms {
			whole = whole && have[d] == n
		}
		if whole {
			t.finish()
			return &t, nil
		}
	}
	return nil, nil
}
