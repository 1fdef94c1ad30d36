package synth

import (
	"sort"
	"strconv"
)

// Planting the stories: scripted messages that go through the same
// scheduling as background traffic, with their fates fixed.

// storyDomains are recipient domains only stories use; background traffic
// never goes there.
var storyDomains = map[string]bool{"acme.com": true, "contoso.com": true, "gmial.com": true, "initech.com": true}

var (
	acmeDomain    = &rdomain{name: "acme.com", gw: gwMimecast, mx: []string{"eu-smtp-inbound-1.mimecast.com"}, corp: true, tls: true, certOK: true}
	contosoDomain = &rdomain{name: "contoso.com", gw: gwM365, mx: []string{m365MX("contoso.com")}, provider: "Outlook 365", corp: true, tls: true, certOK: true}
	gmialDomain   = &rdomain{name: "gmial.com", gw: gwOtherFree, mx: []string{"-"}, dead: true}
	initechDomain = &rdomain{name: "initech.com", gw: gwWorkspace, mx: []string{"aspmx.l.google.com"}, provider: "Google Workspace", corp: true, tls: true, certOK: true}
)

// waveStory is the Gmail rate-limit window as it applies to background
// messages of the same sending domain and IP.
type waveStory struct {
	sender int
	ip     string
	ov     overlay
	story  *RateLimit
}

func (w *waveStory) count(e *Event) {
	if e.Msg.sender == w.sender && e.Msg.SendingIP == w.ip && e.Status.EnhancedCode == "4.7.28" &&
		e.Msg.RecipientDomain == "gmail.com" && e.Time >= w.ov.from && e.Time < w.ov.until {
		w.story.Deferrals++
	}
}

// waveOverlay puts most background messages of the wave's sender to Gmail
// inside the window under the same rate limit.
func (g *generator) waveOverlay(c *msgCtx, t0 int64) *overlay {
	w := g.wave
	if w == nil || c.s.idx != w.sender || c.d.name != "gmail.com" || c.m.SendingIP != w.ip ||
		t0 < w.ov.from-hourUS || t0 >= w.ov.until || !c.r.chance(0.9) {
		return nil
	}
	return &w.ov
}

// storyTimes are the story times relative to the start of End's UTC day.
type storyTimes struct{ day0 int64 }

func (s storyTimes) at(daysBefore int, hour, minute, second int) int64 {
	return s.day0 - int64(daysBefore)*dayUS + int64(hour)*hourUS + int64(minute)*60e6 + int64(second)*1e6
}

// planStories fixes what must be known before the timeline is built: the
// Gmail wave rides on a newsletter campaign that day. It returns the forced
// campaigns.
func (g *generator) planStories() map[int64]*sender {
	st := storyTimes{day0: g.end / dayUS * dayUS}
	s3 := g.senders[3%len(g.senders)]
	from := st.at(4, 14, 0, 0)
	g.stories = &Stories{}
	rl := &RateLimit{SendingDomain: s3.domain, SendingIP: s3.ips[0], RecipientDomain: "gmail.com",
		Start: utcMicro(from), End: utcMicro(from + 3*hourUS + 30*60e6)}
	g.stories.RateLimit = rl
	g.wave = &waveStory{sender: s3.idx, ip: s3.ips[0], story: rl,
		ov: overlay{from: from, until: from + 3*hourUS + 30*60e6, during: gmailRateLimit}}
	return map[int64]*sender{from: s3}
}

// storyRun holds what planting needs.
type storyRun struct {
	g    *generator
	r    rng
	t    storyTimes
	used map[string]bool // story addresses so far
}

func (g *generator) plantStories() {
	sr := &storyRun{g: g, r: newRNG(g.cfg.Seed, streamStories), t: storyTimes{day0: g.end / dayUS * dayUS}, used: map[string]bool{}}
	// Stories are planted before any background traffic exists; send
	// reserves each address so that background traffic never writes to it.
	s := g.stories
	s.DomainBlock = sr.domainBlock()
	s.IPBlock = sr.ipBlock()
	sr.rateLimit(s.RateLimit)
	s.TypoDomain = sr.typoDomain()
	s.Lookalike = sr.lookalike()
	s.NeverOpened, s.DuplicateID = sr.neverOpened()
	s.Complaints = sr.complaints()
	// Last, so that the stories above keep their numbers.
	s.Verify = sr.verify()
}

