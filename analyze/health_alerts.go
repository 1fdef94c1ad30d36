package analyze

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/maildiag/maildiag"
)

// healthDecide writes what the report says about the facts gathered: the
// header, whether the previous period can be compared, each listed
// domain's verdict, the alerts and the notes. It reads nothing: all it
// needs is in res, q and f.
func healthDecide(res *HealthResult, q HealthQuery, f *healthFacts) {
	res.Title = "Delivery health: " + periodTitle(q.Since, q.Until)
	res.Generated = q.Now
	res.Period = Period{From: q.Since, Until: q.Until}
	res.Previous = Period{From: f.prevSince, Until: q.Since}
	res.Filters = HealthFilters{SendingDomains: q.SendingDomains}
	if q.To != nil {
		res.Filters.To = q.To.String()
	}
	if covers(f.span, f.prevSince) {
		p := f.previous
		res.PreviousTotals = &p
	} else if f.prevMetrics != nil {
		res.PreviousTotals, res.PreviousFromMetrics = f.prevMetrics, true
	}
	noEvents(res, q, f)
	res.Thresholds = q.Thresholds
	res.Rates = RatesOf(res.Totals, res.PreviousTotals, q.Thresholds)
	for i := range res.Domains {
		d := &res.Domains[i]
		v, judged := f.verdicts[d.Domain]
		d.Verdict, d.VerdictText = rowVerdict(*d, v, judged)
	}
	deferrals := map[string]int64{}
	for _, p := range res.Providers {
		deferrals[p.Provider] = p.Deferrals
	}
	for i := range res.Delays {
		res.Delays[i].Deferrals = deferrals[res.Delays[i].Provider]
	}
	res.Stuck.AfterHours = int(retryWindow / time.Hour)
	for i := range res.Typos {
		res.Typos[i].Note = "no MX: every attempt failed"
	}
	unknown, _ := maildiag.ClassOf(maildiag.ClassUserUnknown)
	for i := range res.Lookalikes {
		res.Lookalikes[i].Code = unknown.Title
	}
	res.Blocks, res.Alerts = healthAlerts(f.verdicts, res.Stuck.Count, res.Typos)
	if f.rules != nil {
		for i := range res.Blocks {
			b := &res.Blocks[i]
			b.SendingDomains, b.SendingIPs = splitSenders(f.rules.domSenders[b.Domain])
			if len(b.SendingDomains)+len(b.SendingIPs) > 0 {
				b.Text += " Our senders to allowlist: " + strings.Join(slices.Concat(b.SendingDomains, b.SendingIPs), ", ") + "."
			}
		}
	}
	res.Alerts = append(append([]Alert{}, ruleAlerts(res, q.Thresholds, f)...), res.Alerts...)
	slices.SortStableFunc(res.Alerts, func(a, b Alert) int { return cmp.Compare(severityRank(a.Severity), severityRank(b.Severity)) })
}

// noEvents marks a result with no event in its period and says why.
func noEvents(res *HealthResult, q HealthQuery, f *healthFacts) {
	t := res.Totals
	if t.Accepted+t.Delivered+t.FailedTemporary+t.FailedPermanent+t.Suppressed+t.Complaints+t.Unsubscribes+t.Opened+t.Clicked+t.Rejected > 0 ||
		len(res.TopClasses) > 0 || len(res.Suppressed) > 0 {
		return
	}
	res.NoEvents = true
	covers := "the index holds no event yet: run maildiag sync or import first"
	if !f.span.First.IsZero() {
		res.IndexCovers = &Period{From: f.span.First, Until: f.span.Last}
		covers = "the index covers " + spanText(f.span.First, f.span.Last)
	}
	switch {
	case q.To != nil && !f.span.First.IsZero():
		res.Note = fmt.Sprintf("No events to %s in this period (%s). Check the spelling of the domain: a typo matches nothing.", q.To.String(), covers)
	case len(q.SendingDomains) > 0 && !f.span.First.IsZero():
		res.Note = fmt.Sprintf("No events from %s in this period (%s).", strings.Join(q.SendingDomains, ", "), covers)
	default:
		res.Note = fmt.Sprintf("No events in this period (%s).", covers)
	}
}

