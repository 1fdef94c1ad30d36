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
	SendingIP   string    `json:"sending_ip,omitempty"`
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

// TracedMessage is one message to the traced recipient, with its own
// verdict.
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
	Clicked       time.Time     `json:"clicked,omitzero"`
	Events        []TracedEvent `json:"events"`
	Verdict       TraceVerdict  `json:"verdict"`
}

// Verdict kinds of a trace, of each message and of the whole. They are a
// contract for scripts (the README lists them with their next steps), so
// a kind is never renamed or reused. The whole trace takes the kind of the
// most actionable message or suppression, in this order (Precedence).
const (
	TraceComplained    = "complained"   // the person marked our mail as spam
	TraceSuppressed    = "suppressed"   // on a bounce list: Mailgun drops our mail without trying
	TraceUnsubscribed  = "unsubscribed" // unsubscribed: Mailgun drops our mail
	TraceResend        = "resend"       // dropped while suppressed; the suppression is gone since: resend
	TraceTypoDomain    = "typo-domain"  // the domain has no mail server and looks like a typo
	TraceNoMX          = "no-mx"        // the domain has no mail server: nothing can be delivered
	TraceUserUnknown   = "user-unknown" // the mailbox does not exist
	TraceFailed        = "failed"       // failed permanently for another reason
	TraceExpired       = "expired"      // Mailgun gave up after hours of temporary failures
	TraceLinkExpired   = "link-expired" // delivered, but its link has most likely expired
	TraceRetrying      = "retrying"     // deferred: Mailgun is still retrying
	TraceRejected      = "rejected"     // Mailgun refused the request before sending
	TraceStuck         = "stuck"        // accepted long ago, no final event although syncs read past it
	TraceIncomplete    = "incomplete"   // accepted, and the imported data ends before its final event
	TraceOpened        = "opened"       // delivered and opened or clicked: it reached them
	TraceDelivered     = "delivered"    // delivered with 250: look in spam and quarantine
	TraceAcceptedOnly  = "accepted"     // accepted moments ago: wait
	TraceNotFound      = "not-found"    // no event for the address or message
	TraceNoSuchMessage = "message-not-found"
)

// Precedence orders the verdict kinds, most actionable first: the trace's
// verdict is the first kind any of its messages or suppressions has (the
// newest such message when several have it). A suppression that blocks a
// sending domain outranks an older delivered newsletter; an expired link
// outranks a delivery; a delivery nobody opened outranks an opened one.
var Precedence = []string{
	TraceComplained, TraceSuppressed, TraceUnsubscribed, TraceResend, TraceTypoDomain, TraceNoMX, TraceUserUnknown,
	TraceFailed, TraceExpired, TraceLinkExpired, TraceRetrying, TraceRejected, TraceStuck, TraceIncomplete,
	TraceDelivered, TraceOpened, TraceAcceptedOnly, TraceNotFound, TraceNoSuchMessage,
}

// TraceVerdict is an answer with the next step: of one message, or of the
// whole trace (then MessageID names the message it is about, when one is).
type TraceVerdict struct {
	Kind      string   `json:"kind"`
	Summary   string   `json:"summary"`
	NextStep  string   `json:"next_step"`
	MessageID string   `json:"message_id,omitempty"`
	Evidence  []string `json:"evidence"`
}

// DeliveredLookalike is another address at the same domain that received
// mail.
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
	// Hidden is how many of the address's messages the filters left out.
	Hidden  int          `json:"hidden_messages,omitempty"`
	Verdict TraceVerdict `json:"verdict"`
}

// TraceOptions configure a trace. The filters narrow the messages judged
// (and the suppressions, to the sending domains named); empty ones take
// everything.
type TraceOptions struct {
	Now            time.Time
	Since, Until   time.Time // messages with an event in [Since, Until)
	Subject        string    // subject contains, case-insensitively
	SendingDomains []string
	Tag            string
	EventID        string // the message with this event
	// Location is the time zone of the times in sentences (the JSON's
	// times are UTC); nil is UTC.
	Location *time.Location
}

