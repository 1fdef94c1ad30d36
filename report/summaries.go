package report

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/maildiag/maildiag/analyze"
)

// The summaries are the plain-text reading of each chart, shown beside it:
// what a reader would otherwise have to hover for, and all that remains
// without JavaScript or on paper. Ties go to the first row, so that the
// text is deterministic.

func volumeSummary(d *analyze.HealthResult, c clock) string {
	var t analyze.VolumeBucket
	for _, b := range d.Volume {
		t.Accepted += b.Accepted
		t.Delivered += b.Delivered
		t.FailedTemporary += b.FailedTemporary
		t.FailedPermanent += b.FailedPermanent
	}
	if t.Accepted == 0 {
		return "No messages were accepted in this period."
	}
	unit := "day"
	if d.Hourly {
		unit = "hour"
	}
	var s strings.Builder
	fmt.Fprintf(&s, "Over %d %ss, %s messages were accepted and %s delivered (%s). %s failed permanently and %s deliveries were deferred.",
		len(d.Volume), unit, formatInt(t.Accepted), formatInt(t.Delivered), pctOf(t.Delivered, t.Accepted),
		formatInt(t.FailedPermanent), formatInt(t.FailedTemporary))
	low, busy := -1, 0
	lowRate := 0.0
	for i, b := range d.Volume {
		if r, ok := ratio(b.Delivered, b.Accepted); ok && (low < 0 || r < lowRate) {
			low, lowRate = i, r
		}
		if b.Accepted > d.Volume[busy].Accepted {
			busy = i
		}
	}
	if low >= 0 {
		fmt.Fprintf(&s, " Lowest delivery rate: %s on %s.", formatPct(lowRate), c.bucket(d.Volume[low].Start, d.Hourly))
	}
	fmt.Fprintf(&s, " Busiest %s: %s with %s accepted.", unit, c.bucket(d.Volume[busy].Start, d.Hourly), formatInt(d.Volume[busy].Accepted))
	return s.String()
}

// classTotals sums the class series per class, most failures first.
func classTotals(bs []analyze.ClassBucket) []analyze.ClassCount {
	sum := map[string]int64{}
	for _, b := range bs {
		for _, c := range b.Counts {
			sum[c.Class] += c.Count
		}
	}
	out := make([]analyze.ClassCount, 0, len(sum))
	for k, n := range sum {
		out = append(out, analyze.ClassCount{Class: k, Count: n})
	}
	slices.SortFunc(out, func(a, b analyze.ClassCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Class, b.Class))
	})
	return out
}

func classesSummary(d *analyze.HealthResult, c clock) string {
	rows := d.TopClasses
	if len(rows) == 0 {
		for _, t := range classTotals(d.Classes) {
			rows = append(rows, analyze.ClassRow{Class: t.Class, Count: t.Count})
		}
	}
	var sum int64
	for _, r := range rows {
		sum += r.Count
	}
	if sum == 0 {
		return "No failures in this period."
	}
	var s strings.Builder
	fmt.Fprintf(&s, "%s failures in %d classes. Most common: ", formatInt(sum), len(rows))
	for i, r := range rows[:min(3, len(rows))] {
		if i > 0 {
			s.WriteString(", ")
		}
		fmt.Fprintf(&s, "%s %s (%s)", r.Class, formatInt(r.Count), pctOf(r.Count, sum))
	}
	s.WriteString(".")
	peak, peakN := -1, int64(0)
	for i, b := range d.Classes {
		var n int64
		for _, x := range b.Counts {
			n += x.Count
		}
		if n > peakN {
			peak, peakN = i, n
		}
	}
	if peak >= 0 {
		fmt.Fprintf(&s, " Most failures on %s (%s).", c.bucket(d.Classes[peak].Start, d.Hourly), formatInt(peakN))
	}
	return s.String()
}

