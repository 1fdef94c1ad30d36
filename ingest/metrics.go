package ingest

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/mailgun/mailgun-go/v5"
	"github.com/mailgun/mailgun-go/v5/mtypes"

	"github.com/maildiag/maildiag"
)

// metricNames are the Metrics API counts a maildiag.Metric holds.
var metricNames = []string{"accepted_count", "delivered_count", "temporary_failed_count", "permanent_failed_count",
	"hard_bounces_count", "soft_bounces_count", "suppressed_bounces_count", "suppressed_unsubscribed_count",
	"suppressed_complaints_count", "complained_count", "unsubscribed_count", "opened_count", "clicked_count"}

// metricsLimit is the periods a page asks for.
const metricsLimit = 100

// maxMetricPages bounds one read (a year of hours is 88 pages).
const maxMetricPages = 10_000

// Metrics reads a sending domain's counts per period (maildiag.ResolutionHour
// or ResolutionDay) over [from, to) from Mailgun's Metrics API (POST
// /v1/analytics/metrics) through mailgun-go v5's ListMetrics, paced and
// retried as every request of c. Periods come oldest first.
func (c *Client) Metrics(ctx context.Context, domain, resolution string, from, to time.Time) ([]maildiag.Metric, error) {
	if resolution != maildiag.ResolutionHour && resolution != maildiag.ResolutionDay {
		return nil, fmt.Errorf("read metrics of %s: resolution %q is not hour or day", domain, resolution)
	}
	it, err := c.Mailgun().ListMetrics(mailgun.MetricsOptions{
		Start: mtypes.RFC2822Time(from.UTC()), End: mtypes.RFC2822Time(to.UTC()), Resolution: mtypes.Resolution(resolution),
		Dimensions: []string{"time"}, Metrics: metricNames,
		Filter: mtypes.MetricsFilterPredicateGroup{BoolGroupAnd: []mtypes.MetricsFilterPredicate{{
			Attribute: "domain", Comparator: "=", LabeledValues: []mtypes.MetricsLabeledValue{{Label: domain, Value: domain}},
		}}},
		Pagination: mtypes.MetricsPagination{Sort: "time:asc", Limit: metricsLimit},
	})
	if err != nil {
		return nil, fmt.Errorf("read metrics of %s: %w", domain, err)
	}
	var out []maildiag.Metric
	var resp mtypes.MetricsResponse
	// ListMetrics pages by skip; Next says whether a full page came back,
	// and the last page's items are read before stopping.
	for n := 0; ; n++ {
		if n >= maxMetricPages {
			return out, fmt.Errorf("read metrics of %s: more than %d pages", domain, maxMetricPages)
		}
		more := it.Next(readOnly(ctx), &resp)
		if err := it.Err(); err != nil {
			return out, fmt.Errorf("read metrics of %s: %w", domain, err)
		}
		for _, item := range resp.Items {
			m, err := metricOf(domain, resolution, item)
			if err != nil {
				return out, fmt.Errorf("read metrics of %s: page %d: %w", domain, n+1, err)
			}
			out = append(out, m)
		}
		if !more {
			return out, nil
		}
	}
}

// metricOf reads one item: its time dimension and counts (absent: 0).
func metricOf(domain, resolution string, item mtypes.MetricsItem) (maildiag.Metric, error) {
	m := maildiag.Metric{SendingDomain: domain, Resolution: resolution}
	found := false
	for _, d := range item.Dimensions {
		if d.Dimension != "time" {
			continue
		}
		t, err := parseMetricTime(d.Value)
		if err != nil {
			return m, err
		}
		m.StartUS, found = t.UnixMicro(), true
	}
	if !found {
		return m, fmt.Errorf("an item has no time dimension")
	}
	v := func(p *uint64) int64 {
		if p == nil {
			return 0
		}
		return int64(min(*p, 1<<62))
	}
	x := item.Metrics
	m.Accepted, m.Delivered = v(x.AcceptedCount), v(x.DeliveredCount)
	m.TemporaryFailed, m.PermanentFailed = v(x.TemporaryFailedCount), v(x.PermanentFailedCount)
	m.HardBounces, m.SoftBounces = v(x.HardBouncesCount), v(x.SoftBouncesCount)
	m.Suppressed = v(x.SuppressedBouncesCount) + v(x.SuppressedUnsubscribedCount) + v(x.SuppressedComplaintsCount)
	m.Complained, m.Unsubscribed = v(x.ComplainedCount), v(x.UnsubscribedCount)
	m.Opened, m.Clicked = v(x.OpenedCount), v(x.ClickedCount)
	return m, nil
}

// parseMetricTime reads a period's start, "Tue, 24 Sep 2024 00:00:00 +0000"
// in Mailgun's own example; the other RFC 2822 forms are taken too.
func parseMetricTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, l := range []string{"Mon, 02 Jan 2006 15:04:05 -0700", "Mon, 2 Jan 2006 15:04:05 -0700", "Mon, 02 Jan 2006 15:04:05 MST", time.RFC3339} {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("period time %s is not an RFC 2822 date", quoteShort([]byte(s)))
}
