package synth

// Scheduling: everything that happens to one message, decided when it is
// accepted and pushed into the reorder queue with the time it will happen.

// fateKind is how a message's delivery attempts end.
type fateKind uint8

const (
	fDeliver      fateKind = iota
	fPerm                  // the first attempt fails permanently
	fTempThen              // n temporary failures, then delivered
	fTempForever           // temporary failures until Mailgun gives up (602)
	fTempThenPerm          // n temporary failures, then a permanent one
	fDelayed               // delivered, then an asynchronous bounce
)

type fate struct {
	kind  fateKind
	n     int
	temp  *reply
	final *reply
}

// overlay is a time window in which a receiver treats a message
// differently (a rate-limit wave, an IP block): attempts inside it get
// during; attempts after it get after, or the base fate when after is nil.
type overlay struct {
	from, until int64
	during      *reply
	after       *reply
}

// script overrides the random choices for a story message.
type script struct {
	fate     fate
	ov       *overlay
	noEngage bool  // never opened or clicked
	open     bool  // opened for sure
	complain int64 // > 0: complained this long after delivery
	capture  func(*Event)
}

// Mailgun's retry schedule after a temporary failure, in seconds.
var retrySchedule = [...]int{600, 900, 1800, 3600, 7200, 14400}

// maxAttempts is the last attempt before Mailgun gives up with 602 Too old
// (about eight hours after acceptance).
const maxAttempts = 7

// outcome decides attempt n at time t.
func (f *fate) outcome(n int, t int64, ov *overlay) (rep *reply, delivered bool) {
	if ov != nil && t >= ov.from {
		if t < ov.until {
			return ov.during, false
		}
		if ov.after != nil {
			return ov.after, false
		}
	}
	switch f.kind {
	case fPerm:
		return f.final, false
	case fTempThen:
		if n <= f.n {
			return f.temp, false
		}
	case fTempForever:
		return f.temp, false
	case fTempThenPerm:
		if n <= f.n {
			return f.temp, false
		}
		return f.final, false
	}
	return nil, true
}

// msgCtx carries what scheduling one message needs.
type msgCtx struct {
	m     *Message
	s     *sender
	d     *rdomain
	props addrProps
	kind  *kind
	vals  contentVals
	camp  *campaign
	r     *rng
	sc    *script
	late  *Message // the message's copy for late events
	story bool
}

