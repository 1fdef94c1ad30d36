package index

import "github.com/maildiag/maildiag"

// preparedEvent is what the writer looks an event up by, computed ahead:
// the hashes of its recipient, identity, message and texts, and the texts
// it builds. Hashing took a tenth of the writer's time in a 1M-event
// import, on the one goroutine every event waits for; PrepareEvents runs
// on the decoding workers.
type preparedEvent struct {
	rcpt        recipKey // zero: no recipient
	rcptDomain  recipKey // keyOf the recipient's domain; zero: none
	idHash, mk  int64
	texts       [5]recipKey // by text kind - 1; zero: none
	tags, route string
}

// text returns the text of kind i+1 of an event.
func (p *preparedEvent) text(ev *maildiag.Event, i int) string {
	switch i + 1 {
	case textSubject:
		return ev.Subject
	case textFrom:
		return ev.From
	case textIP:
		return ev.SendingIP
	case textTags:
		return p.tags
	}
	return p.route
}

// PrepareEvents computes ahead what AddPreparedEvents looks the events up
// by. It may run on any goroutine, beside the writer's own work: it reads
// only the writer's hash seeds, fixed when the writer was made.
func (w *Writer) PrepareEvents(evs []maildiag.Event) any {
	ps := w.spare.take()
	if cap(ps) < len(evs) {
		ps = make([]preparedEvent, len(evs), len(evs)+len(evs)/4)
	}
	ps = ps[:len(evs)]
	for i := range evs {
		w.prepare(&evs[i], &ps[i])
	}
	return ps
}

func (w *Writer) prepare(ev *maildiag.Event, p *preparedEvent) {
	p.rcpt, p.rcptDomain = recipKey{}, recipKey{}
	if ev.Recipient != "" {
		p.rcpt = w.dict.keyOf(ev.Recipient)
		if dom := maildiag.DomainOf(ev.Recipient); dom != "" {
			p.rcptDomain = w.dict.keyOf(dom)
		}
	}
	p.idHash = eventHash(ev.Type, ev.ID)
	p.mk = messageKey(ev.MessageID)
	w.prepareTexts(ev, p)
}

func (w *Writer) prepareTexts(ev *maildiag.Event, p *preparedEvent) {
	p.tags, p.route = "", ""
	if len(ev.Tags) > 0 {
		p.tags = tagsText(ev.Tags)
	}
	if ev.Provider != "" || ev.Gateway != "" || ev.MXHost != "" {
		p.route = RouteText(ev.Provider, ev.Gateway, ev.MXHost)
	}
	for i := range p.texts {
		p.texts[i] = recipKey{}
		if t := p.text(ev, i); t != "" {
			p.texts[i] = w.texts.keyOf(uint8(i+1), t)
		}
	}
}
