package analyze

import (
	"cmp"
	"fmt"
	"maps"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/maildiag/maildiag"
)

// msCode is Microsoft's own code for a refusal, such as (S3150).
var msCode = regexp.MustCompile(`\(S\d+\)`)

// minRateLimited is the fewest rate-limited failures a wave is made of.
const minRateLimited = 20

// ruleAlerts are the alerts decided by the rules over the result and the
// scan's facts: rate-limit waves, providers refusing one of our sending
// IPs or domains, and rates beyond the thresholds.
func ruleAlerts(res *HealthResult, th Thresholds, f *healthFacts) []Alert {
	var out []Alert
	if f.rules != nil {
		if a, ok := rateLimitWave(res, th, f.rules); ok {
			out = append(out, a)
		}
		out = append(out, senderBlocks(th, f)...)
	}
	out = append(out, rateAlerts(res, th)...)
	if a, ok := suppressionJump(res, th, f); ok {
		out = append(out, a)
	}
	if f.rules != nil {
		typos := map[string]bool{}
		for _, a := range res.Alerts {
			if a.Kind == AlertTypo {
				typos[a.Domain] = true
			}
		}
		if a, ok := expiredLinks(f.rules.links, time.Duration(th.TokenTTLHours*float64(time.Hour)), typos); ok {
			out = append(out, a)
		}
	}
	return out
}

// minSuppressionJump is the fewest new suppressions a jump is made of.
const minSuppressionJump = 20

// suppressionJump: at least th.DeferralSpike times as many new list
// entries as in the previous period.
func suppressionJump(res *HealthResult, th Thresholds, f *healthFacts) (Alert, bool) {
	if !f.suppressedKnown {
		return Alert{}, false
	}
	var now, bounces, complaints, unsubs int64
	for _, d := range res.SuppressionDays {
		now += d.Bounces + d.Complaints + d.Unsubscribes
		bounces, complaints, unsubs = bounces+d.Bounces, complaints+d.Complaints, unsubs+d.Unsubscribes
	}
	was := f.prevSuppressed
	if now < minSuppressionJump || float64(now) < th.DeferralSpike*float64(max(was, 1)) {
		return Alert{}, false
	}
	title := fmt.Sprintf("%d new suppressions, none in the previous period", now)
	if was > 0 {
		title = fmt.Sprintf("%d new suppressions, %.1f times the previous period's %d", now, float64(now)/float64(was), was)
	}
	return Alert{Severity: AlertWarning, Kind: AlertSuppressionJump, Title: title,
		Text: "Many more addresses were put on a suppression list than before: bounces point at a block or a bad import, complaints and unsubscribes at a campaign. " +
			"See the new suppressions and the worst domains below before removing any.",
		Evidence: []string{fmt.Sprintf("bounces %d, complaints %d, unsubscribes %d", bounces, complaints, unsubs)}}, true
}