// send schedules one story message and summarises it.
func (sr *storyRun) send(s *sender, k *kind, camp *campaign, rc recipient, t0 int64, ip string, sc *script) (StoryMessage, []*Event) {
	g := sr.g
	var evs []*Event
	sc.capture = func(e *Event) { evs = append(evs, e) }
	g.reserved[rc.addr] = true
	t0 += int64(sr.r.intn(1e6)) // real timestamps are never whole seconds
	c := &msgCtx{r: &sr.r, s: s, kind: k, camp: camp, d: rc.domain, sc: sc, story: true}
	c.props = addrProps{h: hashString(uint64(g.cfg.Seed), rc.addr)}
	g.newMessage(c, rc, t0)
	if ip != "" {
		c.m.SendingIP = ip
	}
	g.send(c, t0)
	return summarise(c.m, evs), evs
}

func summarise(m *Message, evs []*Event) StoryMessage {
	sm := StoryMessage{MessageID: m.ID, Recipient: m.Recipient, SendingIP: m.SendingIP}
	for _, e := range evs {
		switch e.Type {
		case Accepted:
			sm.Accepted = e.When()
		case Delivered:
			sm.Outcome, sm.Code, sm.Final = "delivered", e.Status.Code, e.When()
		case Failed:
			switch {
			case e.Status.Severity == Temporary:
				sm.Deferrals++
			case e.Status.Reason == ReasonOld:
				sm.Outcome, sm.Code, sm.Final = "expired", e.Status.Code, e.When()
			case e.Status.Code >= 605 && e.Status.Code <= 607:
				sm.Outcome, sm.Code, sm.Final = "dropped", e.Status.Code, e.When()
			default:
				sm.Outcome, sm.Code, sm.Final = "failed", e.Status.Code, e.When()
			}
		}
	}
	return sm
}

// person returns a fresh first.last name at a domain.
func (sr *storyRun) person(d *rdomain, sep string, digits bool) recipient {
	for {
		first := firstNames[sr.r.intn(len(firstNames))]
		last := lastNames[sr.r.intn(len(lastNames))]
		local := first + sep + last
		if digits {
			local += strconv.Itoa(sr.r.between(10, 99))
		}
		addr := local + "@" + d.name
		if sr.used[addr] {
			continue
		}
		sr.used[addr] = true
		return recipient{addr: addr, to: displayName(first, last) + " <" + addr + ">", domain: d}
	}
}

func fixed(addr, first, last string, d *rdomain) recipient {
	return recipient{addr: addr, to: displayName(first, last) + " <" + addr + ">", domain: d}
}

// mainKind is a sender's most typical transactional kind.
func mainKind(s *sender) *kind { return s.profile.kinds[2] }

