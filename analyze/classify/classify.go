package classify

import (
	"strings"

	"github.com/maildiag/maildiag"
)

// Classification is the failure class of an event and the rule that
// decided it.
type Classification struct {
	Class string // a maildiag class name, e.g. user-unknown
	Rule  string // id of the deciding rule in rules.txt
	Hard  bool   // the address itself is at fault: retrying it cannot work
}

// classifyEvent returns the failure class of a failed or rejected event, by the
// first rule of rules.txt that matches it. Other events get the zero
// Classification. The enhanced code is taken from the reply when the
// event's field is empty, and the gateway is detected as detectGateway
// does, for rules that depend on it.
func classifyEvent(ev *maildiag.Event) Classification {
	k := kindOf(ev.Type)
	if k == 0 {
		return Classification{}
	}
	rh := replyHits{reply: ev.Reply}
	gw := loaded().gateway(ev.MXHost, ev.Provider, recipientDomain(ev), &rh)
	return loaded().classify(ev, k, gw, &rh)
}

// recipientDomain is the event's recipient domain, from the address when
// the field is empty.
func recipientDomain(ev *maildiag.Event) string {
	if ev.RecipientDomain != "" {
		return ev.RecipientDomain
	}
	return maildiag.DomainOf(ev.Recipient)
}

func kindOf(typ string) uint8 {
	switch typ {
	case maildiag.Failed:
		return kindFailed
	case maildiag.Rejected:
		return kindRejected
	}
	return 0
}

// facts are the event's fields in the form the rules compare.
type facts struct {
	kind     uint8
	delayed  bool
	severity uint8
	code     int
	enh      enhanced
	reason   string
	gateway  string

	// The texts are scanned when the first rule with a text condition is
	// reached: most suppressions and Mailgun codes are decided before.
	m       *matcher
	reply   *replyHits
	desc    string
	scanned bool
	hits    hitSet
}

// textHits returns the patterns found in the reply, Mailgun's description
// and, for rejected events, the reject reason.
func (f *facts) textHits() *hitSet {
	if !f.scanned {
		f.hits = *f.reply.get(f.m)
		f.m.scan(f.desc, &f.hits)
		if f.kind == kindRejected {
			f.m.scan(f.reason, &f.hits)
		}
		f.scanned = true
	}
	return &f.hits
}

func (t *tables) classify(ev *maildiag.Event, kind uint8, gw string, rh *replyHits) Classification {
	f := facts{kind: kind, delayed: ev.DelayedBounce, reason: ev.Reason, gateway: gw,
		m: t.match, reply: rh, desc: ev.Description}
	switch {
	case strings.EqualFold(ev.Severity, maildiag.SeverityPermanent):
		f.severity = sevPermanent
	case strings.EqualFold(ev.Severity, maildiag.SeverityTemporary):
		f.severity = sevTemporary
	}
	f.code = ev.Code
	if f.code == 0 {
		f.code = CodeIn(ev.Reply)
	}
	var ok bool
	if f.enh, ok = parseEnhanced(ev.EnhancedCode); !ok {
		if f.enh, ok = findEnhanced(ev.Reply); !ok && f.code >= 400 {
			f.enh, _ = findEnhanced(ev.Description)
		}
	}
	for i := range t.rules {
		if r := &t.rules[i]; r.match(&f) {
			return Classification{Class: r.Class, Rule: r.ID, Hard: r.Hard}
		}
	}
	// The table ends with a rule without conditions; load checks it.
	panic("analyze: no rule matched")
}

func (r *rule) match(f *facts) bool {
	if r.kinds != 0 && r.kinds&f.kind == 0 {
		return false
	}
	if r.delayed != 0 && (r.delayed > 0) != f.delayed {
		return false
	}
	if r.severity != 0 && r.severity != f.severity {
		return false
	}
	if r.codes != nil && !inSpans(r.codes, f.code) {
		return false
	}
	if r.enh != nil && !f.enh.matchAny(r.enh) {
		return false
	}
	if r.reasons != nil && !equalAny(r.reasons, f.reason) {
		return false
	}
	if r.gateways != nil && !equalAny(r.gateways, f.gateway) {
		return false
	}
	if r.texts != nil {
		h := f.textHits()
		for _, set := range r.texts {
			if !h.any(set) {
				return false
			}
		}
	}
	return true
}

func inSpans(spans []span, code int) bool {
	for _, s := range spans {
		if s.lo <= code && code <= s.hi {
			return true
		}
	}
	return false
}

func equalAny(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}
