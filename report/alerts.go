package report

import (
	"cmp"
	"strings"

	"github.com/maildiag/maildiag/analyze"
)

// The alerts open the page: each domain-wide block, then the other alerts,
// in the order the analysis gives them (most severe first).

// alerts builds the alert list of the page.
func alerts(d *analyze.HealthResult, c clock) []alertView {
	var out []alertView
	for _, b := range d.Blocks {
		a := alertView{
			Severity: analyze.AlertCritical,
			Kind:     analyze.RowDomainBlock,
			Domain:   b.Domain,
			Title:    b.Domain + ": domain-wide block",
			Text:     b.Text,
			Reply:    fold(b.SampleReply),
		}
		if b.MXHost != "" {
			a.Evidence = append(a.Evidence, "Answering host: "+b.MXHost)
		}
		if !b.First.IsZero() {
			a.Evidence = append(a.Evidence, "First bounce "+c.stamp(b.First)+", last "+c.stamp(b.Last))
		}
		if len(b.SendingDomains) > 0 {
			a.Evidence = append(a.Evidence, "Sending domains to allowlist: "+strings.Join(b.SendingDomains, ", "))
		}
		if len(b.SendingIPs) > 0 {
			a.Evidence = append(a.Evidence, "Sending IPs to allowlist: "+strings.Join(b.SendingIPs, ", "))
		}
		out = append(out, a)
	}
	for _, a := range d.Alerts {
		ev := a.Evidence
		if a.Provider != "" {
			ev = append(ev, "Provider: "+a.Provider)
		}
		if len(a.SendingDomains)+len(a.SendingIPs) > 0 {
			ev = append(ev, "Our senders concerned: "+strings.Join(append(append([]string{}, a.SendingDomains...), a.SendingIPs...), ", "))
		}
		out = append(out, alertView{
			Severity: a.Severity,
			Kind:     cmp.Or(a.Kind, "alert"),
			Domain:   a.Domain,
			Title:    a.Title,
			Text:     a.Text,
			Evidence: ev,
		})
	}
	return out
}
