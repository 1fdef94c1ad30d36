package main

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/analyze"
)

type failuresOptions struct {
	codes          []string
	enhanced       []string
	classes        []string
	to             string
	from           string
	subject        string
	sendingDomains []string
	providers      []string
	severities     []string
	since, until   string
	by             []string
	top            int
}

func newFailuresCmd(s *streams, g *globals) *cobra.Command {
	o := &failuresOptions{}
	cmd := &cobra.Command{
		Use:   "failures",
		Short: "Break failures down by class, code, domain, provider, gateway or time",
		Long: `Failures groups failed and rejected events by what they mean: the failure class
(user-unknown, mailbox-full, policy-block, blocklisted, rate-limited,
authentication, spam-content, domain-not-found, suppressed-*, expired, ...), the
SMTP and enhanced codes, the recipient domain, provider and gateway, the day or
hour, the sending domain or IP, the MX host, the recipient. Each group shows its
failed events and the messages behind them: a message to a recipient counts
once, however many attempts it took. failed_messages failed for good (a
permanent failure, a drop, a rejection); deferred_messages had temporary
failures (deferrals in all), and delivered_later of those were delivered after
all. The failure rate counts messages: failed messages against failed messages
plus deliveries in the same scope, so a message deferred twice and then
delivered is a delivery, not three failures. Filters (--to, --from, --subject,
--sending-domain, ...) narrow the deliveries counted too. A total that is the
same on every row is printed once, after the table; "... and N more groups"
goes to stderr.

Dimensions for --by (combine with commas): ` + strings.Join(analyze.Dimensions, ", ") + `.
Classes: see README (maildiag query "SELECT DISTINCT class FROM failures").

Exit status: 0 with failures, 1 with none, 2 on usage errors, 3 on failure.`,
		Example: `  maildiag failures --code 550 --to '*@gmail.com'
  maildiag failures --since 7d --by class
  maildiag failures --to '*@acme.com' --by day,class
  maildiag failures --class policy-block,blocklisted --by domain,gateway --top 10
  maildiag failures --enhanced 5.7. --provider 'Microsoft 365' --since 2026-11-01 --output csv
  maildiag failures --class rate-limited --by sending-ip
  maildiag failures --to '*@acme.com' --by recipient,class`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			format := g.output
			t, err := g.dbTarget()
			if err != nil {
				return err
			}
			q, err := o.query(g.now())
			if err != nil {
				return err
			}
			return failuresRun(cmd.Context(), s, t, format, q)
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&o.codes, "code", nil, "SMTP or Mailgun codes, e.g. 550,554,605")
	f.StringSliceVar(&o.enhanced, "enhanced", nil, "enhanced codes, exact (5.7.1) or a prefix ending in a dot (5.7.)")
	f.StringSliceVar(&o.classes, "class", nil, "failure classes, e.g. policy-block")
	f.StringVar(&o.to, "to", "", "recipient pattern: '*@gmail.com', 'j*@acme.com', acme.com")
	f.StringVar(&o.from, "from", "", "From header contains")
	f.StringVar(&o.subject, "subject", "", "subject contains")
	f.StringSliceVar(&o.sendingDomains, "sending-domain", nil, "sending domains")
	f.StringSliceVar(&o.providers, "provider", nil, "recipient provider or gateway: Gmail, 'Microsoft 365', Mimecast, ...")
	f.StringSliceVar(&o.severities, "severity", nil, "temporary or permanent")
	f.StringVar(&o.since, "since", "", "from this time: 7d, 36h, 2026-11-01 or RFC 3339 (default: everything)")
	f.StringVar(&o.until, "until", "", "up to this time (same forms)")
	f.StringSliceVar(&o.by, "by", []string{"class"}, "group by these dimensions")
	f.IntVar(&o.top, "top", 20, "groups to show")
	return cmd
}

