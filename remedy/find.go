package remedy

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/analyze"
)

// MessageStore finds the events of a message in the index.
type MessageStore interface {
	Events(ctx context.Context, q analyze.EventQuery) ([]maildiag.Event, error)
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
	evs, err := st.Events(ctx, analyze.EventQuery{MessageID: mid, Full: true})
	if err != nil {
		return nil, err
	}
	if len(evs) == 0 {
		return nil, fmt.Errorf("message-id %s: %w", mid, ErrNotInIndex)
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

// AmbiguousError is an event id that names several events: Mailgun's ids
// are unique only within a day.
type AmbiguousError struct {
	ID         string
	Candidates []maildiag.Event
}

// Error lists the candidates, each with how to name it alone.
func (e *AmbiguousError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "event id %s names %d events (Mailgun's ids are unique only within a day); name the message instead:", e.ID, len(e.Candidates))
	for _, c := range e.Candidates {
		fmt.Fprintf(&b, "\n  %s  %-10s %s  message %s", c.Time().Format("2006-01-02 15:04 UTC"), c.Type, c.Recipient, c.MessageID)
		if c.MessageID != "" {
			fmt.Fprintf(&b, " (maildiag resend %s --to %s)", c.MessageID, c.Recipient)
		}
	}
	return b.String()
}

// findByEventID finds an event by its Mailgun id. Ids repeat across days:
// several events with it that are not one message to one recipient are
// an *AmbiguousError.
func findByEventID(ctx context.Context, st MessageStore, id string) (*StoredMessage, error) {
	found, err := st.Events(ctx, analyze.EventQuery{EventID: id})
	if err != nil {
		return nil, err
	}
	if len(found) == 0 {
		return nil, fmt.Errorf("event %s: %w", id, ErrNotInIndex)
	}
	ev := found[len(found)-1]
	for _, o := range found {
		if o.MessageID != ev.MessageID || o.Recipient != ev.Recipient || o.MessageID == "" && len(found) > 1 {
			return nil, &AmbiguousError{ID: id, Candidates: found}
		}
	}
	if ev.Recipient == "" {
		return nil, fmt.Errorf("event %s is a %s event without a recipient: nothing to resend", id, ev.Type)
	}
	evs := []maildiag.Event{ev}
	if ev.MessageID != "" {
		if evs, err = st.Events(ctx, analyze.EventQuery{MessageID: ev.MessageID, Addresses: []string{ev.Recipient}, Full: true}); err != nil {
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
