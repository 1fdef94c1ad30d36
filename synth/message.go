package synth

import (
	"math"
	"strings"
)

// background creates one ordinary message (or a rare event) at time t.
func (g *generator) background(t int64, hour int) {
	r := &g.rng
	g.short.now = t
	before := g.scheduled
	defer func() {
		g.bgMsgs++
		g.bgEvents += g.scheduled - before
	}()
	switch x := r.float(); {
	case x < 0.001:
		g.rejected(t)
		return
	case x < 0.0013:
		g.stored(t)
		return
	case x < 0.0015:
		g.listUpload(t)
		return
	}
	c := &g.mc
	*c = msgCtx{r: r}
	if ci := g.tl.campaign[hour]; ci >= 0 && r.float() < g.tl.cshare[hour] {
		c.camp = g.tl.campaigns[ci]
		c.s, c.kind = c.camp.sender, kindNewsletter
	} else {
		c.s = g.senders[weighted(g.senderCum, r.float())]
		c.kind = c.s.profile.kinds[weighted(c.s.profile.cum, r.float())]
	}
	rc := g.pickRecipient(c.s, r)
	c.d, c.props = rc.domain, g.pop.props(rc.addr, rc.domain, rc.role)
	g.newMessage(c, rc, t)
	if c.camp != nil {
		c.m.SendingIP = c.s.ips[0]
	}
	g.send(c, t)
}

// pickRecipient draws a recipient for a sender: each sender has its own
// customers (an offset into the population) and a few people get much more
// mail than most.
func (g *generator) pickRecipient(s *sender, r *rng) recipient {
	n := g.pop.size
	u := r.float()
	i := uint64(u * math.Sqrt(u) * float64(n))
	if g.txn {
		// Anyone may sign up anywhere: no address is favoured.
		i = uint64(u * float64(n))
	}
	i = (i + uint64(s.idx)*(n/7)) % n
	for {
		rc := g.pop.pick(i, &g.short, &g.addrBuf)
		if !g.reserved[rc.addr] {
			return rc
		}
		i = (i + n/2 + 1) % n
	}
}

// newMessage fills c.m for a message to rc accepted at t0.
func (g *generator) newMessage(c *msgCtx, rc recipient, t0 int64) {
	r, s, k, sl := c.r, c.s, c.kind, &g.short
	g.messages++
	y, mo, _ := civil(t0 / dayUS)
	c.vals = contentVals{
		order: 10000 + r.intn(90000), invoice: r.intn(100000), code: r.intn(1000000),
		city: r.intn(len(cities)), month: (mo + 10) % 12, year: y,
		first: r.intn(len(firstNames)), last: r.intn(len(lastNames)), brand: s.brand,
	}
	m := sl.message()
	*m = Message{SendingDomain: s.domain, Recipient: rc.addr, To: rc.to, Tags: k.tags, Method: "HTTP", sender: s.idx, accepted: t0}
	if rc.domain != nil {
		m.RecipientDomain, m.Provider = rc.domain.name, rc.domain.provider
	}
	m.SendingIP = s.ips[0]
	if r.chance(0.4) {
		m.SendingIP = s.ips[1]
	}
	if r.chance(0.08) {
		m.Method = "SMTP"
	}
	m.From, m.Sender = s.from(k)
	b := appendCompactTime(g.scratch[:0], t0)
	b = append(b, ".1."...)
	b = r.appendHex(b, 16, hexUpper)
	b = append(b, '@')
	b = append(b, s.domain...)
	m.ID = sl.str(b)
	b = append(b[:0], "BAABAQ"...)
	b = r.appendB64(b, 28)
	m.StorageKey = sl.str(b)
	if c.camp != nil {
		m.Subject = c.camp.subject
		b = append(b[:0], `{"campaign":"`...)
		b = append(b, c.camp.slug...)
		b = append(b, `","segment":"`...)
		b = append(b, segments[r.intn(len(segments))]...)
		b = append(b, `"}`...)
		m.UserVariables = sl.str(b)
	} else {
		m.Subject = g.fill(k.subjects[r.intn(len(k.subjects))], &c.vals)
		m.UserVariables = g.fill(k.vars, &c.vals)
	}
	m.Size = int(r.logNormal(k.sizeKB, 0.35) * 1024)
	if k.attach != "" {
		size := int(r.logNormal(60, 0.8) * 1024)
		if r.chance(0.01) {
			size = r.between(9, 24) << 20 // a scanned contract, too big for some servers
		}
		m.Attachments = []Attachment{{Filename: g.fill(k.attach, &c.vals), ContentType: "application/pdf", Size: size}}
		m.Size += size * 4 / 3
	}
	c.m = m
}

var segments = []string{"active", "engaged-90d", "all-subscribers", "winback"}

// fill expands a content template; templates without codes are returned
// as they are.
func (g *generator) fill(t string, v *contentVals) string {
	if strings.IndexByte(t, '$') < 0 {
		return t
	}
	g.scratch = expandContent(g.scratch[:0], t, v)
	return g.short.str(g.scratch)
}

// lateCopy returns the message of c copied into the long-lived slabs, made
// once per message.
func (g *generator) lateCopy(c *msgCtx) *Message {
	if c.late != nil {
		return c.late
	}
	l, m := &g.long, c.m
	cp := l.message()
	*cp = *m
	cp.ID, cp.StorageKey, cp.Recipient, cp.To = l.clone(m.ID), l.clone(m.StorageKey), l.clone(m.Recipient), l.clone(m.To)
	cp.Subject, cp.UserVariables = l.clone(m.Subject), l.clone(m.UserVariables)
	if m.Attachments != nil {
		cp.Attachments = append([]Attachment(nil), m.Attachments...)
		for i := range cp.Attachments {
			cp.Attachments[i].Filename = l.clone(cp.Attachments[i].Filename)
		}
	}
	c.late = cp
	return cp
}