// spanText names the index's span: "14 November 2026 09:12 UTC to 28
// November 2026 17:40 UTC".
func spanText(from, until time.Time) string {
	const layout = "2 January 2006 15:04 UTC"
	return from.UTC().Format(layout) + " to " + until.UTC().Format(layout)
}

// covers reports whether an index spanning span holds all of the time
// from t on.
func covers(span Span, t time.Time) bool {
	return !span.First.IsZero() && !span.First.After(t)
}

// rowVerdict reads a domain's verdict (judged: it has one) for its row,
// so that the sentence agrees with the row's own numbers: a domain none of
// whose messages arrive for want of a mail server is dead, whatever the
// classes of its first bounces.
func rowVerdict(r DomainRow, v DomainVerdict, judged bool) (verdict, text string) {
	noMX := r.Class == maildiag.ClassDomainNotFound || r.DeferralClass == maildiag.ClassDomainNotFound
	switch {
	case r.Failures > 0 && r.Delivered == 0 && noMX && r.FailureRate >= 0.9 || judged && v.Kind == VerdictDeadDomain:
		return RowDeadDomain, fmt.Sprintf("Dead domain: no mail server, %s of %s failed and none delivered. Correct or remove these addresses; it may be a typo.",
			formatCount(r.Failures), maildiag.Plural(int(max(r.Messages, r.Failures)), "message"))
	case judged && v.Kind == VerdictDomainBlock:
		return RowDomainBlock, v.Summary + " " + v.Action
	case judged:
		return RowBadAddresses, v.Summary
	case strings.HasPrefix(r.Class, "suppressed-") && r.ClassCount*2 > r.Failures:
		return RowSuppressed, fmt.Sprintf("%s of %s dropped unsent: the addresses are on a suppression list (%s). Stop mailing them, or remove the entries once the addresses work.",
			formatCount(r.ClassCount), maildiag.Plural(int(r.Messages), "message"), r.Class)
	case r.Failures == 0 && r.Deferrals > 0:
		text := fmt.Sprintf("%s and no final failure", maildiag.Plural(int(r.Deferrals), "deferral"))
		if r.DeferralClass != "" {
			text += ", mostly " + r.DeferralClass
		}
		return RowTemporary, text + ": Mailgun is still retrying."
	}
	return "", ""
}

// formatCount writes a count for a sentence.
func formatCount(n int64) string { return strconv.FormatInt(n, 10) }

// healthAlerts are the domain-wide blocks and the other alerts: domains
// that do not receive mail, messages without a final event, typo domains.
// Blocks come with the most addresses first; alerts most severe first.
func healthAlerts(verdicts map[string]DomainVerdict, stuck int64, typos []TypoRow) ([]DomainBlock, []Alert) {
	var found []DomainVerdict
	for _, v := range verdicts {
		if v.Addresses >= minBlockAddresses && (v.Kind == VerdictDomainBlock || v.Kind == VerdictDeadDomain) {
			found = append(found, v)
		}
	}
	slices.SortFunc(found, func(a, b DomainVerdict) int {
		return cmp.Or(cmp.Compare(b.InWindow, a.InWindow), cmp.Compare(a.Domain, b.Domain))
	})
	blocks, alerts := []DomainBlock{}, []Alert{}
	for _, v := range found {
		if v.Kind == VerdictDomainBlock {
			blocks = append(blocks, blockOf(v))
			continue
		}
		alerts = append(alerts, Alert{Severity: AlertWarning, Kind: v.Kind, Domain: v.Domain,
			Title: v.Domain + ": " + strings.ReplaceAll(v.Kind, "-", " "), Text: v.Summary + " " + v.Action, Evidence: v.Evidence})
	}
	if stuck > 0 {
		alerts = append(alerts, Alert{Severity: AlertInfo, Kind: AlertStuck, Title: fmt.Sprintf("%d messages without a final event", stuck),
			Text: "Accepted more than " + humanDuration(retryWindow) + " ago with no delivery or permanent failure in the index: sync again, then ask Mailgun support about any that stay."})
	}
	for _, t := range typos {
		alerts = append(alerts, Alert{Severity: AlertInfo, Kind: AlertTypo, Domain: t.Domain,
			Title: fmt.Sprintf("%s looks like a typo of %s", t.Domain, t.Suggested),
			Text:  fmt.Sprintf("%d addresses at %s failed with no MX: ask the people concerned to correct their address.", t.Addresses, t.Domain)})
	}
	slices.SortStableFunc(alerts, func(a, b Alert) int { return cmp.Compare(severityRank(a.Severity), severityRank(b.Severity)) })
	return blocks, alerts
}

