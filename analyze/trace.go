package analyze

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/maildiag/maildiag"
)

// TracedEvent is one event of a traced message.
type TracedEvent struct {
	Time        time.Time `json:"time"`
	Type        string    `json:"type"`
	ID          string    `json:"id,omitempty"`
	Severity    string    `json:"severity,omitempty"`
	Reason      string    `json:"reason,omitempty"`
	Code        int       `json:"code,omitempty"`
	Enhanced    string    `json:"enhanced_code,omitempty"`
	Reply       string    `json:"reply,omitempty"`
	Description string    `json:"description,omitempty"`
	MXHost      string    `json:"mx_host,omitempty"`
	Attempt     int       `json:"attempt,omitempty"`
	RetryAfter  int       `json:"retry_seconds,omitempty"`
	Class       string    `json:"class,omitempty"`
	Rule        string    `json:"rule,omitempty"`
	Gateway     string    `json:"gateway,omitempty"`
	StorageURL  string    `json:"storage_url,omitempty"`
}

// Message states in a trace.
const (
	MsgDelivered = "delivered"
	MsgFailed    = "failed"
	MsgDropped   = "dropped"  // suppressed: no attempt made
	MsgExpired   = "expired"  // too old after retries
	MsgRetrying  = "retrying" // temporary failures, still within the retry window
	MsgStuck     = "stuck"    // no final event long after it was accepted
	MsgAccepted  = "accepted" // accepted, nothing since (recently)
	MsgRejected  = "rejected"
)

// TracedMessage is one message to the traced recipient.
type TracedMessage struct {
	MessageID     string        `json:"message_id,omitempty"`
	Recipient     string        `json:"recipient"`
	SendingDomain string        `json:"sending_domain,omitempty"`
	Subject       string        `json:"subject,omitempty"`
	From          string        `json:"from,omitempty"`
	Tags          []string      `json:"tags,omitempty"`
	State         string        `json:"state"`
	Accepted      time.Time     `json:"accepted,omitzero"`
	Final         *TracedEvent  `json:"final,omitempty"` // the event that decided State
	Opened        time.Time     `json:"opened,omitzero"`
	Events        []TracedEvent `json:"events"`
}

// Verdict kinds of a trace.
const (
	TraceNotFound      = "not-found"
	TraceComplained    = "complained"
	TraceSuppressed    = "suppressed"
	TraceUnsubscribed  = "unsubscribed"
	TraceDelivered     = "delivered"
	TraceLinkExpired   = "link-expired"
	TraceRetrying      = "retrying"
	TraceExpired       = "expired"
	TraceUserUnknown   = "user-unknown"
	TraceTypoDomain    = "typo-domain"
	TraceFailed        = "failed"
	TraceRejected      = "rejected"
	TraceStuck         = "stuck"
	TraceAcceptedOnly  = "accepted"
	TraceNoSuchMessage = "message-not-found"
)

// TraceVerdict is the one answer of a trace, with the next step.
type TraceVerdict struct {
	Kind     string   `json:"kind"`
	Summary  string   `json:"summary"`
	NextStep string   `json:"next_step"`
	Evidence []string `json:"evidence"`
}

// Delivered lookalike: another address at the same domain that received mail.
type DeliveredLookalike struct {
	Lookalike
	Deliveries    int       `json:"deliveries"`
	LastDelivered time.Time `json:"last_delivered"`
}

// TraceResult is the answer to "why did this person not get our email".
type TraceResult struct {
	Query        string               `json:"query"`
	Address      string               `json:"address,omitempty"`
	MessageID    string               `json:"message_id,omitempty"`
	IndexFrom    time.Time            `json:"index_from,omitzero"`
	IndexTo      time.Time            `json:"index_to,omitzero"`
	Messages     []TracedMessage      `json:"messages"`
	Suppressions []SuppressedAddress  `json:"suppressions"`
	Lookalikes   []DeliveredLookalike `json:"lookalikes,omitempty"`
	TypoOf       string               `json:"typo_of,omitempty"`
	Verdict      TraceVerdict         `json:"verdict"`
}

// TraceOptions configure a trace.
type TraceOptions struct {
	Now time.Time
}

// retryWindow is how long Mailgun retries temporary failures.
const retryWindow = maildiag.RetryWindow

// linkLifetime is how long a confirmation or password-reset link lasts.
const linkLifetime = 24 * time.Hour