func (sr *storyRun) domainBlock() *DomainBlock {
	s := sr.g.senders[1%len(sr.g.senders)]
	b := &DomainBlock{Domain: acmeDomain.name, MXHost: acmeDomain.mx[0], Gateway: "Mimecast", SendingDomain: s.domain}
	people := make([]recipient, 44)
	for i := range people {
		people[i] = sr.person(acmeDomain, ".", false)
	}
	// Normal deliveries in the week before.
	for i := 0; i < 16; i++ {
		t0 := sr.t.at(12-i*6/16, sr.r.between(8, 17), sr.r.intn(60), sr.r.intn(60))
		m, _ := sr.send(s, mainKind(s), nil, people[i], t0, "", &script{fate: fate{kind: fDeliver}})
		b.Delivered = append(b.Delivered, m)
	}
	// The block: a batch to all of them, refused within two hours.
	start := sr.t.at(5, 9, 14, 0)
	offsets := make([]int64, len(people))
	for i := range offsets {
		offsets[i] = int64(sr.r.intn(110*60)) * 1e6
	}
	sort.Slice(offsets, func(i, j int) bool { return offsets[i] < offsets[j] })
	for i, rc := range people {
		m, evs := sr.send(s, mainKind(s), nil, rc, start+offsets[i], "", &script{fate: fate{kind: fPerm, final: mimecastUserEntry}})
		b.Blocked = append(b.Blocked, m)
		b.Addresses = append(b.Addresses, rc.addr)
		for _, e := range evs {
			if e.Type == Failed {
				if b.Reply == "" || e.When().Before(b.BlockStart) {
					b.Reply, b.Code, b.BlockStart = e.Status.Message, e.Status.Code, e.When()
				}
				if e.When().After(b.BlockEnd) {
					b.BlockEnd = e.When()
				}
			}
		}
	}
	sort.Strings(b.Addresses)
	// Later messages to some of them are dropped.
	for i := 0; i < 8; i++ {
		t0 := sr.t.at(4-i/4, sr.r.between(8, 18), sr.r.intn(60), sr.r.intn(60))
		m, _ := sr.send(s, mainKind(s), nil, people[(i*5)%len(people)], t0, "", &script{fate: fate{kind: fDeliver}})
		b.Dropped = append(b.Dropped, m)
	}
	return b
}

func (sr *storyRun) ipBlock() *IPBlock {
	s := sr.g.senders[2%len(sr.g.senders)]
	from := sr.t.at(6, 8, 0, 0)
	until := from + 6*hourUS
	b := &IPBlock{Domain: contosoDomain.name, MXHost: contosoDomain.mx[0], SendingDomain: s.domain,
		SendingIP: s.ips[1], OtherIP: s.ips[0]}
	ov := &overlay{from: from, until: until, during: msDeferral, after: msBlock}
	people := make([]recipient, 8)
	for i := range people {
		people[i] = sr.person(contosoDomain, ".", false)
	}
	k := mainKind(s)
	send := func(rc recipient, t0 int64, ip string, sc *script) StoryMessage {
		m, evs := sr.send(s, k, nil, rc, t0, ip, sc)
		for _, e := range evs {
			if e.Type != Failed {
				continue
			}
			if e.Status.Severity == Temporary {
				b.Deferrals++
				if b.DeferralReply == "" || e.When().Before(b.DeferralStart) {
					b.DeferralReply, b.DeferralStart = e.Status.Message, e.When()
				}
			} else {
				b.Blocks++
				if b.BlockReply == "" || e.When().Before(b.BlockStart) {
					b.BlockReply, b.BlockStart = e.Status.Message, e.When()
				}
			}
		}
		return m
	}
	deliver := func() *script { return &script{fate: fate{kind: fDeliver}} }
	// It used to work from the IP.
	b.Messages = append(b.Messages, send(people[0], sr.t.at(7, 11, 5, 12), s.ips[1], deliver()))
	for i, off := range []int64{30, 90, 180, 300} {
		sc := deliver()
		sc.ov = ov
		b.Messages = append(b.Messages, send(people[1+i], from+off*60e6, s.ips[1], sc))
	}
	for i, t0 := range []int64{sr.t.at(5, 10, 2, 41), sr.t.at(4, 15, 31, 7), sr.t.at(3, 11, 48, 55)} {
		sc := deliver()
		sc.ov = ov
		b.Messages = append(b.Messages, send(people[5+i], t0, s.ips[1], sc))
	}
	// The other IP still gets through.
	b.OtherIPs = append(b.OtherIPs, send(people[2], from+int64(70)*60e6, s.ips[0], deliver()))
	b.OtherIPs = append(b.OtherIPs, send(people[6], from+int64(250)*60e6, s.ips[0], deliver()))
	for _, p := range people {
		b.Addresses = append(b.Addresses, p.addr)
	}
	sort.Strings(b.Addresses)
	return b
}