func domainsSummary(d *analyze.HealthResult) string {
	if len(d.Domains) == 0 {
		return "No customer domain had failures in this period."
	}
	w := d.Domains[0]
	var s strings.Builder
	fmt.Fprintf(&s, "%s customer domains had failures. Worst: %s, %s of %s messages failed (%s)",
		formatInt(int64(len(d.Domains))), w.Domain, formatInt(w.Failures), formatInt(w.Messages), pctOf(w.Failures, w.Messages))
	if w.Class != "" {
		fmt.Fprintf(&s, ", mostly %s", w.Class)
	}
	if w.Gateway != "" {
		fmt.Fprintf(&s, " behind %s", w.Gateway)
	}
	if w.Verdict == analyze.RowDomainBlock {
		s.WriteString(": a domain-wide block")
	}
	s.WriteString(".")
	if len(d.Domains) > 1 {
		s.WriteString(" Next: ")
		for i, r := range d.Domains[1:min(4, len(d.Domains))] {
			if i > 0 {
				s.WriteString(", ")
			}
			fmt.Fprintf(&s, "%s %s (%s)", r.Domain, formatInt(r.Failures), pctOf(r.Failures, r.Messages))
		}
		s.WriteString(".")
	}
	return s.String()
}

func providersSummary(d *analyze.HealthResult) string {
	lo, hi := -1, -1
	var loR, hiR float64
	for i, p := range d.Providers {
		r, ok := ratio(p.Delivered, p.Messages)
		if !ok {
			continue
		}
		if lo < 0 || r < loR {
			lo, loR = i, r
		}
		if hi < 0 || r > hiR {
			hi, hiR = i, r
		}
	}
	if lo < 0 {
		return "No messages to any provider in this period."
	}
	var s strings.Builder
	p := d.Providers[lo]
	fmt.Fprintf(&s, "%d providers and gateways. Lowest delivery rate: %s %s", len(d.Providers), p.Provider, formatPct(loR))
	if p.Class != "" {
		fmt.Fprintf(&s, " (main failure: %s)", p.Class)
	}
	s.WriteString(".")
	if hi != lo {
		fmt.Fprintf(&s, " Highest: %s %s.", d.Providers[hi].Provider, formatPct(hiR))
	}
	return s.String()
}

// listTotals counts new suppressions per list, from the daily counts or,
// when the result has none, from the address list.
func listTotals(d *analyze.HealthResult) (b, c, u int64) {
	for _, s := range d.SuppressionDays {
		b, c, u = b+s.Bounces, c+s.Complaints, u+s.Unsubscribes
	}
	if b+c+u > 0 {
		return b, c, u
	}
	for _, s := range d.Suppressed {
		switch s.List {
		case "bounces":
			b++
		case "complaints":
			c++
		case "unsubscribes":
			u++
		}
	}
	return b, c, u
}

func suppressionsSummary(d *analyze.HealthResult, c clock) string {
	b, cm, u := listTotals(d)
	if b+cm+u == 0 {
		return "No new suppressions in this period."
	}
	var s strings.Builder
	fmt.Fprintf(&s, "%s addresses were suppressed: %s bounces, %s complaints, %s unsubscribes.",
		formatInt(b+cm+u), formatInt(b), formatInt(cm), formatInt(u))
	peak, peakN := -1, int64(0)
	for i, x := range d.SuppressionDays {
		if n := x.Bounces + x.Complaints + x.Unsubscribes; n > peakN {
			peak, peakN = i, n
		}
	}
	if peak >= 0 {
		fmt.Fprintf(&s, " Most on %s (%s).", c.day(d.SuppressionDays[peak].Day), formatInt(peakN))
	}
	return s.String()
}

func delaysSummary(d *analyze.HealthResult) string {
	if len(d.Delays) == 0 {
		return "No deliveries to measure in this period."
	}
	slow, fast := 0, 0
	for i, r := range d.Delays {
		if r.P90 > d.Delays[slow].P90 {
			slow = i
		}
		if r.P50 < d.Delays[fast].P50 {
			fast = i
		}
	}
	return fmt.Sprintf("Slowest p90: %s %s (p99 %s). Fastest median: %s %s. %s deferrals in the period; %s messages stuck for over %d hours.",
		d.Delays[slow].Provider, formatSeconds(d.Delays[slow].P90), formatSeconds(d.Delays[slow].P99),
		d.Delays[fast].Provider, formatSeconds(d.Delays[fast].P50),
		formatInt(d.Deferrals), formatInt(d.Stuck.Count), d.Stuck.AfterHours)
}