func (o *failuresOptions) query(now time.Time) (analyze.FailureQuery, error) {
	q := analyze.FailureQuery{Enhanced: o.enhanced, Classes: o.classes, From: o.from, Subject: o.subject,
		SendingDomains: o.sendingDomains, Providers: o.providers, Severities: o.severities, By: o.by, Top: o.top}
	for _, c := range o.codes {
		n, err := strconv.Atoi(strings.TrimSpace(c))
		if err != nil {
			return q, usageErrorf("--code %q: not a number", c)
		}
		q.Codes = append(q.Codes, n)
	}
	for _, c := range o.classes {
		if c != "other" && !knownClass(c) {
			return q, usageErrorf("--class %q: not a failure class (see maildiag failures --help)", c)
		}
	}
	for _, sv := range o.severities {
		if sv != maildiag.SeverityTemporary && sv != maildiag.SeverityPermanent {
			return q, usageErrorf("--severity %q: use temporary or permanent", sv)
		}
	}
	for _, b := range o.by {
		ok := false
		for _, d := range analyze.Dimensions {
			ok = ok || d == b
		}
		if !ok {
			return q, usageErrorf("--by %q: use %s", b, strings.Join(analyze.Dimensions, ", "))
		}
	}
	if o.top < 1 {
		return q, usageErrorf("--top must be at least 1")
	}
	if o.to != "" {
		p, err := analyze.ParsePattern(o.to)
		if err != nil {
			return q, usageErrorf("--to: %v", err)
		}
		q.To = &p
	}
	var err error
	q.Since, q.Until, err = period(o.since, o.until, now)
	return q, err
}

// period reads --since and --until (either may be empty: no bound).
func period(since, until string, now time.Time) (from, to time.Time, err error) {
	if from, err = maildiag.ParseWhen(since, now); err != nil {
		return from, to, usageErrorf("--since: %v", err)
	}
	if to, err = maildiag.ParseWhen(until, now); err != nil {
		return from, to, usageErrorf("--until: %v", err)
	}
	if !from.IsZero() && !to.IsZero() && !from.Before(to) {
		return from, to, usageErrorf("--since must be before --until")
	}
	return from, to, nil
}

func failuresRun(ctx context.Context, s *streams, tg target, format string, q analyze.FailureQuery) error {
	db, err := openReader(ctx, tg)
	if err != nil {
		return failure(err)
	}
	defer db.Close()
	res, err := analyze.Failures(ctx, db, q)
	if err != nil {
		return failure(err)
	}
	// A column whose value is the same on every row (the deliveries of a
	// scope the dimensions do not split) is said once, after the table; a
	// top class beside --by class would repeat the key.
	sameDeliveries := len(res.Groups) > 1
	for _, g := range res.Groups {
		sameDeliveries = sameDeliveries && g.Deliveries == res.Groups[0].Deliveries
	}
	byClass := slices.Contains(res.By, analyze.ByClass)
	cols := append(append([]string{}, res.By...), "failures", "messages", "failed_messages", "deferred_messages", "deferrals",
		"delivered_later", "share", "recipients")
	if !sameDeliveries {
		cols = append(cols, "deliveries")
	}
	cols = append(cols, "failure_rate")
	if !byClass {
		cols = append(cols, "top_class")
	}
	cols = append(cols, "sample_code", "sample_reply")
	t := &table{title: fmt.Sprintf("%d failures of %d messages: %d failed, %d deferred (%d deferrals); %s of messages failed",
		res.Failures, res.Messages, res.FailedMessages, res.DeferredMessages, res.Deferrals, pct(res.FailureRate)), columns: cols}
	for _, g := range res.Groups {
		row := make([]any, 0, len(cols))
		for _, k := range g.Key {
			row = append(row, k)
		}
		later := any(g.DeliveredLater)
		if g.DeliveredLater < 0 {
			later = ""
		}
		row = append(row, g.Failures, g.Messages, g.FailedMessages, g.DeferredMessages, g.Deferrals, later, pct(g.Share), g.Recipients)
		if !sameDeliveries {
			dl := any(g.Deliveries)
			if g.Deliveries < 0 {
				dl = ""
			}
			row = append(row, dl)
		}
		row = append(row, pct(g.FailureRate))
		if !byClass {
			row = append(row, g.TopClass)
		}
		row = append(row, strings.TrimSpace(fmt.Sprint(zeroBlank(g.Sample.Code), " ", g.Sample.Enhanced)), g.Sample.Reply)
		t.add(row...)
	}
	if err := render(s.out, format, res, t); err != nil {
		return failure(err)
	}
	if format == "table" && sameDeliveries && res.Groups[0].Deliveries >= 0 {
		fmt.Fprintf(s.out, "Deliveries in the scope of every group: %d\n", res.Groups[0].Deliveries)
	}
	if format != "json" && res.OtherGroups > 0 {
		fmt.Fprintf(s.err, "... and %d more groups with %d failures (--top to see more)\n", res.OtherGroups, res.Other)
	}
	if res.Failures == 0 {
		return errNo
	}
	return nil
}

func pct(f float64) string {
	if f < 0 {
		return ""
	}
	return strconv.FormatFloat(f*100, 'f', 1, 64) + "%"
}