func (sr *storyRun) rateLimit(rl *RateLimit) {
	g := sr.g
	s := g.senders[g.wave.sender]
	gmail := g.pop.byName["gmail.com"]
	camp := &campaign{sender: s, subject: s.profile.newsletters[0], slug: string(appendISO(nil, g.wave.ov.from, 3)[:10]) + "-" + s.brandSlug()}
	for i := 0; i < 10; i++ {
		rc := sr.person(gmail, ".", true)
		t0 := g.wave.ov.from + int64(i*8)*60e6 + int64(sr.r.intn(60))*1e6
		ov := g.wave.ov
		m, evs := sr.send(s, kindNewsletter, camp, rc, t0, s.ips[0], &script{fate: fate{kind: fDeliver}, ov: &ov})
		rl.Messages = append(rl.Messages, m)
		for _, e := range evs {
			if e.Type == Failed && rl.Reply == "" {
				rl.Reply = e.Status.Message
			}
		}
	}
}

func (sr *storyRun) typoDomain() *TypoDomain {
	s := sr.g.senders[0]
	td := &TypoDomain{Domain: gmialDomain.name, Intended: "gmail.com", SendingDomain: s.domain, Reply: "No MX for gmial.com"}
	times := []int64{sr.t.at(13, 10, 12, 4), sr.t.at(10, 19, 40, 51), sr.t.at(6, 8, 5, 30), sr.t.at(4, 13, 30, 2)}
	for _, t0 := range times {
		rc := sr.person(gmialDomain, ".", sr.r.chance(0.5))
		m, _ := sr.send(s, kindConfirm, nil, rc, t0, "", &script{fate: fate{kind: fTempForever, temp: noMX}})
		td.Messages = append(td.Messages, m)
		td.Addresses = append(td.Addresses, rc.addr)
	}
	sort.Strings(td.Addresses)
	return td
}

func (sr *storyRun) lookalike() *Lookalike {
	s := sr.g.senders[1%len(sr.g.senders)]
	good := fixed("john.smith@initech.com", "john", "smith", initechDomain)
	bad := fixed("john_smith@initech.com", "john", "smith", initechDomain)
	sr.used[good.addr], sr.used[bad.addr] = true, true
	la := &Lookalike{Domain: initechDomain.name, MXHost: initechDomain.mx[0], SendingDomain: s.domain,
		BouncedAddress: bad.addr, DeliveredAddress: good.addr}
	k := mainKind(s)
	for i, d := range []int{11, 8, 5, 3} {
		sc := &script{fate: fate{kind: fDeliver}, noEngage: i > 0, open: i == 0}
		m, _ := sr.send(s, k, nil, good, sr.t.at(d, 10, sr.r.intn(60), sr.r.intn(60)), "", sc)
		la.Delivered = append(la.Delivered, m)
	}
	m, evs := sr.send(s, k, nil, bad, sr.t.at(9, 14, 20, 33), "", &script{fate: fate{kind: fPerm, final: gmailUnknown}})
	la.Bounce = m
	for _, e := range evs {
		if e.Type == Failed {
			la.Reply = e.Status.Message
		}
	}
	m, _ = sr.send(s, k, nil, bad, sr.t.at(4, 9, 0, 17), "", &script{fate: fate{kind: fDeliver}})
	la.Dropped = append(la.Dropped, m)
	return la
}

func (sr *storyRun) neverOpened() (*NeverOpened, *DuplicateID) {
	s := sr.g.senders[0]
	rc := fixed("jane.doe@initech.com", "jane", "doe", initechDomain)
	sr.used[rc.addr] = true
	_, evs := sr.send(s, kindConfirm, nil, rc, sr.t.at(3, 16, 42, 7), "", &script{fate: fate{kind: fDeliver}, noEngage: true})
	no := &NeverOpened{Address: rc.addr, SendingDomain: s.domain}
	var delivered *Event
	for _, e := range evs {
		no.MessageID, no.Subject, no.Tags = e.Msg.ID, e.Msg.Subject, e.Msg.Tags
		switch e.Type {
		case Accepted:
			no.Accepted = e.When()
		case Delivered:
			no.DeliveredAt, no.MXHost, no.Reply = e.When(), e.Status.MXHost, e.Status.Message
			delivered = e
		}
	}
	// The first bounce of the domain block, two days earlier, has the same id.
	first := sr.firstBlockEvent()
	delivered.ID = first.ID
	dup := &DuplicateID{ID: first.ID, Events: []StoryEvent{
		{Type: first.Type, Time: first.When(), MessageID: first.Msg.ID, Recipient: first.Msg.Recipient},
		{Type: delivered.Type, Time: delivered.When(), MessageID: delivered.Msg.ID, Recipient: delivered.Msg.Recipient},
	}}
	return no, dup
}

