package report

import (
	"fmt"
	"strings"

	"github.com/maildiag/maildiag/analyze"
)

// The section builders turn each part of the result into rows of text for the
// template, cut to the limits in Options.

func limit(n, def int) int {
	if n <= 0 {
		return def
	}
	return n
}

func volumeSection(d *analyze.HealthResult, c clock) volumeView {
	v := volumeView{Unit: "Day"}
	if d.Hourly {
		v.Unit = "Hour"
	}
	var total int64
	for _, b := range d.Volume {
		total += b.Accepted + b.Delivered + b.FailedTemporary + b.FailedPermanent
		v.Rows = append(v.Rows, volumeRow{
			Label:     c.bucket(b.Start, d.Hourly),
			Accepted:  formatInt(b.Accepted),
			Delivered: formatInt(b.Delivered),
			Temporary: formatInt(b.FailedTemporary),
			Permanent: formatInt(b.FailedPermanent),
			Rate:      pctOf(b.Delivered, b.Accepted),
		})
	}
	if len(d.MetricsHistory) > 0 {
		// The hours or days before the index's first event, from Mailgun's
		// metrics: their own rows, marked, ahead of the index's.
		var hist []volumeRow
		var acc, del int64
		for _, b := range d.MetricsHistory {
			total += b.Accepted + b.Delivered + b.FailedTemporary + b.FailedPermanent
			acc, del = acc+b.Accepted, del+b.Delivered
			hist = append(hist, volumeRow{
				Label:     c.bucket(b.Start, d.Hourly) + " (Mailgun metrics)",
				Accepted:  formatInt(b.Accepted),
				Delivered: formatInt(b.Delivered),
				Temporary: formatInt(b.FailedTemporary),
				Permanent: formatInt(b.FailedPermanent),
				Rate:      pctOf(b.Delivered, b.Accepted),
			})
		}
		v.Rows = append(hist, v.Rows...)
		unit := strings.ToLower(v.Unit)
		n := len(d.MetricsHistory)
		v.MetricsNote = fmt.Sprintf("The %d %ss before the index's first event (%s to %s) come from Mailgun's Metrics API "+
			"(sync --metrics), drawn paler and marked \"Mailgun metrics\": %s accepted, %s delivered (%s). They are counts only, "+
			"with no failure classes or domains.", n, unit, c.bucket(d.MetricsHistory[0].Start, d.Hourly),
			c.bucket(d.MetricsHistory[n-1].Start, d.Hourly), formatInt(acc), formatInt(del), pctOf(del, acc))
	}
	v.Empty = total == 0
	v.Chart = chartView{ID: chartVolume, Summary: volumeSummary(d, c), Height: 340}
	return v
}

func failuresSection(d *analyze.HealthResult, c clock, o Options) failuresView {
	v := failuresView{}
	var sum int64
	for _, r := range d.TopClasses {
		sum += r.Count
	}
	n := min(len(d.TopClasses), limit(o.MaxRows, 25))
	for _, r := range d.TopClasses[:n] {
		kind := r.Kind
		if kind == "" {
			kind = "–"
		}
		v.Rows = append(v.Rows, classRowView{
			Class:  r.Class,
			Count:  formatInt(r.Count),
			Share:  pctOf(r.Count, sum),
			Kind:   kind,
			Advice: r.Advice,
		})
	}
	v.More = more{n, len(d.TopClasses)}
	v.Empty = sum == 0 && classSeriesTotal(d.Classes) == 0
	v.Chart = chartView{ID: chartClasses, Summary: classesSummary(d, c), Height: 340}
	return v
}

func classSeriesTotal(bs []analyze.ClassBucket) int64 {
	var n int64
	for _, b := range bs {
		for _, c := range b.Counts {
			n += c.Count
		}
	}
	return n
}

