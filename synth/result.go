package synth

import (
	"strconv"
	"strings"
	"time"
)

// Result describes a generated account: what was emitted, the planted
// stories and the suppression lists at the end of the range.
type Result struct {
	Start, End time.Time // the time range
	Events     int       // events emitted (always Config.Events)
	Profile    Profile   // the kind of sender (Config.Profile, its default filled in)
	Messages   int       // messages (accepted, rejected or stored) and list uploads
	ByType     map[string]int
	ByDomain   map[string]int // events per sending domain
	// Stories is nil when Config.NoStories is set.
	Stories *Stories
	// Suppressions holds each sending domain's lists.
	Suppressions map[string]*Suppressions
	// SendingDomains are the domains in Config order.
	SendingDomains []string
	// SendingIPs lists each sending domain's IPs.
	SendingIPs map[string][]string
	AccountID  string
	SigningKey string
	// MaxPending is the largest number of events the reorder window held:
	// memory is bounded by it, not by Events.
	MaxPending int
}

// record updates counts and the suppression lists for an emitted event.
func (g *generator) record(e *Event) {
	g.byType[typeIndex(e.Type)]++
	m := e.Msg
	g.bySender[m.sender]++
	l := g.lists[m.sender]
	switch e.Type {
	case Unsubscribed:
		l.addUnsub(m.Recipient, e.Engagement.Tags, e.Time)
	case Complained:
		l.addComplaint(m.Recipient, e.Time)
	case Failed:
		st := e.Status
		if st.Severity != Permanent {
			if g.wave != nil {
				g.wave.count(e)
			}
			return
		}
		switch st.Reason {
		case ReasonBounce:
			if !l.allowed(m.Recipient) && l.bounces[m.Recipient] == nil {
				l.addBounce(m.Recipient, strconv.Itoa(st.Code), strings.Clone(st.Message), e.Time)
			}
		case ReasonSuppressBounce, ReasonSuppressComplaint, ReasonSuppressUnsubscribe:
			// The entry may predate the range: take it from the state.
			s := g.state[suppKey{m.sender, m.Recipient}]
			switch st.Reason {
			case ReasonSuppressBounce:
				l.addBounce(m.Recipient, s.bounceCode, s.bounceErr, s.bounced)
			case ReasonSuppressComplaint:
				l.addComplaint(m.Recipient, s.complained)
			default:
				l.addUnsub(m.Recipient, s.unsubTags, s.unsub)
			}
		}
	}
}

func (g *generator) result() *Result {
	res := &Result{
		Start: utcMicro(g.start), End: utcMicro(g.end),
		Events: g.emitted, Profile: g.cfg.Profile, Messages: g.messages, ByType: make(map[string]int),
		ByDomain: make(map[string]int), Stories: g.stories,
		Suppressions:   make(map[string]*Suppressions),
		SendingDomains: g.cfg.SendingDomains, SendingIPs: make(map[string][]string),
		AccountID: g.cfg.AccountID, SigningKey: g.cfg.SigningKey, MaxPending: g.maxPending,
	}
	for i, n := range g.byType {
		if n > 0 {
			res.ByType[eventTypes[i]] = n
		}
	}
	g.addOlderSuppressions()
	for i, s := range g.senders {
		res.ByDomain[s.domain] = g.bySender[i]
		res.Suppressions[s.domain] = g.lists[i].build()
		res.SendingIPs[s.domain] = s.ips
	}
	return res
}

// addOlderSuppressions adds list entries made before the range for
// addresses the range never wrote to, so lists are as long as a real
// account's. They follow the same rules as the ones the range consults.
func (g *generator) addOlderSuppressions() {
	r := newRNG(g.cfg.Seed, streamPopulation+10)
	n := clamp(g.limit/50, 1000, 50_000)
	for _, s := range g.senders {
		l := g.lists[s.idx]
		c := &msgCtx{r: &r, s: s, m: &Message{SendingDomain: s.domain}}
		for k := 0; k < n; k++ {
			rc := g.pop.pick(r.u64()%g.pop.size, &g.short, &g.addrBuf)
			if g.reserved[rc.addr] {
				continue
			}
			p := g.pop.props(rc.addr, rc.domain, rc.role)
			at := g.start - p.preAge(s.idx)
			switch {
			case p.preBounced(s.idx):
				if l.bounces[rc.addr] == nil {
					c.d, c.props = rc.domain, p
					c.m.Recipient, c.m.RecipientDomain = rc.addr, rc.domain.name
					rep := replyFor(rc.domain.gw, rcUserUnknown, p.h)
					l.addBounce(rc.addr, strconv.Itoa(rep.code), strings.Clone(g.expand(&g.short, rep.text, c, at)), at)
				}
			case p.preComplained(s.idx, rc.domain):
				l.addComplaint(rc.addr, at)
			case p.preUnsubscribed(s.idx):
				l.addUnsub(rc.addr, allTags, at)
			}
		}
	}
}