// firstBlockEvent finds the first bounce of the domain block in the queue.
func (sr *storyRun) firstBlockEvent() *Event {
	want := sr.g.stories.DomainBlock.Blocked[0].MessageID
	for _, it := range sr.g.q.items {
		if it.e.Type == Failed && it.e.Msg.ID == want {
			return it.e
		}
	}
	panic("synth: domain block story lost its first bounce")
}

func (sr *storyRun) complaints() *Complaints {
	s := sr.g.senders[3%len(sr.g.senders)]
	cs := &Complaints{SendingDomain: s.domain}
	pop := sr.g.pop
	doms := []*rdomain{pop.byName["yahoo.com"], pop.byName["aol.com"], pop.byName["hotmail.com"], pop.byName["outlook.com"], pop.byName["yahoo.com"]}
	sent := sr.t.at(10, 15, 5, 0)
	camp := &campaign{sender: s, subject: s.profile.newsletters[1%len(s.profile.newsletters)],
		slug: string(appendISO(nil, sent, 3)[:10]) + "-" + s.brandSlug()}
	for i, d := range doms {
		rc := sr.person(d, []string{".", "_", ""}[i%3], true)
		sc := &script{fate: fate{kind: fDeliver}, open: i%2 == 0, complain: int64(3+i*4) * hourUS}
		m, evs := sr.send(s, kindNewsletter, camp, rc, sent+int64(i*37)*1e6, "", sc)
		for _, e := range evs {
			if e.Type == Complained {
				cs.Complaints = append(cs.Complaints, StoryComplaint{Address: rc.addr, MessageID: m.MessageID, ComplainedAt: e.When()})
			}
		}
		later := sr.t.at(6-(i%2)*3, 15, 10+i, 0)
		dm, _ := sr.send(s, kindNewsletter, camp, rc, later, "", &script{fate: fate{kind: fDeliver}})
		cs.Dropped = append(cs.Dropped, dm)
	}
	return cs
}

// kindVerify is the identity check a sender's support team sends; only the
// verify story sends it.
var kindVerify = &kind{name: "verify-identity", tags: []string{"verify-identity"}, subjects: []string{"Verify your identity"},
	fromLocal: "security", weight: 1, open: 0.6, click: 0.5, link: "/account/verify?token=$N", sizeKB: 11, vars: `{"user_id":"u_$N","template":"verify-identity"}`}

func (sr *storyRun) verify() *Verify {
	s := sr.g.senders[2%len(sr.g.senders)]
	rc := fixed("maria.garcia@initech.com", "maria", "garcia", initechDomain)
	sr.used[rc.addr] = true
	v := &Verify{Address: rc.addr, SendingDomain: s.domain, Subject: kindVerify.subjects[0]}
	// The last one is 2.5 days before the end at whatever hour the account
	// ends: within Mailgun's 3 days of storage, so its quick view can be
	// fetched, and like every story over two days old.
	last := sr.g.end - 60*hourUS + 14*60e6 + 8e6
	for i, at := range []int64{sr.t.at(10, 9, 14, 8), sr.t.at(6, 10, 14, 8), last} {
		m, _ := sr.send(s, kindVerify, nil, rc, at, "", &script{fate: fate{kind: fDeliver}, noEngage: i < 2})
		v.Messages = append(v.Messages, m)
	}
	return v
}