// send schedules the events of a message accepted at t0.
func (g *generator) send(c *msgCtx, t0 int64) {
	m := c.m
	m.accepted = t0
	if !g.txn || c.sc != nil {
		// A transactional log holds outcomes only (see ProfileTransactional).
		g.push(c, Event{Type: Accepted, Time: t0, Msg: m})
	}
	if drop := g.suppressed(c, t0); drop != nil {
		g.push(c, Event{Type: Failed, Time: t0 + int64(c.r.between(20, 900))*1000, Msg: m, Status: g.newStatus(&g.short, DeliveryStatus{
			Severity: Permanent, Reason: drop.reason, Code: drop.code, Description: drop.desc, Attempt: 1,
		})})
		return
	}
	var f fate
	var ov *overlay
	if c.sc != nil {
		f, ov = c.sc.fate, c.sc.ov
	} else {
		f = g.backgroundFate(c)
		ov = g.waveOverlay(c, t0)
	}
	r := c.r
	first := t0 + int64(r.logNormal(900, 0.9)*1000) + 50_000
	if c.camp != nil {
		// A campaign queues behind thousands of siblings.
		first += int64(r.intn(40*60)) * 1e6
	}
	t := first
	var prev *DeliveryStatus
	for n := 1; ; n++ {
		rep, ok := f.outcome(n, t, ov)
		if ok {
			rep = replyFor(c.d.gw, rcOK, r.u64())
			if r.chance(0.05) {
				rep = plainOK // older Mailgun records say just "OK"
			}
		}
		st := g.status(c, rep, n, t, first)
		if prev != nil {
			st.LastCode, st.LastMessage = prev.Code, g.arena(c, t+60e6).clone(prev.Message)
		}
		et := t + int64(st.SessionMS)*1000 + 1000
		switch {
		case ok:
			g.push(c, Event{Type: Delivered, Time: et, Msg: m, Status: st})
			if f.kind == fDelayed {
				g.delayedBounce(c, et, f.final)
				return
			}
			g.engage(c, et)
			return
		case !rep.temporary():
			st.Severity, st.Reason = Permanent, rep.reason
			st.BounceType = "soft"
			if rep.hard {
				st.BounceType = "hard"
				g.markBounced(c, et)
			}
			g.push(c, Event{Type: Failed, Time: et, Msg: m, Status: st})
			return
		}
		st.Severity, st.Reason = Temporary, rep.reason
		retry := retrySchedule[min(n-1, len(retrySchedule)-1)]
		if rep.reason == ReasonGreylisted && n == 1 {
			retry = 300
		}
		st.RetrySeconds = retry
		g.push(c, Event{Type: Failed, Time: et, Msg: m, Status: st})
		if n == maxAttempts {
			xt := et + int64(r.between(30, 600))*1e6
			g.push(c, Event{Type: Failed, Time: xt, Msg: m, Status: g.newStatus(g.arena(c, xt), DeliveryStatus{
				Severity: Permanent, Reason: ReasonOld, Code: tooOld.code, Message: tooOld.text,
				Attempt: n + 1, FirstAttemptMS: st.FirstAttemptMS, LastCode: st.Code, LastMessage: st.Message,
			})})
			return
		}
		prev = st
		t = et + int64(retry)*1e6 + int64(r.intn(90_000_000))
	}
}

// status builds the delivery-status of attempt n at time t.
func (g *generator) status(c *msgCtx, rep *reply, n int, t, first int64) *DeliveryStatus {
	r := c.r
	// The event comes up to a minute after the attempt starts; its status
	// must live at least as long.
	a := g.arena(c, t+60e6)
	st := g.newStatus(a, DeliveryStatus{Code: rep.code, EnhancedCode: rep.enhanced, Attempt: n,
		FirstAttemptMS: int((first - c.m.accepted) / 1000)})
	st.Message = g.expand(a, rep.text, c, t)
	if rep.desc != "" {
		st.Description = g.expand(a, rep.desc, c, t)
	}
	if rep.noMX || c.d.dead {
		return st
	}
	st.MXHost = c.d.mxFor(c.props.h >> 7)
	st.TLS, st.CertVerified = c.d.tls, c.d.certOK
	switch {
	case rep.slow:
		st.SessionMS = r.between(15_000, 30_500)
	case c.d.gw == gwGmail || c.d.gw == gwWorkspace:
		st.SessionMS = int(r.logNormal(320, 0.5))
	case c.d.gw == gwSelfHosted:
		st.SessionMS = int(r.logNormal(1400, 0.8))
	default:
		st.SessionMS = int(r.logNormal(800, 0.6))
	}
	st.SessionMS = min(st.SessionMS, 60_000)
	return st
}

// delayedBounce schedules an asynchronous bounce after a delivery: the
// gateway accepted the message and its mailbox server refused it later.
func (g *generator) delayedBounce(c *msgCtx, delivered int64, rep *reply) {
	r := c.r
	t := delivered + int64(min(r.logNormal(900, 1.2), 6*3600)*1e6)
	a := g.arena(c, t)
	st := g.newStatus(a, DeliveryStatus{Severity: Permanent, Reason: rep.reason, Code: rep.code, EnhancedCode: rep.enhanced,
		Message: g.expand(a, rep.text, c, t), Description: delayedDesc, Attempt: 1, DelayedBounce: true, BounceType: "hard"})
	g.markBounced(c, t)
	g.push(c, Event{Type: Failed, Time: t, Msg: c.m, Status: st})
}