// rateLimitWave: rate-limited failures at least th.RateLimitWave of all
// failures, named by the provider, sending IP and domain that had most.
func rateLimitWave(res *HealthResult, th Thresholds, rs *ruleScan) (Alert, bool) {
	var rl, all int64
	for _, n := range rs.rateLimited {
		rl += n
	}
	for _, c := range res.TopClasses {
		all += c.Count
	}
	if rl < minRateLimited || float64(rl) < th.RateLimitWave*float64(all) {
		return Alert{}, false
	}
	keys := slices.Collect(maps.Keys(rs.rateLimited))
	slices.SortFunc(keys, func(a, b rlKey) int {
		return cmp.Or(cmp.Compare(rs.rateLimited[b], rs.rateLimited[a]), cmp.Compare(a.gateway, b.gateway), cmp.Compare(a.ip, b.ip), cmp.Compare(a.sending, b.sending))
	})
	top := keys[0]
	peak := 0
	for i, n := range rs.rlSeries {
		if n > rs.rlSeries[peak] {
			peak = i
		}
	}
	if len(rs.rlSeries) == 0 || rs.rlSeries[peak]*int64(len(rs.rlSeries)) < 2*rl {
		return Alert{}, false // steady throttling, not a wave
	}
	when := ""
	if peak < len(res.Volume) {
		when = bucketName(res.Volume[peak].Start, res.Hourly)
	}
	a := Alert{Severity: AlertWarning, Kind: AlertRateLimitWave, Provider: top.gateway,
		Title: fmt.Sprintf("%s rate-limited %s from %s: %s (%s of all failures)", top.gateway, top.sending, top.ip,
			maildiag.Plural(int(rs.rateLimited[top]), "failure"), pct(float64(rl)/float64(all))),
		SendingDomains: []string{top.sending}, SendingIPs: []string{top.ip}}
	if float64(rl) >= 2*th.RateLimitWave*float64(all) {
		a.Severity = AlertCritical
	}
	a.Text = fmt.Sprintf("%d of %d failures in the period were rate limits (%s), most of them at %s for sending IP %s of %s, peaking at %d %s. "+
		"Mailgun retries them, so messages arrive late or expire. Slow the sending to %s for this domain and spread it over time and IPs; check the domain's reputation in the provider's postmaster tools (Gmail Postmaster Tools, Microsoft SNDS).",
		rl, all, pct(float64(rl)/float64(all)), top.gateway, top.ip, top.sending, rs.rlSeries[peak], when, top.gateway)
	for _, k := range keys[:min(len(keys), 3)] {
		a.Evidence = append(a.Evidence, fmt.Sprintf("%s, sending IP %s, %s: %d rate-limited", k.gateway, k.ip, k.sending, rs.rateLimited[k]))
	}
	a.Evidence = append(a.Evidence, fmt.Sprintf("peak: %d %s", rs.rlSeries[peak], when))
	return a, true
}

// bucketName names a volume bucket in a sentence.
func bucketName(t time.Time, hourly bool) string {
	if hourly {
		return "in the hour from " + t.UTC().Format("2 January 15:04 UTC")
	}
	return "on " + t.UTC().Format("Monday 2 January")
}