// Trace follows an address (or a message-id) through a store: its messages
// with every event, its suppressions, and one verdict with the next step.
// It gathers every fact first (traceFacts), then decides (decideTrace).
func Trace(ctx context.Context, db Store, query string, o TraceOptions) (*TraceResult, error) {
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	q := strings.TrimSpace(query)
	res := &TraceResult{Query: query, Messages: []TracedMessage{}, Suppressions: []SuppressedAddress{}}
	span, err := db.Span(ctx)
	if err != nil {
		return nil, err
	}
	res.IndexFrom, res.IndexTo = span.First, span.Last
	addr := strings.ToLower(strings.Trim(q, "<>"))
	rcpt, err := db.FindRecipient(ctx, addr)
	if err != nil {
		return nil, err
	}
	if rcpt != 0 || strings.Count(addr, "@") == 1 && !strings.Contains(addr, " ") {
		res.Address = addr
	}
	// The address's suppressions are read on a connection of their own
	// while the messages are: a trace waits for the slower of the two. An
	// early return stops that read.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type suppressions struct {
		addrs []SuppressedAddress
		err   error
	}
	var supp chan suppressions
	if p, err := ParsePattern(res.Address); res.Address != "" && err == nil && p.Exact() {
		supp = make(chan suppressions, 1)
		go func() {
			sr, err := Suppressed(ctx, db, p, SuppressedOptions{WithRemoved: true})
			if err != nil {
				supp <- suppressions{err: err}
				return
			}
			supp <- suppressions{addrs: sr.Addresses}
		}()
	}
	var evs []maildiag.Event
	if rcpt != 0 {
		evs, err = db.Events(ctx, EventQuery{Addresses: []string{addr}})
	} else if mid := strings.Trim(q, "<>"); mid != "" {
		if evs, err = db.Events(ctx, EventQuery{MessageID: mid}); len(evs) > 0 {
			res.MessageID = mid
			res.Address = ""
		}
	}
	if err != nil {
		return nil, err
	}
	res.Messages = traceMessages(evs, o.Now)
	if supp != nil {
		s := <-supp
		if s.err != nil {
			return nil, s.err
		}
		if res.MessageID == "" {
			res.Suppressions = s.addrs
		}
	}
	f, err := gatherTraceFacts(ctx, db, res, o.Now)
	if err != nil {
		return nil, err
	}
	decideTrace(res, f)
	return res, nil
}

// traceFacts are what a verdict is decided from besides the result's
// messages and suppressions. They are gathered before deciding, and only
// where a verdict may need them, so that deciding does no I/O.
type traceFacts struct {
	now time.Time
	// lookalikes are, for each address that bounced as unknown,
	// near-identical addresses at its domain that received mail.
	lookalikes map[string][]DeliveredLookalike
	// typoTargets are the domains a typo domain is checked against
	// besides the common mailbox domains: the largest that receive mail.
	typoTargets []string
}

