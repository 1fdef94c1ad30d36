package remedy

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/index"
	"github.com/maildiag/maildiag/ingest"
)

// This file is the one place where remedy uses the index's read methods
// that speak its physical layout (recipient ids, message keys, raw JSON
// sequence numbers): when the index offers lookups in domain terms, only
// this file changes.

// MessageStore finds the events of a message in the index.
type MessageStore interface {
	EventsByID(ctx context.Context, id string) ([]index.EventRow, error)
	RecipientsOfMessage(ctx context.Context, messageKey int64) ([]int64, error)
	EventsOf(ctx context.Context, recipients, days []int64) ([]index.EventRow, error)
	RawEvents(ctx context.Context, seqs []int64) (map[int64][]byte, error)
}

// ErrNotInIndex is returned when neither an event nor a message has the id.
var ErrNotInIndex = errors.New("not in the index")

// FindMessage looks a message up by Mailgun event id or message-id (it
// has an @). An event's message goes back to that event's recipient; a
// message-id's to its recipients (the caller picks one).
func FindMessage(ctx context.Context, st MessageStore, query string) (*StoredMessage, error) {
	q := strings.TrimSpace(query)
	if strings.Contains(q, "@") {
		return findByMessageID(ctx, st, strings.Trim(q, "<>"))
	}
	return findByEventID(ctx, st, q)
}

func findByMessageID(ctx context.Context, st MessageStore, mid string) (*StoredMessage, error) {
	mk := maildiag.MessageKey(mid)
	rcpts, err := st.RecipientsOfMessage(ctx, mk)
	if err != nil {
		return nil, err
	}
	if len(rcpts) == 0 {
		return nil, fmt.Errorf("message-id %s: %w", mid, ErrNotInIndex)
	}
	evs, err := messageEvents(ctx, st, rcpts, mk)
	if err != nil {
		return nil, err
	}
	m := &StoredMessage{MessageID: mid}
	for _, e := range evs {
		if e.Recipient != "" && !slices.Contains(m.Recipients, e.Recipient) {
			m.Recipients = append(m.Recipients, e.Recipient)
		}
	}
	sort.Strings(m.Recipients)
	m.fill(evs, "")
	return m, nil
}

// findByEventID finds an event by its Mailgun id.
func findByEventID(ctx context.Context, st MessageStore, id string) (*StoredMessage, error) {
	found, err := st.EventsByID(ctx, id)
	if err != nil {
		return nil, err
	}
	for _, h := range found {
		raws, err := st.RawEvents(ctx, []int64{h.Seq})
		if err != nil {
			return nil, err
		}
		ev, err := ingest.ParseEvent(raws[h.Seq])
		if err != nil || ev.ID != id {
			continue // a hash shared by chance
		}
		if h.RecipientID == 0 || ev.Recipient == "" {
			return nil, fmt.Errorf("event %s is a %s event without a recipient: nothing to resend", id, ev.Type)
		}
		evs := []maildiag.Event{ev}
		if h.MessageKey != 0 {
			if evs, err = messageEvents(ctx, st, []int64{h.RecipientID}, h.MessageKey); err != nil {
				return nil, err
			}
		}
		m := &StoredMessage{MessageID: ev.MessageID, EventID: id, Recipients: []string{ev.Recipient}}
		m.fill(evs, ev.StorageURL)
		if m.SendingDomain == "" {
			m.SendingDomain = ev.SendingDomain
		}
		return m, nil
	}
	return nil, fmt.Errorf("event %s: %w", id, ErrNotInIndex)
}

// messageEvents reads and parses the events of one message to some
// recipients, oldest first.
func messageEvents(ctx context.Context, st MessageStore, rcpts []int64, mk int64) ([]maildiag.Event, error) {
	rows, err := st.EventsOf(ctx, rcpts, nil)
	if err != nil {
		return nil, err
	}
	var seqs []int64
	for _, r := range rows {
		if r.MessageKey == mk {
			seqs = append(seqs, r.Seq)
		}
	}
	raws, err := st.RawEvents(ctx, seqs)
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