// senderBlocks: a provider refusing by policy one of our sending IPs (at
// least th.IPBlockFailures messages at a recipient domain, and 80% of that
// domain's refusals: its other IPs get through), or one of our sending
// domains (as many, at several recipient domains, and 80% of the
// provider's refusals). Domain-wide blocks of one recipient are set apart.
func senderBlocks(th Thresholds, f *healthFacts) []Alert {
	rs := f.rules
	blocked := func(d string) bool { v, ok := f.verdicts[d]; return ok && v.Kind == VerdictDomainBlock }
	gwTotal := map[string]int64{}  // policy refusals per provider
	domTotal := map[string]int64{} // policy refusals per recipient domain
	for k, sb := range rs.senders {
		for d, c := range sb.byDomain {
			if !blocked(d) && !k.byIP {
				gwTotal[k.gateway] += c // each refusal has one sending domain
				domTotal[d] += c
			}
		}
	}
	type found struct {
		k       senderKey
		n       int64
		domains []string
	}
	var fs []found
	for k, sb := range rs.senders {
		var n int64
		var doms []string
		for d, c := range sb.byDomain {
			switch {
			case blocked(d):
			case !k.byIP:
				n += c
				doms = append(doms, d)
			case c >= int64(th.IPBlockFailures) && c*10 >= domTotal[d]*8:
				// One IP refused at a domain that takes our other IPs'
				// mail: the IP is blocked, not the domain's addresses.
				n += c
				doms = append(doms, d)
			}
		}
		if n > 0 {
			fs = append(fs, found{k, n, doms})
		}
	}
	var out []Alert
	slices.SortFunc(fs, func(a, b found) int {
		return cmp.Or(cmp.Compare(b.n, a.n), cmp.Compare(a.k.gateway, b.k.gateway), cmp.Compare(a.k.value, b.k.value))
	})
	ipAlerted := map[string]bool{}
	for _, x := range fs {
		if !x.k.byIP && (x.n < int64(th.IPBlockFailures) || x.n*10 < gwTotal[x.k.gateway]*8 || len(x.domains) < 2 || ipAlerted[x.k.gateway]) {
			continue // one recipient domain: a domain's block, not ours
		}
		sb := rs.senders[x.k]
		slices.Sort(x.domains)
		what, kind := "sending IP "+x.k.value, AlertIPBlock
		if !x.k.byIP {
			what, kind = "sending domain "+x.k.value, AlertSendingBlock
		} else {
			ipAlerted[x.k.gateway] = true
		}
		c, enhanced, _ := sb.main()
		code := strings.TrimSpace(codeText(c) + " " + enhanced)
		reply := f.senderReplies[x.k]
		if m := msCode.FindString(reply); m != "" {
			code += ", " + strings.Trim(m, "()")
		}
		// The deferrals of the very deliveries refused, at the domains
		// the alert names: the provider escalating from slowing to
		// refusing them.
		var own deferral
		if x.k.byIP {
			named := map[string]bool{}
			for _, d := range x.domains {
				named[d] = true
			}
			seen := map[delivery]bool{}
			for _, rf := range sb.refused {
				if !named[rf.domain] || seen[rf.delivery] {
					continue
				}
				seen[rf.delivery] = true
				if d, ok := rs.deferred[[2]string{x.k.gateway, x.k.value}][rf.delivery]; ok {
					if own.n == 0 || d.first.Before(own.first) {
						own.first = d.first
					}
					own.n += d.n
				}
			}
		}
		// A handful of refusals is a warning; many, or refusals after
		// deferrals of the same messages, a block in force.
		severity := AlertWarning
		if x.n >= int64(th.IPBlockCritical) || own.n > 0 {
			severity = AlertCritical
		}
		a := Alert{Severity: severity, Kind: kind, Provider: x.k.gateway,
			Title: fmt.Sprintf("%s refuses our %s (%s)", x.k.gateway, what, code)}
		if x.k.byIP {
			a.SendingIPs = []string{x.k.value}
		} else {
			a.SendingDomains = []string{x.k.value}
		}
		var s strings.Builder
		fmt.Fprintf(&s, "%s refused %s from %s by policy between %s and %s, at %s",
			x.k.gateway, maildiag.Plural(int(x.n), "message"), what, fmtTime(sb.first), fmtTime(sb.last), listDomains(x.domains, 4))
		if own.n > 0 {
			fmt.Fprintf(&s, ", after %s of the same messages since %s", maildiag.Plural(int(own.n), "rate-limit or policy deferral"), fmtTime(own.first))
		}
		s.WriteString(": the provider blocks our sender, not the recipients' addresses. ")
		if x.k.byIP {
			s.WriteString("Ask Mailgun support to move the sending domain to another IP or to delist this one with the provider")
			if strings.Contains(strings.ToLower(x.k.gateway), "microsoft") {
				s.WriteString(" (Microsoft's delisting form: sender.office.com)")
			}
			s.WriteString("; meanwhile ask the recipients' admins to allowlist our sending IPs and domains. Do not remove the suppressions until mail is accepted again.")
		} else {
			s.WriteString("Check the domain's authentication (SPF, DKIM, DMARC alignment) and reputation in the provider's postmaster tools, and ask the recipients' admins to allowlist it.")
		}
		a.Text = s.String()
		for _, d := range x.domains[:min(len(x.domains), 5)] {
			a.Evidence = append(a.Evidence, fmt.Sprintf("%s: %d refused", d, sb.byDomain[d]))
		}
		if own.n > 0 {
			a.Evidence = append(a.Evidence, fmt.Sprintf("deferred first: %s of the refused messages, from %s", maildiag.Plural(int(own.n), "deferral"), fmtTime(own.first)))
		}
		if reply != "" {
			a.Evidence = append(a.Evidence, "reply: "+oneLine(reply))
		}
		if len(x.domains) == 1 {
			a.Domain = x.domains[0]
		}
		out = append(out, a)
	}
	return out
}