// severityRank orders alert severities, most urgent first.
func severityRank(s string) int {
	switch s {
	case AlertCritical:
		return 0
	case AlertWarning:
		return 1
	}
	return 2
}

// blockOf is a domain-wide block verdict as an alert.
func blockOf(v DomainVerdict) DomainBlock {
	b := DomainBlock{Domain: v.Domain, Addresses: int64(v.InWindow), Code: v.Code, EnhancedCode: v.Enhanced,
		Gateway: v.Gateway, MXHost: v.MXHost, First: v.From, Last: v.To, SampleReply: v.Sample, Advice: v.Action}
	b.Text = blockText(b)
	return b
}

// blockText says a domain-wide block in one sentence, then its advice.
func blockText(b DomainBlock) string {
	var s strings.Builder
	noun := "addresses"
	if b.Addresses == 1 {
		noun = "address"
	}
	fmt.Fprintf(&s, "%s: %d %s bounced", b.Domain, b.Addresses, noun)
	switch {
	case b.Code != 0 && b.EnhancedCode != "":
		fmt.Fprintf(&s, " with %d %s", b.Code, b.EnhancedCode)
	case b.Code != 0:
		fmt.Fprintf(&s, " with %d", b.Code)
	case b.EnhancedCode != "":
		fmt.Fprintf(&s, " with %s", b.EnhancedCode)
	}
	if b.Gateway != "" {
		fmt.Fprintf(&s, " from one %s gateway", b.Gateway)
	}
	if !b.First.IsZero() && !b.Last.Before(b.First) {
		fmt.Fprintf(&s, " within %s", durationUp(b.Last.Sub(b.First)))
	}
	s.WriteString(": a domain-wide block at the recipient, not bad addresses. ")
	s.WriteString(b.Advice)
	return s.String()
}

// periodTitle names a period for the report's title by the days it
// covers: "19 November 2026, 09:00 to 15:00 UTC", "18 to 19 November
// 2026", "13 November to 19 November 2026".
func periodTitle(from, until time.Time) string {
	from, until = from.UTC(), until.UTC()
	last := until.Add(-time.Nanosecond) // the period's last instant
	whole := from.Equal(from.Truncate(day)) && until.Equal(until.Truncate(day))
	switch {
	case from.Truncate(day).Equal(last.Truncate(day)) && whole:
		return last.Format("2 January 2006")
	case from.Truncate(day).Equal(last.Truncate(day)):
		return fmt.Sprintf("%s, %s to %s UTC", from.Format("2 January 2006"), from.Format("15:04"), until.Format("15:04"))
	case until.Sub(from) <= 2*day && !whole:
		return fmt.Sprintf("%s to %s UTC", from.Format("2 January 15:04"), until.Format("2 January 2006 15:04"))
	case from.Year() != last.Year():
		return fmt.Sprintf("%s to %s", from.Format("2 January 2006"), last.Format("2 January 2006"))
	case from.Month() == last.Month():
		return fmt.Sprintf("%s to %s", from.Format("2"), last.Format("2 January 2006"))
	}
	return fmt.Sprintf("%s to %s", from.Format("2 January"), last.Format("2 January 2006"))
}
