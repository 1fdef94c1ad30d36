package mgserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/maildiag/maildiag/synth"
)

// Account is a Mailgun account held in memory: per sending domain, its
// events in time order with their JSON in both API shapes, its suppression
// lists, and the messages Mailgun stored for it. All methods are safe for
// concurrent use.
type Account struct {
	mu        sync.RWMutex
	accountID string
	domains   []*domainData
	byName    map[string]*domainData
	stored    map[string]*storedMessage
	// origins are the scheme and host of the storage URLs seen, which the
	// server can rewrite to its own base URL.
	origins []string
	sends   []Send
	// created is when the domains were created, for the domains API.
	created time.Time
	arena   arena
}

// Event is one event as the account holds it. The strings and JSON are
// shared with the account and must not be modified.
type Event struct {
	Domain     string // the sending domain
	Time       int64  // microseconds since the Unix epoch
	Type       string
	ID         string
	Recipient  string
	MessageID  string
	Severity   string
	StorageKey string
	StorageURL string
	// EventsJSON is the item as the Events API returns it; LogsJSON as the
	// Logs API does, or nil when the event is left out of the Logs API.
	EventsJSON []byte
	LogsJSON   []byte
	// Added marks events added after the account was built (AddEvent):
	// the server treats them as late.
	Added bool

	seq             uint64
	recipientDomain string
	provider        string
	from, to        string
	subject         string
	list            string
	tags            []string
	attachments     []string
	size            int // -1 when the item has no message size
	code            int
	reason          string // of a failed event
	delayedBounce   bool
}

// When returns the event time.
func (e *Event) When() time.Time { return time.UnixMicro(e.Time).UTC() }

type domainData struct {
	name    string
	idx     int
	events  []Event
	nextSeq uint64
	lists   suppressionLists
}

// NewAccount returns an empty account with the given Logs API account id
// and sending domains, for tests that build an account from raw JSON.
func NewAccount(accountID string, domains []string) (*Account, error) {
	if len(domains) == 0 {
		return nil, errors.New("new account: no sending domains")
	}
	a := &Account{
		accountID: accountID,
		byName:    make(map[string]*domainData),
		stored:    make(map[string]*storedMessage),
		created:   time.Date(2024, 1, 15, 9, 30, 0, 0, time.UTC),
	}
	for i, name := range domains {
		name = strings.ToLower(strings.TrimSpace(name))
		if name == "" || a.byName[name] != nil {
			return nil, fmt.Errorf("new account: sending domain %q empty or listed twice", name)
		}
		d := &domainData{name: name, idx: i}
		a.domains = append(a.domains, d)
		a.byName[name] = d
	}
	return a, nil
}

// FromSynth generates the account cfg describes and loads it: every event
// rendered in both shapes, and the suppression lists at the end of the
// range. It also returns synth's result (stories, counts).
func FromSynth(ctx context.Context, cfg synth.Config) (*Account, *synth.Result, error) {
	// The Logs shape needs the account id, which synth derives and reports
	// only at the end: keep the events until then.
	var evs []*synth.Event
	res, err := synth.Generate(ctx, cfg, func(e *synth.Event) error {
		evs = append(evs, e)
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("generate account: %w", err)
	}
	a, err := NewAccount(res.AccountID, res.SendingDomains)
	if err != nil {
		return nil, nil, err
	}
	// Domains were set up some months before the range, as a real account's.
	a.created = res.Start.AddDate(0, -7, 0).Truncate(time.Second)
	var ev, lg []byte
	for i, e := range evs {
		if i&1023 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, nil, err
			}
		}
		ev = e.AppendEventsJSON(ev[:0])
		lg = e.AppendLogsJSON(lg[:0], res.AccountID)
		if err := a.add(e.SendingDomain(), ev, lg, false); err != nil {
			return nil, nil, fmt.Errorf("load event %s: %w", e.ID, err)
		}
		evs[i] = nil
	}
	for name, s := range res.Suppressions {
		d := a.byName[name]
		for _, b := range s.Bounces {
			d.lists.bounces.put(b.Address, b)
		}
		for _, u := range s.Unsubscribes {
			d.lists.unsubs.put(u.Address, u)
		}
		for _, c := range s.Complaints {
			d.lists.complaints.put(c.Address, c)
		}
		for _, w := range s.Allowlist {
			d.lists.allow.put(w.Value, w)
		}
	}
	return a, res, nil
}

// AccountID returns the Logs API account id.
func (a *Account) AccountID() string { return a.accountID }

// Domains returns the sending domains in their configured order.
func (a *Account) Domains() []string {
	out := make([]string, len(a.domains))
	for i, d := range a.domains {
		out[i] = d.name
	}
	return out
}

// HasDomain reports whether name is one of the account's sending domains.
func (a *Account) HasDomain(name string) bool { return a.byName[strings.ToLower(name)] != nil }