// gatherTraceFacts reads the facts a verdict on res may need: lookalikes
// of the addresses that bounced as unknown, and the typo targets when a
// domain has no mail server.
func gatherTraceFacts(ctx context.Context, db Store, res *TraceResult, now time.Time) (*traceFacts, error) {
	f := &traceFacts{now: now, lookalikes: map[string][]DeliveredLookalike{}}
	unknown := map[string]bool{}
	deadDomain := false
	note := func(addr, class string) {
		switch class {
		case maildiag.ClassUserUnknown, maildiag.ClassMailboxDisabled:
			unknown[addr] = true
		case maildiag.ClassDomainNotFound:
			deadDomain = true
		}
	}
	for _, m := range res.Messages {
		for _, e := range m.Events {
			note(m.Recipient, e.Class)
		}
	}
	for _, s := range res.Suppressions {
		if s.Cause != nil {
			note(s.Address, s.Cause.Class)
		}
	}
	for _, a := range slices.Sorted(maps.Keys(unknown)) {
		looks, err := deliveredLookalikes(ctx, db, a)
		if err != nil {
			return nil, err
		}
		f.lookalikes[a] = looks
	}
	if deadDomain {
		var err error
		if f.typoTargets, err = typoTargets(ctx, db); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// traceMessages groups a recipient's events into messages, by message-id
// and recipient (an event without a message-id stands alone), and decides
// each message's state.
func traceMessages(evs []maildiag.Event, now time.Time) []TracedMessage {
	type key struct{ mid, rcpt string }
	byMsg := map[key]*TracedMessage{}
	var order []key
	for i := range evs {
		ev := &evs[i]
		k := key{ev.MessageID, ev.Recipient}
		if ev.MessageID == "" {
			k.mid = fmt.Sprintf("\x00%d", i)
		}
		m := byMsg[k]
		if m == nil {
			m = &TracedMessage{MessageID: ev.MessageID, Recipient: ev.Recipient, SendingDomain: ev.SendingDomain, Events: []TracedEvent{}}
			byMsg[k] = m
			order = append(order, k)
		}
		if m.Subject == "" {
			m.Subject = ev.Subject
		}
		if m.From == "" {
			m.From = ev.From
		}
		if len(m.Tags) == 0 {
			m.Tags = ev.Tags
		}
		m.Events = append(m.Events, tracedEvent(ev))
	}
	out := make([]TracedMessage, 0, len(order))
	for _, k := range order {
		m := byMsg[k]
		decide(m, now)
		out = append(out, *m)
	}
	sort.SliceStable(out, func(i, j int) bool { return msgTime(&out[i]).Before(msgTime(&out[j])) })
	return out
}

func msgTime(m *TracedMessage) time.Time {
	if !m.Accepted.IsZero() {
		return m.Accepted
	}
	return m.Events[0].Time
}

func tracedEvent(ev *maildiag.Event) TracedEvent {
	return TracedEvent{Time: ev.Time(), Type: ev.Type, ID: ev.ID, Severity: ev.Severity, Reason: ev.Reason, Code: ev.Code,
		Enhanced: ev.EnhancedCode, Reply: ev.Reply, Description: ev.Description, MXHost: ev.MXHost, Attempt: ev.Attempt,
		RetryAfter: ev.RetrySeconds, Class: ev.Class, Rule: ev.Rule, Gateway: ev.Gateway, StorageURL: ev.StorageURL}
}

// decide sets a message's state from its events. Delivered wins over
// earlier temporary failures; a later delayed bounce overrides delivered.
func decide(m *TracedMessage, now time.Time) {
	m.State = ""
	var lastTemp *TracedEvent
	for i := range m.Events {
		e := &m.Events[i]
		switch e.Type {
		case maildiag.Accepted:
			if m.Accepted.IsZero() {
				m.Accepted = e.Time
			}
		case maildiag.Rejected:
			m.State, m.Final = MsgRejected, e
		case maildiag.Delivered:
			m.State, m.Final = MsgDelivered, e
		case maildiag.Opened, maildiag.Clicked:
			if m.Opened.IsZero() {
				m.Opened = e.Time
			}
		case maildiag.Failed:
			o := maildiag.OutcomeOf(e.Type, e.Severity, e.Reason, e.Code)
			switch {
			case o == maildiag.OutcomeSuppressed:
				m.State, m.Final = MsgDropped, e
			case e.Reason == maildiag.ReasonOld || e.Class == maildiag.ClassExpired:
				m.State, m.Final = MsgExpired, e
			case o == maildiag.OutcomePermanent:
				m.State, m.Final = MsgFailed, e
			default:
				if m.State == "" || m.State == MsgRetrying {
					lastTemp = e
					m.State = MsgRetrying
				}
			}
		}
	}
	start := m.Accepted
	if start.IsZero() && len(m.Events) > 0 {
		start = m.Events[0].Time
	}
	switch m.State {
	case MsgRetrying:
		m.Final = lastTemp
		if now.Sub(start) > retryWindow+time.Hour {
			m.State = MsgStuck
		}
	case "":
		m.State = MsgAccepted
		if now.Sub(start) > retryWindow+time.Hour {
			m.State = MsgStuck
		}
	}
}

// maxTraceLookalikeDomain is the most addresses a domain may have for a
// trace to look for near-identical ones: at consumer domains they are
// usually other people.
const maxTraceLookalikeDomain = 50_000

// deliveredLookalikes finds addresses at the same domain, near-identical to
// addr, that received mail.
func deliveredLookalikes(ctx context.Context, db Store, addr string) ([]DeliveredLookalike, error) {
	local, domain, _ := strings.Cut(addr, "@")
	doms, err := db.MatchDomains(ctx, domain)
	if err != nil || len(doms) == 0 || doms[0].Recipients > maxTraceLookalikeDomain {
		return nil, err
	}
	rs, err := db.Recipients(ctx, domain, "")
	if err != nil {
		return nil, err
	}
	cand := map[RecipientID]Lookalike{}
	for _, h := range newLookalikes(rs).of(local, false) {
		cand[h.r.ID] = Lookalike{Address: h.r.Address, Distance: h.edits}
	}
	if len(cand) == 0 {
		return nil, nil
	}
	dl, err := db.Deliveries(ctx, sortedKeys(cand))
	if err != nil {
		return nil, err
	}
	var out []DeliveredLookalike
	for id, d := range dl {
		if d.N > 0 {
			out = append(out, DeliveredLookalike{Lookalike: cand[id], Deliveries: d.N, LastDelivered: d.Last})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Distance != out[j].Distance {
			return out[i].Distance < out[j].Distance
		}
		if out[i].Deliveries != out[j].Deliveries {
			return out[i].Deliveries > out[j].Deliveries
		}
		return out[i].Address < out[j].Address
	})
	return out, nil
}

// typoCandidates is how many of the largest domains in the index a typo
// domain is compared with, beside the common mailbox domains.
const typoCandidates = 300

// typoTargets are the recipient domains a typo is checked against besides
// the common mailbox domains: the largest in the index that receive mail.
func typoTargets(ctx context.Context, db DirectoryReader) ([]string, error) {
	largest, err := db.LargestDomains(ctx, typoCandidates)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(largest))
	for _, d := range largest {
		if d.Gateway != "" || d.MXHost != "" {
			out = append(out, d.Name)
		}
	}
	return out, nil
}