func domainsSection(d *analyze.HealthResult, o Options) domainsView {
	v := domainsView{Empty: len(d.Domains) == 0}
	n := min(len(d.Domains), limit(o.MaxRows, 25))
	for _, r := range d.Domains[:n] {
		v.Rows = append(v.Rows, domainRowView{
			Domain:      r.Domain,
			Messages:    formatInt(r.Messages),
			Failures:    formatInt(r.Failures),
			Rate:        pctOf(r.Failures, r.Messages),
			Class:       r.Class,
			Gateway:     r.Gateway,
			Verdict:     r.Verdict,
			VerdictText: r.VerdictText,
		})
	}
	v.More = more{n, len(d.Domains)}
	v.Rows, v.Rest = v.Rows[:min(n, visibleRows)], v.Rows[min(n, visibleRows):]
	v.Chart = chartView{ID: chartDomains, Summary: domainsSummary(d), Height: barHeight(min(len(d.Domains), limit(o.MaxBars, 10)))}
	return v
}

// barHeight sizes a horizontal bar chart to its number of bars.
func barHeight(bars int) int { return 80 + 32*max(bars, 1) }

func providersSection(d *analyze.HealthResult, o Options) providersView {
	v := providersView{Empty: len(d.Providers) == 0}
	n := min(len(d.Providers), limit(o.MaxRows, 25))
	for _, r := range d.Providers[:n] {
		cc := ""
		if r.Class != "" {
			cc = formatInt(r.ClassCount)
		}
		v.Rows = append(v.Rows, providerRowView{
			Provider:           r.Provider,
			Messages:           formatInt(r.Messages),
			Delivered:          formatInt(r.Delivered),
			Rate:               pctOf(r.Delivered, r.Messages),
			Failures:           formatInt(r.Failures),
			Class:              r.Class,
			ClassCount:         cc,
			Deferrals:          formatInt(r.Deferrals),
			DeferralClass:      r.DeferralClass,
			DeferralClassCount: formatInt(r.DeferralClassCount),
		})
	}
	v.More = more{n, len(d.Providers)}
	v.Chart = chartView{ID: chartProviders, Summary: providersSummary(d), Height: barHeight(min(len(d.Providers), limit(o.MaxBars, 10)))}
	return v
}

func codeRows(rows []analyze.CodeRow, maxRows int) ([]codeRowView, more) {
	var sum int64
	for _, r := range rows {
		sum += r.Count
	}
	n := min(len(rows), maxRows)
	var out []codeRowView
	for _, r := range rows[:n] {
		out = append(out, codeRowView{
			Code:    r.Code,
			Count:   formatInt(r.Count),
			Share:   pctOf(r.Count, sum),
			Meaning: r.Meaning,
			Reply:   fold(r.SampleReply),
		})
	}
	return out, more{n, len(rows)}
}

func codesSection(d *analyze.HealthResult, o Options) codesView {
	var v codesView
	v.Codes, v.CodesMore = codeRows(d.Codes, limit(o.MaxRows, 25))
	v.Enhanced, v.EnhancedMore = codeRows(d.Enhanced, limit(o.MaxRows, 25))
	return v
}

// printedRows is how many rows of the long list of addresses are printed
// on paper.
const printedRows = 10

func suppressionsSection(d *analyze.HealthResult, c clock, o Options) suppressionsView {
	var total int64
	for _, s := range d.SuppressionDays {
		total += s.Bounces + s.Complaints + s.Unsubscribes
	}
	v := suppressionsView{Empty: total == 0 && len(d.Suppressed) == 0}
	n := min(len(d.Suppressed), limit(o.MaxAddresses, 200))
	for i, s := range d.Suppressed[:n] {
		v.Rows = append(v.Rows, suppressedRowView{
			Rest:          i >= printedRows,
			Address:       s.Address,
			List:          s.List,
			SendingDomain: s.SendingDomain,
			Date:          c.date(s.Created),
			Code:          s.Code,
			Reason:        foldAt(s.Reason, reasonChars),
		})
	}
	// The analysis lists at most its MaxRows addresses: the rest are
	// counted, and said.
	v.More = more{n, len(d.Suppressed) + d.SuppressedNotShown}
	if n > printedRows {
		v.Printed, v.Shown = formatInt(printedRows), formatInt(int64(n))
	}
	v.Chart = chartView{ID: chartSuppressions, Summary: suppressionsSummary(d, c), Height: 300}
	return v
}