// Events returns a snapshot of domain's events in time order, visible or
// not.
func (a *Account) Events(domain string) []Event {
	a.mu.RLock()
	defer a.mu.RUnlock()
	d := a.byName[strings.ToLower(domain)]
	if d == nil {
		return nil
	}
	return append([]Event(nil), d.events...)
}

// AddEvent adds an event to domain: eventsJSON is its Events API item and
// logsJSON its Logs API item (nil leaves it out of the Logs API). Added
// events are late: the server shows them once its clock passes their time
// plus Options.LateDelay.
func (a *Account) AddEvent(domain string, eventsJSON, logsJSON []byte) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.add(domain, eventsJSON, logsJSON, true)
}

// AddSynthEvent renders a generated event in both shapes and adds it to its
// sending domain, as AddEvent does.
func (a *Account) AddSynthEvent(e *synth.Event) error {
	return a.AddEvent(e.SendingDomain(), e.AppendEventsJSON(nil), e.AppendLogsJSON(nil, a.accountID))
}

// add decodes and stores one event; callers hold the write lock (or own
// the account, while loading).
func (a *Account) add(domain string, eventsJSON, logsJSON []byte, added bool) error {
	d := a.byName[strings.ToLower(domain)]
	if d == nil {
		return fmt.Errorf("add event: sending domain %q: %w", domain, ErrUnknownDomain)
	}
	ev := a.arena.copy(eventsJSON)
	f, err := decodeFields(ev)
	if err != nil {
		return fmt.Errorf("add event: %w", err)
	}
	if f.Event == "" {
		return errors.New("add event: item has no event type")
	}
	t, err := f.micros()
	if err != nil {
		return fmt.Errorf("add event: %w", err)
	}
	var lg []byte
	if logsJSON != nil {
		// synth's own items are known to be valid; a caller's are checked.
		if added && !json.Valid(logsJSON) {
			return errors.New("add event: the logs item is not valid JSON")
		}
		lg = a.arena.copy(logsJSON)
	}
	e := Event{
		Domain: d.name, Time: t, Type: f.Event, ID: f.ID, Recipient: f.Recipient,
		MessageID: strings.Trim(f.Message.Headers.MessageID, "<>"), Severity: f.Severity,
		StorageKey: f.Storage.Key, StorageURL: f.Storage.URL,
		EventsJSON: ev, LogsJSON: lg, Added: added,
		seq: d.nextSeq, recipientDomain: f.RecipientDomain, provider: f.Provider,
		from: f.Message.Headers.From, to: f.Message.Headers.To, subject: f.Message.Headers.Subject,
		list: f.MailingList.Address, tags: f.Tags, size: -1, code: f.DeliveryStatus.Code,
		reason: f.Reason, delayedBounce: f.Flags.DelayedBounce,
	}
	if f.Message.Size != nil {
		e.size = *f.Message.Size
	}
	for _, at := range f.Message.Attachments {
		e.attachments = append(e.attachments, at.Filename)
	}
	d.nextSeq++
	// Events mostly arrive in time order: append, else insert after every
	// event of the same time (the sequence number orders those).
	if n := len(d.events); n == 0 || d.events[n-1].Time <= t {
		d.events = append(d.events, e)
	} else {
		i := sort.Search(n, func(i int) bool { return d.events[i].Time > t })
		d.events = append(d.events, Event{})
		copy(d.events[i+1:], d.events[i:])
		d.events[i] = e
	}
	if e.StorageKey != "" {
		a.noteStored(d.name, &e, f)
	}
	return nil
}

// noteStored records the message behind a storage key the first time an
// event names it, and the origin of its URL.
func (a *Account) noteStored(domain string, e *Event, f *itemFields) {
	if u, err := url.Parse(e.StorageURL); err == nil && u.Host != "" {
		origin := u.Scheme + "://" + u.Host
		known := false
		for _, o := range a.origins {
			known = known || o == origin
		}
		if !known {
			a.origins = append(a.origins, origin)
		}
	}
	if m := a.stored[e.StorageKey]; m != nil {
		if e.Time < m.at {
			m.at = e.Time
		}
		return
	}
	m := &storedMessage{
		domain: domain, key: e.StorageKey, at: e.Time, messageID: e.MessageID,
		from: e.from, to: e.to, subject: e.subject, sender: f.Envelope.Sender,
		recipients: f.Message.Recipients, tags: e.tags, size: e.size,
	}
	if len(m.recipients) == 0 && e.Recipient != "" {
		m.recipients = []string{e.Recipient}
	}
	for _, at := range f.Message.Attachments {
		m.attachments = append(m.attachments, storedAttachment{at.Filename, at.ContentType, at.Size})
	}
	a.stored[e.StorageKey] = m
}

// domain returns the named domain's data, or nil.
func (a *Account) domain(name string) *domainData { return a.byName[strings.ToLower(name)] }

// ErrUnknownDomain is returned for a sending domain the account does not have.
var ErrUnknownDomain = errors.New("not a sending domain of the account")
