package classify

import (
	"strings"
	"testing"

	"github.com/maildiag/maildiag"
)

// FuzzClassify checks that any event, however malformed its texts, gets a
// class of the taxonomy from a rule of the table, and a gateway that is
// either unknown, named in gateways.txt or the provider's own name.
func FuzzClassify(f *testing.F) {
	for _, r := range loadCorpus(f) {
		e := r.ev
		f.Add(e.Type, e.Code, e.EnhancedCode, e.Reason, e.Severity, e.DelayedBounce, e.MXHost, e.Provider, e.RecipientDomain, e.Reply, e.Description)
	}
	f.Add("failed", 0, "5.", "", "", false, ".", "*", "", "5.1.1000.1 \x00\xff", "smtp;")
	f.Add("rejected", -1, "9.9.9", "\n", "permanent", true, "*.*", "$provider", "..", "   ", "\t")
	names := make(map[string]bool)
	for _, g := range loaded().gateways {
		names[g.name] = true
	}
	f.Fuzz(func(t *testing.T, typ string, code int, enh, reason, severity string, delayed bool, mx, provider, domain, reply, desc string) {
		ev := maildiag.Event{Type: typ, Code: code, EnhancedCode: enh, Reason: reason, Severity: severity, DelayedBounce: delayed,
			MXHost: mx, Provider: provider, RecipientDomain: domain, Reply: reply, Description: desc}
		c := classifyEvent(&ev)
		if typ != maildiag.Failed && typ != maildiag.Rejected {
			if c != (Classification{}) {
				t.Fatalf("type %q: got %+v, want the zero Classification", typ, c)
			}
		} else {
			info, ok := maildiag.ClassOf(c.Class)
			if !ok {
				t.Fatalf("class %q is not in the taxonomy", c.Class)
			}
			r, ok := ruleOf(c.Rule)
			if !ok || r.Class != info.Name || r.Hard != c.Hard {
				t.Fatalf("got %+v, which rule %+v (found %v) does not give", c, r, ok)
			}
		}
		gw := detectGateway(mx, provider, reply, domain)
		if gw != "" && !names[gw] && gw != strings.TrimSpace(provider) {
			t.Fatalf("gateway %q is neither in gateways.txt nor the provider %q", gw, provider)
		}
		Derive(&ev)
		if ev.Gateway != gw || ev.Class != c.Class || ev.Rule != c.Rule {
			t.Fatalf("Derive gave %q/%s/%s, Classify and DetectGateway %q/%s/%s", ev.Gateway, ev.Class, ev.Rule, gw, c.Class, c.Rule)
		}
	})
}
