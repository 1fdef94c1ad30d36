package syncer

import (
	"context"
	"fmt"
	"time"

	"github.com/maildiag/maildiag"
)

// Mailgun keeps hourly metrics 60 days and daily ones a year: a pass with
// Options.Metrics reads both, whole, each time (a few requests a domain).
const (
	metricsHours = 60 * 24 * time.Hour
	metricsDays  = 365 * 24 * time.Hour
)

// syncMetrics reads each domain's daily and hourly metrics and stores them,
// one transaction a domain. A refusal (403, 404: a plan or key without
// the Metrics API) is a warning; another failure is the domain's error.
func (p *pass) syncMetrics(ctx context.Context, now time.Time) error {
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	spans := []struct {
		res  string
		from time.Time
	}{
		{maildiag.ResolutionDay, day.Add(-metricsDays)},
		{maildiag.ResolutionHour, now.Truncate(time.Hour).Add(-metricsHours)},
	}
	wctx := context.WithoutCancel(ctx) // what was read is stored
	for _, d := range p.runs {
		var all []maildiag.Metric
		var failed error
		for _, s := range spans {
			ms, err := d.client.Metrics(ctx, d.name, s.res, s.from, now)
			if err != nil {
				failed = err
				break
			}
			all = append(all, ms...)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if ae, ok := partRefused(failed); ok {
			p.warn(d, "metrics", ae)
			continue
		}
		if failed != nil {
			if d.err == nil {
				d.err = failed
			}
			continue
		}
		if err := p.w.AddMetrics(wctx, all, p.nowUS); err != nil {
			p.w.Rollback()
			return fmt.Errorf("store metrics of %s: %w", d.name, err)
		}
		if err := p.w.Commit(wctx); err != nil {
			return fmt.Errorf("store metrics of %s: %w", d.name, err)
		}
		d.sum.MetricPeriods = len(all)
	}
	return nil
}
