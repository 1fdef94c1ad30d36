package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/analyze"
	"github.com/maildiag/maildiag/index"
	"github.com/maildiag/maildiag/report"
)

type reportOptions struct {
	since, until   string
	sendingDomains []string
	to             string
	redact         bool
	out            string
}

func newReportCmd(s *streams, g *globals) *cobra.Command {
	o := &reportOptions{}
	cmd := &cobra.Command{
		Use:   "report -o FILE.html",
		Short: "Write a self-contained HTML delivery-health report",
		Long: `Report writes one self-contained HTML file an operations team reads every week,
or a support engineer attaches to a ticket about one customer domain: summary
cards against the previous period, volume and delivery rate over time, failure
classes over time with what to do about each, the worst customer domains (with
domain-wide blocks called out at the top), providers and gateways, top SMTP and
enhanced codes with sample replies, new suppressions, delivery delays and stuck
messages, typo domains and lookalike addresses.

The file opens offline and makes no network request: the charts' script is
inlined. --redact replaces the local part of every address with a stable short
hash. With --output json the report's data is printed instead of (or, with -o,
as well as) the file.`,
		Example: `  maildiag report --since 7d -o week.html
  maildiag report --since 30d --to '*@acme.com' --redact -o acme.html
  maildiag report --since 2026-11-01 --until 2026-11-08 --sending-domain mg.example.com -o nov.html
  maildiag report --since 24h --output json | jq .totals`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := g.format()
			if err != nil {
				return err
			}
			if o.out == "" && format != "json" {
				return usageErrorf("name the report file with -o FILE.html (or use --output json)")
			}
			path, err := g.dbPath()
			if err != nil {
				return failure(err)
			}
			return reportRun(cmd.Context(), s, path, format, o, g.now())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.since, "since", "7d", "start of the period: 7d, 36h, 2026-11-01 or RFC 3339")
	f.StringVar(&o.until, "until", "", "end of the period (default now)")
	f.StringSliceVar(&o.sendingDomains, "sending-domain", nil, "only these sending domains")
	f.StringVar(&o.to, "to", "", "one customer domain or pattern: acme.com, '*@acme.com'")
	f.BoolVar(&o.redact, "redact", false, "replace the local part of every address with a stable short hash")
	f.StringVarP(&o.out, "out", "o", "", "the HTML file to write")
	return cmd
}

func reportRun(ctx context.Context, s *streams, path, format string, o *reportOptions, now time.Time) error {
	q := analyze.HealthQuery{Now: now, SendingDomains: o.sendingDomains}
	var err error
	if q.Since, err = maildiag.ParseWhen(o.since, now); err != nil {
		return usageErrorf("--since: %v", err)
	}
	if q.Until, err = maildiag.ParseWhen(o.until, now); err != nil {
		return usageErrorf("--until: %v", err)
	}
	if q.Until.IsZero() {
		q.Until = now
	}
	if !q.Since.Before(q.Until) {
		return usageErrorf("--since must be before --until")
	}
	if o.to != "" {
		p, err := analyze.ParsePattern(o.to)
		if err != nil {
			return usageErrorf("--to: %v", err)
		}
		q.To = &p
	}
	db, err := index.OpenReadOnly(ctx, path)
	if err != nil {
		return failure(err)
	}
	defer db.Close()
	bar := newPercentProgress(s, "computing the report")
	res, err := analyze.Health(ctx, db, q, func(done float64) { bar.set(int64(done * 100)) })
	bar.finish()
	if err != nil {
		return failure(err)
	}
	span, err := db.Span(ctx)
	if err != nil {
		return failure(err)
	}
	d := reportData(res, q, now, span)
	if o.redact {
		salt, err := db.Meta(ctx, "redact_salt")
		if err != nil {
			return failure(err)
		}
		d.Redact(salt)
	}
	if o.out != "" {
		if err := report.WriteFile(o.out, d, report.Options{}); err != nil {
			return failure(fmt.Errorf("write report: %w", err))
		}
	}
	if format == "json" {
		return render(s.out, format, d)
	}
	fmt.Fprintf(s.out, "wrote %s: %s to %s, %d accepted, %.1f%% delivered, %d alert(s)\n", o.out,
		q.Since.Format(time.RFC3339), q.Until.Format(time.RFC3339), res.Totals.Accepted, 100*res.Totals.DeliveryRate,
		len(d.Blocks)+len(d.Alerts))
	return nil
}

