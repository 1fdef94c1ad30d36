package report

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// The alerts open the page: each domain-wide block as one sentence, then
// the caller's alerts, most severe first.

// severityRank orders alerts; an unknown severity counts as a warning.
func severityRank(s Severity) int {
	switch s {
	case Critical:
		return 0
	case Info:
		return 2
	default:
		return 1
	}
}

// alerts builds the alert list of the page.
func alerts(d *Data, c clock) []alertView {
	var out []alertView
	for _, b := range d.Blocks {
		a := alertView{
			Severity: string(Critical),
			Kind:     VerdictDomainBlock,
			Domain:   b.Domain,
			Title:    b.Domain + ": domain-wide block",
			Text:     blockSentence(b),
			Reply:    fold(b.SampleReply),
		}
		if b.MXHost != "" {
			a.Evidence = append(a.Evidence, "Answering host: "+b.MXHost)
		}
		if !b.First.IsZero() {
			a.Evidence = append(a.Evidence, "First bounce "+c.stamp(b.First)+", last "+c.stamp(b.Last))
		}
		if len(b.SendingDomains) > 0 {
			a.Evidence = append(a.Evidence, "Sending domains hit: "+strings.Join(b.SendingDomains, ", "))
		}
		out = append(out, a)
	}
	rest := slices.Clone(d.Alerts)
	slices.SortStableFunc(rest, func(a, b Alert) int {
		return cmp.Compare(severityRank(a.Severity), severityRank(b.Severity))
	})
	for _, a := range rest {
		sev := a.Severity
		if sev != Critical && sev != Info {
			sev = Warning
		}
		out = append(out, alertView{
			Severity: string(sev),
			Kind:     "alert",
			Title:    a.Title,
			Text:     a.Text,
			Evidence: a.Evidence,
		})
	}
	return out
}

// blockSentence is the one-line verdict of a domain-wide block.
func blockSentence(b DomainBlock) string {
	var s strings.Builder
	noun := "addresses"
	if b.Addresses == 1 {
		noun = "address"
	}
	fmt.Fprintf(&s, "%s: %s %s bounced", b.Domain, formatInt(b.Addresses), noun)
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
		fmt.Fprintf(&s, " within %s", formatSpan(b.Last.Sub(b.First)))
	}
	s.WriteString(": a domain-wide block at the recipient, not bad addresses. ")
	s.WriteString(cmp.Or(b.Advice, "Ask their admin to allowlist our sending IPs, then remove the suppressions."))
	return s.String()
}