func delaysSection(d *analyze.HealthResult, c clock, o Options) delaysView {
	v := delaysView{
		Empty:            len(d.Delays) == 0,
		Deferrals:        formatInt(d.Deferrals),
		DeferredMessages: formatInt(d.DeferredMessages),
		StuckAfter:       fmt.Sprintf("%d hours", d.Stuck.AfterHours),
		StuckCount:       formatInt(d.Stuck.Count),
	}
	for _, r := range d.Delays {
		if !r.Exact {
			v.Bucketed = true
		}
	}
	n := min(len(d.Delays), limit(o.MaxRows, 25))
	for _, r := range d.Delays[:n] {
		v.Rows = append(v.Rows, delayRowView{
			Provider:  r.Provider,
			Messages:  formatInt(r.Messages),
			P50:       formatSeconds(r.P50),
			P90:       formatSeconds(r.P90),
			P99:       formatSeconds(r.P99),
			Deferrals: formatInt(r.Deferrals),
		})
	}
	v.More = more{n, len(d.Delays)}
	sn := min(len(d.Stuck.Messages), limit(o.MaxRows, 25))
	for _, m := range d.Stuck.Messages[:sn] {
		v.Stuck = append(v.Stuck, stuckRowView{
			Recipient:     m.Recipient,
			SendingDomain: m.SendingDomain,
			Subject:       m.Subject,
			Accepted:      c.date(m.Accepted),
			LastEvent:     m.LastEvent,
		})
	}
	// Count may exceed the examples given; the rest is what is not listed.
	v.StuckMore = more{sn, max(int(d.Stuck.Count), len(d.Stuck.Messages))}
	v.Chart = chartView{ID: chartDelays, Summary: delaysSummary(d), Height: barHeight(2 * min(len(d.Delays), limit(o.MaxBars, 10)))}
	return v
}

func typosSection(d *analyze.HealthResult, o Options) typosView {
	var v typosView
	n := min(len(d.Typos), limit(o.MaxRows, 25))
	for _, r := range d.Typos[:n] {
		v.Typos = append(v.Typos, typoRowView{
			Domain:    r.Domain,
			Suggested: r.Suggested,
			Addresses: formatInt(r.Addresses),
			Messages:  formatInt(r.Messages),
			Note:      r.Note,
		})
	}
	v.TyposMore = more{n, len(d.Typos)}
	n = min(len(d.Lookalikes), limit(o.MaxRows, 25))
	for _, r := range d.Lookalikes[:n] {
		v.Lookalikes = append(v.Lookalikes, lookalikeRowView{
			Failing:   r.Failing,
			Failures:  formatInt(r.Failures),
			Code:      r.Code,
			Receiving: r.Receiving,
			Delivered: formatInt(r.Delivered),
		})
	}
	v.LooksMore = more{n, len(d.Lookalikes)}
	return v
}

func sendersSection(d *analyze.HealthResult, o Options) sendersView {
	v := sendersView{Empty: len(d.SendingDomains)+len(d.SendingIPs)+len(d.Tags) == 0}
	rows := func(rs []analyze.SplitRow) ([]splitRowView, more) {
		n := min(len(rs), limit(o.MaxRows, 25))
		var out []splitRowView
		for _, r := range rs[:n] {
			sv := splitRowView{Name: r.Name, Messages: "–", Delivered: "–", Rate: "–", Failures: formatInt(r.Failures), Class: r.Class,
				ClassCount: formatInt(r.ClassCount), Deferrals: formatInt(r.Deferrals), DeferralClass: r.DeferralClass, DeferralClassCount: formatInt(r.DeferralClassCount)}
			if r.Messages > 0 {
				sv.Messages, sv.Delivered, sv.Rate = formatInt(r.Messages), formatInt(r.Delivered), pctOf(r.Delivered, r.Messages)
			}
			out = append(out, sv)
		}
		return out, more{n, len(rs)}
	}
	v.Domains, v.DomainsMore = rows(d.SendingDomains)
	v.IPs, v.More = rows(d.SendingIPs)
	v.Tags, v.TagsMore = rows(d.Tags)
	return v
}