// reportData maps the health analysis onto the report's input.
func reportData(res *analyze.HealthResult, q analyze.HealthQuery, now time.Time, span analyze.Span) *report.Data {
	d := &report.Data{
		Title:     "Delivery health: " + periodTitle(q.Since, q.Until),
		Generated: now,
		Period:    report.Range{From: q.Since, Until: q.Until},
		Previous:  report.Range{From: res.PrevSince, Until: q.Since},
		Filters:   report.Filters{SendingDomains: q.SendingDomains},
		Hourly:    res.Hourly,
		Deferrals: res.Deferrals, DeferredMessages: res.DeferredMessages,
		Totals: reportTotals(res.Totals),
	}
	if q.To != nil {
		d.Filters.To = q.To.String()
	}
	if !span.First.IsZero() && !span.First.After(res.PrevSince) {
		t := reportTotals(res.Previous)
		d.PreviousTotals = &t
	}
	for _, v := range res.Alerts {
		switch v.Kind {
		case analyze.VerdictDomainBlock:
			d.Blocks = append(d.Blocks, report.DomainBlock{Domain: v.Domain, Addresses: int64(v.InWindow), Code: v.Code,
				EnhancedCode: v.Enhanced, Gateway: v.Gateway, MXHost: v.MXHost, First: v.From, Last: v.To,
				SampleReply: v.Sample, Advice: v.Action})
		default:
			d.Alerts = append(d.Alerts, report.Alert{Severity: report.Warning, Title: v.Domain + ": " + strings.ReplaceAll(v.Kind, "-", " "),
				Text: v.Summary + " " + v.Action, Evidence: v.Evidence})
		}
	}
	if res.StuckTotal > 0 {
		d.Alerts = append(d.Alerts, report.Alert{Severity: report.Info, Title: fmt.Sprintf("%d messages without a final event", res.StuckTotal),
			Text: "Accepted more than 8 hours ago with no delivery or permanent failure in the index: sync again, then ask Mailgun support about any that stay."})
	}
	for _, t := range res.Typos {
		d.Alerts = append(d.Alerts, report.Alert{Severity: report.Info, Title: fmt.Sprintf("%s looks like a typo of %s", t.Domain, t.Intended),
			Text: fmt.Sprintf("%d addresses at %s failed with no MX: ask the people concerned to correct their address.", t.Recipients, t.Domain)})
	}
	for _, v := range res.Volume {
		d.Volume = append(d.Volume, report.VolumeBucket{Start: v.Start, Accepted: v.Accepted, Delivered: v.Delivered,
			FailedTemporary: v.Temporary, FailedPermanent: v.Permanent})
	}
	for i, counts := range res.ClassSeries.Counts {
		b := report.ClassBucket{Start: res.Volume[i].Start}
		for j, n := range counts {
			if n > 0 {
				b.Counts = append(b.Counts, report.ClassCount{Class: res.ClassSeries.Classes[j], Count: n})
			}
		}
		d.Classes = append(d.Classes, b)
	}
	for _, c := range res.Classes {
		d.TopClasses = append(d.TopClasses, report.ClassRow{Class: c.Class, Count: c.Failures, Kind: classKind(c.Class), Advice: c.Action})
	}
	for _, r := range res.Domains {
		row := report.DomainRow{Domain: r.Domain, Messages: max(r.Accepted, r.Delivered+r.Permanent), Failures: r.Permanent,
			Class: r.TopClass, Gateway: r.Gateway}
		switch {
		case r.Verdict != nil && r.Verdict.Kind == analyze.VerdictDomainBlock:
			row.Verdict, row.VerdictText = report.VerdictDomainBlock, r.Verdict.Summary+" "+r.Verdict.Action
		case r.Verdict != nil:
			row.Verdict, row.VerdictText = report.VerdictBadAddresses, r.Verdict.Summary
		case r.Permanent == 0:
			row.Verdict = report.VerdictTemporary
		}
		d.Domains = append(d.Domains, row)
	}
	for _, g := range res.Gateways {
		d.Providers = append(d.Providers, report.ProviderRow{Provider: g.Gateway, Messages: max(g.Accepted, g.Delivered+g.Permanent),
			Delivered: g.Delivered, Failures: g.Permanent, Class: g.TopClass})
	}
	for _, c := range res.Codes {
		d.Codes = append(d.Codes, report.CodeRow{Code: c.Code, Count: c.Failures, Meaning: classTitle(c.Class), SampleReply: c.Sample})
	}
	for _, c := range res.Enhanced {
		d.Enhanced = append(d.Enhanced, report.CodeRow{Code: c.Code, Count: c.Failures, Meaning: classTitle(c.Class), SampleReply: c.Sample})
	}
	for _, s := range res.SuppressionDays {
		d.SuppressionDays = append(d.SuppressionDays, report.SuppressionDay{Day: s.Day, Bounces: s.Bounces, Complaints: s.Complaints, Unsubscribes: s.Unsubscribes})
	}
	for _, s := range res.NewSuppressions {
		d.Suppressed = append(d.Suppressed, report.SuppressedAddress{Address: s.Address, List: s.List, SendingDomain: s.SendingDomain,
			Created: s.Since, Code: s.Code, Reason: s.Reason})
	}
	deferrals := map[string]int64{}
	for _, g := range res.Gateways {
		deferrals[g.Gateway] = g.Deferrals
	}
	for _, r := range res.Delays {
		d.Delays = append(d.Delays, report.DelayRow{Provider: r.Gateway, Messages: r.Deliveries, P50: r.P50.Seconds(),
			P90: r.P90.Seconds(), P99: r.P99.Seconds(), Deferrals: deferrals[r.Gateway]})
	}
	d.Stuck = report.Stuck{AfterHours: 8, Count: int64(res.StuckTotal)}
	for _, s := range res.Stuck {
		d.Stuck.Messages = append(d.Stuck.Messages, report.StuckMessage{Recipient: s.Recipient, SendingDomain: s.SendingDomain, Accepted: s.Accepted})
	}
	for _, t := range res.Typos {
		d.Typos = append(d.Typos, report.TypoRow{Domain: t.Domain, Suggested: t.Intended, Addresses: int64(t.Recipients),
			Messages: t.Failures, Note: "no MX: every attempt failed"})
	}
	for _, l := range res.Lookalikes {
		d.Lookalikes = append(d.Lookalikes, report.LookalikeRow{Failing: l.Bounced, Failures: int64(l.Bounces), Receiving: l.Delivered,
			Delivered: int64(l.Deliveries), Code: "user unknown"})
	}
	return d
}

func reportTotals(t analyze.Totals) report.Totals {
	return report.Totals{Accepted: t.Accepted, Delivered: t.Delivered, FailedTemporary: t.Temporary, FailedPermanent: t.Permanent,
		Suppressed: t.Suppressed, Complaints: t.Complaints, Unsubscribes: t.Unsubscribes}
}

func classKind(class string) string {
	info, _ := maildiag.ClassOf(class)
	return info.BounceKind()
}

func classTitle(class string) string {
	info, _ := maildiag.ClassOf(class)
	return info.Title
}

// periodTitle names a period for the report's title.
func periodTitle(from, until time.Time) string {
	days := until.Sub(from).Hours() / 24
	switch {
	case days <= 2:
		return fmt.Sprintf("%s, %.0f hours", until.Format("2 January 2006"), until.Sub(from).Hours())
	case from.Year() == until.Year():
		return fmt.Sprintf("%s to %s", from.Format("2 January"), until.Add(-time.Second).Format("2 January 2006"))
	}
	return fmt.Sprintf("%s to %s", from.Format("2 January 2006"), until.Add(-time.Second).Format("2 January 2006"))
}
