package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/index"
	"github.com/maildiag/maildiag/ingest"
)

// storedRef is a message found in the index, with what a resend needs.
type storedRef struct {
	MessageID     string
	EventID       string // when asked by event id
	SendingDomain string
	Recipients    []string // its original recipients: where it may go without approval
	StorageURL    string   // of the copy Mailgun keeps
	AcceptedAt    time.Time
}

// errNotInIndex is returned when neither an event nor a message has the id.
var errNotInIndex = errors.New("not in the index")

// findStored looks a message up by Mailgun event id or message-id. An
// event's message goes back to that event's recipient; a message-id's to
// its recipients (the caller picks one). ro is a read-only handle on the
// same index, for the lookup of an event id.
func findStored(ctx context.Context, db *index.DB, query string) (*storedRef, error) {
	q := strings.TrimSpace(query)
	if strings.Contains(q, "@") {
		return findByMessageID(ctx, db, strings.Trim(q, "<>"))
	}
	return findByEventID(ctx, db, q)
}

func findByMessageID(ctx context.Context, db *index.DB, mid string) (*storedRef, error) {
	mk := maildiag.MessageKey(mid)
	rcpts, err := db.RecipientsOfMessage(ctx, mk)
	if err != nil {
		return nil, err
	}
	if len(rcpts) == 0 {
		return nil, fmt.Errorf("message-id %s: %w", mid, errNotInIndex)
	}
	evs, err := messageEvents(ctx, db, rcpts, mk)
	if err != nil {
		return nil, err
	}
	ref := &storedRef{MessageID: mid}
	for _, e := range evs {
		if e.Recipient != "" && !slices.Contains(ref.Recipients, e.Recipient) {
			ref.Recipients = append(ref.Recipients, e.Recipient)
		}
	}
	sort.Strings(ref.Recipients)
	ref.fill(evs, "")
	return ref, nil
}

// findByEventID finds an event by its Mailgun id.
func findByEventID(ctx context.Context, db *index.DB, id string) (*storedRef, error) {
	found, err := db.EventsByID(ctx, id)
	if err != nil {
		return nil, err
	}
	type hit struct{ rcpt, mk, seq int64 }
	var hits []hit
	for _, e := range found {
		hits = append(hits, hit{e.RecipientID, e.MessageKey, e.Seq})
	}
	for _, h := range hits {
		raws, err := db.RawEvents(ctx, []int64{h.seq})
		if err != nil {
			return nil, err
		}
		ev, err := ingest.ParseEvent(raws[h.seq])
		if err != nil || ev.ID != id {
			continue // a hash shared by chance
		}
		if h.rcpt == 0 || ev.Recipient == "" {
			return nil, fmt.Errorf("event %s is a %s event without a recipient: nothing to resend", id, ev.Type)
		}
		evs := []maildiag.Event{ev}
		if h.mk != 0 {
			if evs, err = messageEvents(ctx, db, []int64{h.rcpt}, h.mk); err != nil {
				return nil, err
			}
		}
		ref := &storedRef{MessageID: ev.MessageID, EventID: id, Recipients: []string{ev.Recipient}}
		ref.fill(evs, ev.StorageURL)
		if ref.SendingDomain == "" {
			ref.SendingDomain = ev.SendingDomain
		}
		return ref, nil
	}
	return nil, fmt.Errorf("event %s: %w", id, errNotInIndex)
}

// fill takes the storage URL (prefer, else the first event's that has
// one), the sending domain and the time of acceptance from the events of
// the message.
func (r *storedRef) fill(evs []maildiag.Event, prefer string) {
	r.StorageURL = prefer
	var first, accepted int64
	for _, e := range evs {
		if r.StorageURL == "" {
			r.StorageURL = e.StorageURL
		}
		if r.SendingDomain == "" {
			r.SendingDomain = e.SendingDomain
		}
		if first == 0 || e.TimeUS < first {
			first = e.TimeUS
		}
		if e.Type == maildiag.Accepted && (accepted == 0 || e.TimeUS < accepted) {
			accepted = e.TimeUS
		}
	}
	if accepted == 0 {
		accepted = first
	}
	if accepted != 0 {
		r.AcceptedAt = time.UnixMicro(accepted).UTC()
	}
}

// messageEvents reads and parses the events of one message to some
// recipients, oldest first.
func messageEvents(ctx context.Context, db *index.DB, rcpts []int64, mk int64) ([]maildiag.Event, error) {
	rows, err := db.EventsOf(ctx, rcpts, nil)
	if err != nil {
		return nil, err
	}
	var seqs []int64
	for _, r := range rows {
		if r.MessageKey == mk {
			seqs = append(seqs, r.Seq)
		}
	}
	raws, err := db.RawEvents(ctx, seqs)
	if err != nil {
		return nil, err
	}
	var out []maildiag.Event
	for _, s := range seqs {
		ev, err := ingest.ParseEvent(raws[s])
		if err != nil {
			continue // kept raw in the index; it tells nothing a resend needs
		}
		out = append(out, ev)
	}
	return out, nil
}
