package synth

// Rare events: messages Mailgun rejects at the API, inbound replies a route
// stores, and mailing-list uploads. An analyzer sees few of them and must
// not trip over the types it does not know.

var badAddresses = []string{"@gmail,com", "@@outlook.com", "@", "@yahoo", " at hotmail.com", "@gmial..com"}

// rejected schedules a message Mailgun refused at the API: no recipient,
// no delivery.
func (g *generator) rejected(t int64) {
	r := &g.rng
	c := &g.mc
	*c = msgCtx{r: r}
	c.s = g.senders[weighted(g.senderCum, r.float())]
	c.kind = c.s.profile.kinds[weighted(c.s.profile.cum, r.float())]
	rc := g.pickRecipient(c.s, r)
	g.newMessage(c, recipient{}, t)
	rej := &Reject{Reason: "'to' parameter is not a valid address. please check documentation"}
	local := rc.addr[:len(rc.addr)-len(rc.domain.name)-1]
	c.m.To = local + badAddresses[r.intn(len(badAddresses))]
	if r.chance(0.2) {
		c.m.To = rc.addr
		c.m.Size = r.between(26, 40) << 20
		rej.Reason = "Message size exceeds the maximum allowed size of 25MB"
	}
	g.push(c, Event{Type: Rejected, Time: t, Msg: c.m, Reject: rej})
}

// stored schedules an inbound reply kept by a route (store()).
func (g *generator) stored(t int64) {
	r := &g.rng
	c := &g.mc
	*c = msgCtx{r: r}
	c.s = g.senders[weighted(g.senderCum, r.float())]
	c.kind = c.s.profile.kinds[weighted(c.s.profile.cum, r.float())]
	rc := g.pickRecipient(c.s, r)
	g.newMessage(c, recipient{}, t)
	m := c.m
	m.From, m.Sender = rc.to, rc.addr
	m.To = "support@" + c.s.domain
	m.Subject = "Re: " + m.Subject
	m.Tags, m.UserVariables, m.Method = nil, "", "SMTP"
	g.push(c, Event{Type: Stored, Time: t, Msg: m})
}

// listUpload schedules a mailing-list member upload.
func (g *generator) listUpload(t int64) {
	r := &g.rng
	c := &g.mc
	*c = msgCtx{r: r}
	c.s = g.senders[weighted(g.senderCum, r.float())]
	rc := g.pickRecipient(c.s, r)
	m := &Message{SendingDomain: c.s.domain, sender: c.s.idx, accepted: t}
	c.m = m
	g.messages++
	task := string(r.appendHex(nil, 32, hexLower))
	g.push(c, Event{Type: ListMemberUploaded, Time: t, Msg: m,
		Other: &OtherEvent{ListAddress: "newsletter@" + c.s.domain, MemberAddress: rc.addr, TaskID: task}})
}
