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
	"github.com/maildiag/maildiag/analyze"
	"github.com/maildiag/maildiag/index"
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
	evs, err := db.Events(ctx, analyze.EventQuery{MessageID: mid, Full: true})
	if err != nil {
		return nil, err
	}
	if len(evs) == 0 {
		return nil, fmt.Errorf("message-id %s: %w", mid, errNotInIndex)
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
	found, err := db.Events(ctx, analyze.EventQuery{EventID: id})
	if err != nil {
		return nil, err
	}
	if len(found) == 0 {
		return nil, fmt.Errorf("event %s: %w", id, errNotInIndex)
	}
	ev := found[len(found)-1] // the newest, as ids repeat only across days
	if ev.Recipient == "" {
		return nil, fmt.Errorf("event %s is a %s event without a recipient: nothing to resend", id, ev.Type)
	}
	evs := []maildiag.Event{ev}
	if ev.MessageID != "" {
		if evs, err = db.Events(ctx, analyze.EventQuery{MessageID: ev.MessageID, Addresses: []string{ev.Recipient}, Full: true}); err != nil {
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