// retryWindow is how long Mailgun retries temporary failures.
const retryWindow = maildiag.RetryWindow

// linkLifetime is how long a confirmation or password-reset link lasts.
const linkLifetime = 24 * time.Hour

// Trace follows an address (or a message-id) through a store: its messages
// with every event and a verdict each, its suppressions on every sending
// domain and list, and one verdict with the next step. It gathers every
// fact first (traceFacts), then decides (decideTrace).
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
	all := traceMessages(evs, o.Now)
	n := len(all)
	res.Messages = o.keep(all)
	res.Hidden = n - len(res.Messages)
	if supp != nil {
		s := <-supp
		if s.err != nil {
			return nil, s.err
		}
		if res.MessageID == "" {
			res.Suppressions = o.keepSuppressions(s.addrs)
		}
	}
	f, err := gatherTraceFacts(ctx, db, res, o)
	if err != nil {
		return nil, err
	}
	decideTrace(res, f)
	return res, nil
}

// keep is the messages the filters take.
func (o *TraceOptions) keep(ms []TracedMessage) []TracedMessage {
	return slices.DeleteFunc(ms, func(m TracedMessage) bool {
		if len(o.SendingDomains) > 0 && !slices.Contains(o.SendingDomains, m.SendingDomain) ||
			o.Subject != "" && !strings.Contains(strings.ToLower(m.Subject), strings.ToLower(o.Subject)) ||
			o.Tag != "" && !slices.ContainsFunc(m.Tags, func(t string) bool { return strings.EqualFold(t, o.Tag) }) {
			return true
		}
		inRange, hasID := false, o.EventID == ""
		for _, e := range m.Events {
			inRange = inRange || (o.Since.IsZero() || !e.Time.Before(o.Since)) && (o.Until.IsZero() || e.Time.Before(o.Until))
			hasID = hasID || e.ID == o.EventID
		}
		return !inRange || !hasID
	})
}

// keepSuppressions is the suppressions of the sending domains the filters
// name.
func (o *TraceOptions) keepSuppressions(ss []SuppressedAddress) []SuppressedAddress {
	if len(o.SendingDomains) == 0 {
		return ss
	}
	return slices.DeleteFunc(ss, func(s SuppressedAddress) bool { return !slices.Contains(o.SendingDomains, s.SendingDomain) })
}

// traceFacts are what verdicts are decided from besides the result's
// messages and suppressions. They are gathered before deciding, and only
// where a verdict may need them, so that deciding does no I/O.
type traceFacts struct {
	now time.Time
	loc *time.Location
	// lookalikes are, for each address that bounced as unknown or has no
	// events, near-identical addresses at its domain that received mail.
	lookalikes map[string][]DeliveredLookalike
	// typoTargets are the domains a typo domain is checked against
	// besides the common mailbox domains: the largest that receive mail.
	typoTargets []string
	// completeUntil is, per sending domain, the time up to which syncs
	// have read its events completely (zero: never synced, only imported).
	completeUntil map[string]time.Time
}