// listDomains names up to n domains: "contoso.com", "a.com, b.com and 3
// more".
func listDomains(ds []string, n int) string {
	if len(ds) <= n {
		return strings.Join(ds, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(ds[:n], ", "), len(ds)-n)
}

// rateAlerts are the rates beyond the thresholds: bounces, complaints and
// a spike of deferrals against the previous period.
func rateAlerts(res *HealthResult, th Thresholds) []Alert {
	var out []Alert
	for _, r := range res.Rates {
		if r.Of == 0 {
			continue
		}
		p := pct
		if r.Name == RateComplaint {
			p = pct2 // complaint rates live under 1%
		}
		ev := []string{fmt.Sprintf("%d of %d (%s)", r.Count, r.Of, p(r.Rate))}
		if r.Previous != nil {
			ev = append(ev, "previous period: "+p(*r.Previous))
		}
		switch {
		case r.Name == RateBounce && r.Rate >= th.BounceRate:
			out = append(out, Alert{Severity: AlertCritical, Kind: AlertBounceRate, Evidence: ev,
				Title: fmt.Sprintf("Bounce rate %s, above %s", pctOver(r.Rate, th.BounceRate), pct(th.BounceRate)),
				Text: fmt.Sprintf("%d of %d messages failed permanently. Sending services review accounts above %s and mailbox providers lower their trust in the sender: "+
					"look at the failure classes and the worst domains below, stop mailing addresses that bounced, and confirm new addresses before mailing them.", r.Count, r.Of, pct(th.BounceRate))})
		case r.Name == RateComplaint && r.Rate >= th.ComplaintRate:
			out = append(out, Alert{Severity: AlertCritical, Kind: AlertComplaintRate, Evidence: ev,
				Title: fmt.Sprintf("Spam complaint rate %s, above Gmail's and Yahoo's %s limit", pct2(r.Rate), pct(th.ComplaintRate)),
				Text: fmt.Sprintf("%d complaints for %d delivered messages. Gmail and Yahoo require bulk senders to stay under %s (aim under %s) and start refusing mail above it: "+
					"mail only people who asked for it, make unsubscribing one click, and slow campaigns to the complaining segments.", r.Count, r.Of, pct(th.ComplaintRate), pct(th.ComplaintTarget))})
		case r.Name == RateComplaint && r.Rate >= th.ComplaintTarget:
			out = append(out, Alert{Severity: AlertWarning, Kind: AlertComplaintRate, Evidence: ev,
				Title: fmt.Sprintf("Spam complaint rate %s, above the %s to aim for", pct2(r.Rate), pct(th.ComplaintTarget)),
				Text: fmt.Sprintf("%d complaints for %d delivered messages: under Gmail's and Yahoo's %s limit, but above the %s they ask senders to aim for. Look at which campaigns draw them.",
					r.Count, r.Of, pct(th.ComplaintRate), pct(th.ComplaintTarget))})
		case r.Name == RateDeferral && r.Status == RateBad && r.Previous != nil:
			out = append(out, Alert{Severity: AlertWarning, Kind: AlertDeferralSpike, Evidence: ev,
				Title: fmt.Sprintf("Deferrals up: %s of attempts, %.1f times the previous period's %s", pct(r.Rate), r.Rate / *r.Previous, pct(*r.Previous)),
				Text: fmt.Sprintf("%d of %d delivery attempts were deferred, at least %.0f times the previous period's share. Providers are slowing or refusing our mail for now: see the rate limits and main deferral classes by provider below.",
					r.Count, r.Of, th.DeferralSpike)})
		}
	}
	return out
}

// pct2 writes a small fraction with two decimals: 0.35%.
func pct2(f float64) string { return fmt.Sprintf("%.2f%%", f*100) }

// splitSenders sorts a set of our senders into sending domains and IPs.
func splitSenders(set map[string]bool) (domains, ips []string) {
	for _, s := range slices.Sorted(maps.Keys(set)) {
		if _, err := netip.ParseAddr(s); err == nil {
			ips = append(ips, s)
		} else if s != "-" {
			domains = append(domains, s)
		}
	}
	return domains, ips
}
