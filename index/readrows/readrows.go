// Package readrows holds what both stores do alike with the events they
// read for the analyses: which events' original JSON to parse, and how an
// event is made from its JSON, its failure details and its row. Each store
// reads its own rows with its own SQL; the events they give are the same.
package readrows

import (
	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/analyze"
	"github.com/maildiag/maildiag/ingest"
)

// Row is what a store read of an event before its JSON.
type Row struct {
	Type       string
	MessageKey int64 // the message-id's key; 0: none
	Recipient  int64 // the recipient's id
}

type delivery struct{ mk, rcpt int64 }

// ToParse tells which events' original JSON to read and parse: all with
// full; accepted and delivered events (their message-id and route); an
// event without a message-id that is no failure (its JSON is all there
// is); and one event of each delivery that no other parsed event tells the
// message-id of. Failures come from their table.
func ToParse(rows []Row, full bool) []bool {
	parse := make([]bool, len(rows))
	told := map[delivery]bool{} // deliveries with an event whose JSON tells the message-id
	for i, e := range rows {
		failure := e.Type == maildiag.Failed || e.Type == maildiag.Rejected
		if e.Type == maildiag.Accepted || e.Type == maildiag.Delivered {
			parse[i], told[delivery{e.MessageKey, e.Recipient}] = true, true
		}
		parse[i] = parse[i] || full || e.MessageKey == 0 && !failure
	}
	for i, e := range rows {
		if d := (delivery{e.MessageKey, e.Recipient}); !parse[i] && e.MessageKey != 0 && !told[d] {
			parse[i], told[d] = true, true
		}
	}
	return parse
}

// Stored is an event as a store read it, for Events.
type Stored struct {
	Row
	Parse         bool   // its JSON is to be parsed (ToParse)
	Raw           []byte // its original JSON, when read
	Failure       *analyze.Failure
	Gateway       string // who receives its recipient domain's mail
	TimeUS        int64
	SendingDomain string
	Address       string // its recipient's
}

// Events makes the events: from their JSON where it was to be parsed and
// parses (without it, unless full), else from their failure details, else
// a type alone; the time, names, class, rule and gateway the store keeps
// win; and an event without a message-id takes that of another event of
// its delivery.
func Events(rows []Stored, full bool) []maildiag.Event {
	out := make([]maildiag.Event, len(rows))
	messageIDs := map[delivery]string{}
	for i := range rows {
		e, ev := &rows[i], &out[i]
		if e.Parse && e.Raw != nil {
			if p, err := ingest.ParseEvent(e.Raw); err == nil {
				*ev = p
				if !full {
					ev.Raw = nil
				}
			}
		}
		if ev.Type == "" && e.Failure != nil {
			*ev = e.Failure.Event()
		}
		if ev.Type == "" {
			ev.Type = e.Type
		}
		if e.Gateway != "" && e.Parse {
			ev.Gateway = e.Gateway
		}
		if f := e.Failure; f != nil {
			ev.Class, ev.Rule, ev.Gateway = f.Class, f.Rule, f.Gateway
		}
		ev.TimeUS = e.TimeUS
		if ev.SendingDomain == "" {
			ev.SendingDomain = e.SendingDomain
		}
		if e.Address != "" {
			ev.Recipient, ev.RecipientDomain = e.Address, maildiag.DomainOf(e.Address)
		}
		if ev.MessageID != "" && e.MessageKey != 0 {
			messageIDs[delivery{e.MessageKey, e.Recipient}] = ev.MessageID
		}
	}
	for i, e := range rows {
		if out[i].MessageID == "" && e.MessageKey != 0 {
			out[i].MessageID = messageIDs[delivery{e.MessageKey, e.Recipient}]
		}
	}
	return out
}
