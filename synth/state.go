package synth

import (
	"strconv"
	"strings"
)

// The suppression state the generator consults while it schedules: which
// (sending domain, address) pairs are on a list, and since when.

// suppKey identifies a (sending domain, address) pair: lists are per
// sending domain.
type suppKey struct {
	sender int
	addr   string
}

// suppState is what the generator knows about a pair while it schedules
// messages: when each list entry takes effect (0 = never). Times may lie in
// the future of the message being scheduled; only earlier ones count.
type suppState struct {
	bounced    int64
	bounceCode string // bounces before the range only: in the range the
	bounceErr  string // list entry comes from the bounce event
	unsub      int64
	unsubTags  []string
	complained int64
}

// suppressed returns the drop reply when the address is on one of the
// sending domain's lists at time t, or nil.
func (g *generator) suppressed(c *msgCtx, t int64) *reply {
	key := suppKey{c.s.idx, c.m.Recipient}
	st := g.state[key]
	if st == nil && !c.story {
		st = g.preexisting(c, key)
	}
	if st != nil {
		switch {
		case st.bounced != 0 && st.bounced < t:
			return dropBounce
		case st.complained != 0 && st.complained < t:
			return dropComplaint
		case st.unsub != 0 && st.unsub < t && (st.unsubTags[0] == "*" || overlaps(st.unsubTags, c.m.Tags)):
			return dropUnsubscribe
		}
	}
	// Mailgun stops some campaigns to lists with too many bad addresses.
	if c.camp != nil && c.sc == nil && c.r.chance(0.0004) {
		return dropListQuality
	}
	return nil
}

func overlaps(a, b []string) bool {
	for _, x := range a {
		for _, y := range b {
			if x == y {
				return true
			}
		}
	}
	return false
}

// preexisting creates the state of an address that was suppressed before
// the time range (see addrProps), or returns nil.
func (g *generator) preexisting(c *msgCtx, key suppKey) *suppState {
	p, s := c.props, c.s.idx
	var st *suppState
	age := g.start - p.preAge(s)
	switch {
	case p.preBounced(s):
		rep := replyFor(c.d.gw, rcUserUnknown, p.h)
		st = &suppState{bounced: age, bounceCode: strconv.Itoa(rep.code), bounceErr: strings.Clone(g.expand(&g.short, rep.text, c, age))}
	case p.preComplained(s, c.d):
		st = &suppState{complained: age}
	case p.preUnsubscribed(s):
		st = &suppState{unsub: age, unsubTags: allTags}
	default:
		return nil
	}
	key.addr = strings.Clone(key.addr)
	g.state[key] = st
	return st
}

// stateOf returns the pair's state, creating it. State outlives the
// message, so its strings are copied out of the slabs (a slab string would
// keep its whole chunk alive).
func (g *generator) stateOf(c *msgCtx) *suppState {
	key := suppKey{c.s.idx, c.m.Recipient}
	st := g.state[key]
	if st == nil {
		st = &suppState{}
		key.addr = strings.Clone(key.addr)
		g.state[key] = st
	}
	return st
}

// markBounced puts the address on the bounce list from time t (unless the
// allowlist protects it). The list entry itself is made from the bounce
// event when it is emitted, so the state needs no copy of the reply.
func (g *generator) markBounced(c *msgCtx, t int64) {
	if g.lists[c.s.idx].allowed(c.m.Recipient) {
		return
	}
	s := g.stateOf(c)
	if s.bounced == 0 || t < s.bounced {
		s.bounced = t
	}
}
