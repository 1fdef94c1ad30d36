package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/analyze"
	"github.com/maildiag/maildiag/report"
)

type reportOptions struct {
	since, until   string
	sendingDomains []string
	to             string
	redact         bool
	out            string
	thresholds     analyze.Thresholds
	maxRows        int
	tokenTTL       time.Duration
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
hash. With --output json the health result the page is made from is printed
instead of (or, with -o, as well as) the file: the report's JSON contract,
described in the README.

Alerts are rules over the numbers, with thresholds as flags: --complaint-rate
(default 0.003, Gmail's and Yahoo's limit; --complaint-target 0.001 is the rate
they ask to aim under), --bounce-rate (0.05), --deferral-spike (2 times the
previous period), --rate-limit-wave (0.2 of all failures) and
--ip-block-failures (5 messages of one sending IP refused at a domain; critical
from --ip-block-critical 50, or when the provider deferred the same messages
before refusing them). Confirmation, reset and sign-in messages (told by their
tags) that Mailgun gave up on after retries, or retried for longer than
--token-ttl (24h), raise an expired-link alert: resending those copies does
not help.

A period with no events (an empty index, a period outside what the index
covers, or a --to or --sending-domain that matches nothing) still writes the
page, saying so and what the index covers, and exits 1.`,
		Example: `  maildiag report --since 7d -o week.html
  maildiag report --since 30d --to '*@acme.com' --redact -o acme.html
  maildiag report --since 2026-11-01 --until 2026-11-08 --sending-domain mg.example.com -o nov.html
  maildiag report --since 24h --output json | jq .totals
  maildiag report --since 7d --complaint-rate 0.001 --bounce-rate 0.02 -o strict.html`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			format := g.output
			if o.out == "" && format != "json" {
				return usageErrorf("name the report file with -o FILE.html (or use --output json)")
			}
			t, err := g.dbTarget()
			if err != nil {
				return err
			}
			return reportRun(cmd.Context(), s, t, format, o, g.now())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.since, "since", "7d", "start of the period: 7d, 36h, 2026-11-01 or RFC 3339")
	f.StringVar(&o.until, "until", "", "end of the period (default now)")
	f.StringSliceVar(&o.sendingDomains, "sending-domain", nil, "only these sending domains")
	f.StringVar(&o.to, "to", "", "one customer domain or pattern: acme.com, '*@acme.com'")
	f.BoolVar(&o.redact, "redact", false, "replace the local part of every address with a stable short hash")
	f.StringVarP(&o.out, "out", "o", "", "the HTML file to write")
	f.IntVar(&o.maxRows, "max-rows", 200, "most addresses listed (new suppressions, stuck messages); the rest are counted")
	th := analyze.DefaultThresholds
	f.Float64Var(&o.thresholds.BounceRate, "bounce-rate", th.BounceRate, "alert when more than this share of messages fails permanently")
	f.Float64Var(&o.thresholds.ComplaintRate, "complaint-rate", th.ComplaintRate, "alert (critical) when complaints pass this share of deliveries: Gmail's and Yahoo's limit")
	f.Float64Var(&o.thresholds.ComplaintTarget, "complaint-target", th.ComplaintTarget, "warn when complaints pass this share of deliveries: the rate to aim under")
	f.Float64Var(&o.thresholds.DeferralSpike, "deferral-spike", th.DeferralSpike, "alert when the deferral rate is this many times the previous period's")
	f.Float64Var(&o.thresholds.RateLimitWave, "rate-limit-wave", th.RateLimitWave, "alert when rate limits are this share of all failures")
	f.IntVar(&o.thresholds.IPBlockFailures, "ip-block-failures", th.IPBlockFailures, "alert when a provider refuses this many messages of one sending IP")
	f.IntVar(&o.thresholds.IPBlockCritical, "ip-block-critical", th.IPBlockCritical, "a sender block is critical from this many refusals (fewer: only after deferrals of the same messages)")
	f.DurationVar(&o.tokenTTL, "token-ttl", time.Duration(th.TokenTTLHours*float64(time.Hour)), "how long a link in a confirmation, reset or sign-in message lasts (expired-link alert)")
	return cmd
}

func reportRun(ctx context.Context, s *streams, t target, format string, o *reportOptions, now time.Time) error {
	if o.maxRows < 1 {
		return usageErrorf("--max-rows must be at least 1")
	}
	q := analyze.HealthQuery{Now: now, SendingDomains: o.sendingDomains, Thresholds: o.thresholds, MaxRows: o.maxRows}
	for _, r := range []struct {
		name string
		v    float64
	}{{"--bounce-rate", o.thresholds.BounceRate}, {"--complaint-rate", o.thresholds.ComplaintRate}, {"--complaint-target", o.thresholds.ComplaintTarget},
		{"--rate-limit-wave", o.thresholds.RateLimitWave}} {
		if r.v <= 0 || r.v >= 1 {
			return usageErrorf("%s: %v is not a share between 0 and 1 (0.003 is 0.3%%)", r.name, r.v)
		}
	}
	if o.thresholds.DeferralSpike <= 1 || o.thresholds.IPBlockFailures < 1 || o.thresholds.IPBlockCritical < 1 {
		return usageErrorf("--deferral-spike must be more than 1, --ip-block-failures and --ip-block-critical at least 1")
	}
	if o.tokenTTL <= 0 {
		return usageErrorf("--token-ttl must be positive")
	}
	q.Thresholds.TokenTTLHours = o.tokenTTL.Hours()
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
	db, err := openReader(ctx, t)
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
	if o.redact {
		salt, err := db.Meta(ctx, "redact_salt")
		if err != nil {
			return failure(err)
		}
		report.Redact(res, salt)
	}
	if o.out != "" {
		if err := report.WriteFile(o.out, res, report.Options{MaxAddresses: o.maxRows}); err != nil {
			return failure(fmt.Errorf("write report: %w", err))
		}
	}
	if format == "json" {
		if err := render(s.out, format, res); err != nil {
			return err
		}
		if res.NoEvents {
			return &exitError{code: exitNo, err: errors.New(res.Note)}
		}
		return nil
	}
	if res.NoEvents {
		// The page says so too; exit 1 so that a scheduled report of
		// nothing is not taken for a healthy one.
		return &exitError{code: exitNo, err: fmt.Errorf("wrote %s: %s", o.out, res.Note)}
	}
	fmt.Fprintf(s.out, "wrote %s: %s to %s, %d messages, %.1f%% delivered, %d alert(s)\n", o.out,
		q.Since.Format(time.RFC3339), q.Until.Format(time.RFC3339), res.Totals.Messages(), 100*res.Totals.DeliveryRate,
		len(res.Blocks)+len(res.Alerts))
	return nil
}