// gatherTraceFacts reads the facts a verdict on res may need: lookalikes
// of the addresses that bounced as unknown (or that have no events), the
// typo targets when a domain has no mail server, and how far syncs have
// read the sending domains of messages without a final event.
func gatherTraceFacts(ctx context.Context, db Store, res *TraceResult, o TraceOptions) (*traceFacts, error) {
	f := &traceFacts{now: o.Now, loc: o.Location, lookalikes: map[string][]DeliveredLookalike{}, completeUntil: map[string]time.Time{}}
	if f.loc == nil {
		f.loc = time.UTC
	}
	unknown := map[string]bool{}
	absent := len(res.Messages) == 0 && res.Hidden == 0 && res.Address != ""
	deadDomain := absent
	if absent {
		unknown[res.Address] = true
	}
	note := func(addr, class string) {
		switch class {
		case maildiag.ClassUserUnknown, maildiag.ClassMailboxDisabled:
			unknown[addr] = true
		case maildiag.ClassDomainNotFound:
			deadDomain = true
		}
	}
	pendingDomains := map[string]bool{}
	for _, m := range res.Messages {
		for _, e := range m.Events {
			note(m.Recipient, e.Class)
		}
		if m.State == MsgStuck || m.State == MsgAccepted {
			pendingDomains[m.SendingDomain] = true
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
	if absent {
		twins, err := domainTwins(ctx, db, res.Address, f.typoTargets)
		if err != nil {
			return nil, err
		}
		f.lookalikes[res.Address] = append(f.lookalikes[res.Address], twins...)
	}
	for _, sd := range slices.Sorted(maps.Keys(pendingDomains)) {
		t, err := db.CompleteUntil(ctx, sd)
		if err != nil {
			return nil, err
		}
		f.completeUntil[sd] = t
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
		Enhanced: ev.EnhancedCode, Reply: ev.Reply, Description: ev.Description, MXHost: ev.MXHost, SendingIP: ev.SendingIP,
		Attempt: ev.Attempt, RetryAfter: ev.RetrySeconds, Class: ev.Class, Rule: ev.Rule, Gateway: ev.Gateway, StorageURL: ev.StorageURL}
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
		case maildiag.Opened:
			if m.Opened.IsZero() {
				m.Opened = e.Time
			}
		case maildiag.Clicked:
			if m.Clicked.IsZero() {
				m.Clicked = e.Time
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
	out, err := withDeliveries(ctx, db, cand, false)
	if err != nil {
		return nil, err
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

// domainTwins finds the same local part at domains one typo away from the
// address's (gmail.com and gmial.com, either way round) that the index
// has mail to: the person whose address the index does not know may be
// known under a misspelt domain, or have given us one. The domains are
// looked up by name, every one-edit variant of the address's and its
// typo target, not by reading every domain.
func domainTwins(ctx context.Context, db Store, addr string, targets []string) ([]DeliveredLookalike, error) {
	local, domain, _ := strings.Cut(addr, "@")
	if local == "" || domain == "" {
		return nil, nil
	}
	names := oneEdit(domain)
	if t := TypoOf(domain, targets); t != "" {
		names = append(names, t)
	}
	doms, err := db.DomainsNamed(ctx, names)
	if err != nil {
		return nil, err
	}
	cand := map[RecipientID]Lookalike{}
	for _, d := range doms {
		if d.Recipients == 0 {
			continue
		}
		twin := local + "@" + d.Name
		id, err := db.FindRecipient(ctx, twin)
		if err != nil {
			return nil, err
		}
		if id != 0 {
			cand[id] = Lookalike{Address: twin, Distance: editDistance(addr, twin, 10)}
		}
	}
	// A twin that never received mail counts too: the person's address
	// may have been stored with the typo.
	out, err := withDeliveries(ctx, db, cand, true)
	if err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool {
		if (out[i].Deliveries > 0) != (out[j].Deliveries > 0) {
			return out[i].Deliveries > 0
		}
		return out[i].Address < out[j].Address
	})
	return out, nil
}

// withDeliveries reads how often each candidate received mail; those
// that never did are kept only with undelivered.
func withDeliveries(ctx context.Context, db Store, cand map[RecipientID]Lookalike, undelivered bool) ([]DeliveredLookalike, error) {
	if len(cand) == 0 {
		return nil, nil
	}
	dl, err := db.Deliveries(ctx, sortedKeys(cand))
	if err != nil {
		return nil, err
	}
	var out []DeliveredLookalike
	for id, l := range cand {
		if d := dl[id]; d.N > 0 || undelivered {
			out = append(out, DeliveredLookalike{Lookalike: l, Deliveries: d.N, LastDelivered: d.Last})
		}
	}
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
