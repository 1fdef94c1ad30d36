package analyze

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/index"
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
	// Parse normalises an event's original JSON (ingest.ParseEvent); the
	// details of events that are not failures come from it.
	Parse func(raw []byte) (maildiag.Event, error)
}

// retryWindow is how long Mailgun retries temporary failures.
const retryWindow = maildiag.RetryWindow

// linkLifetime is how long a confirmation or password-reset link lasts.
const linkLifetime = 24 * time.Hour

// Trace follows an address (or a message-id) through the index: its
// messages with every event, its suppressions, and one verdict with the
// next step.
func Trace(ctx context.Context, db *index.DB, query string, o TraceOptions) (*TraceResult, error) {
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	q := strings.TrimSpace(query)
	res := &TraceResult{Query: query, Messages: []TracedMessage{}, Suppressions: []SuppressedAddress{}}
	st, err := db.Span(ctx)
	if err != nil {
		return nil, err
	}
	res.IndexFrom, res.IndexTo = usTime(st.FirstUS), usTime(st.LastUS)
	names, err := db.SendingDomains(ctx)
	if err != nil {
		return nil, err
	}
	addr := strings.ToLower(strings.Trim(q, "<>"))
	rcpt, err := db.FindRecipient(ctx, addr)
	if err != nil {
		return nil, err
	}
	var rcpts []int64
	var onlyMessage int64
	switch {
	case rcpt != 0:
		res.Address = addr
		rcpts = []int64{rcpt}
	default:
		mid := strings.Trim(q, "<>")
		mk := maildiag.MessageKey(mid)
		if rcpts, err = db.RecipientsOfMessage(ctx, mk); err != nil {
			return nil, err
		}
		if len(rcpts) > 0 {
			res.MessageID, onlyMessage = mid, mk
		} else if strings.Count(addr, "@") == 1 && !strings.Contains(addr, " ") {
			res.Address = addr
		}
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
	if res.Address != "" {
		p := Pattern{Local: "", Domain: maildiag.DomainOf(res.Address)}
		p.Local, _, _ = strings.Cut(res.Address, "@")
		if p.Domain != "" {
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
	}
	evs, err := db.EventsOf(ctx, rcpts, nil)
	if err != nil {
		return nil, err
	}
	if onlyMessage != 0 {
		evs = slices.DeleteFunc(evs, func(e index.EventRow) bool { return e.MessageKey != onlyMessage })
	}
	if err := traceMessages(ctx, db, res, evs, names, o); err != nil {
		return nil, err
	}
	if supp != nil {
		s := <-supp
		if s.err != nil {
			return nil, s.err
		}
		res.Suppressions = s.addrs
	}
	if err := traceVerdict(ctx, db, res, names, o.Now); err != nil {
		return nil, err
	}
	return res, nil
}

// traceMessages groups the events into messages and reads their details.
func traceMessages(ctx context.Context, db *index.DB, res *TraceResult, evs []index.EventRow, names map[int64]index.Domain, o TraceOptions) error {
	if len(evs) == 0 {
		return nil
	}
	// The original JSON is read (a block decompressed each) only where the
	// index lacks what a trace shows: accepted and delivered events, and
	// failures of messages known by nothing else (for their message-id).
	// Failures come from their table, engagement events need no more.
	rcptIDs := map[int64]bool{}
	known := map[[2]int64]bool{}
	for _, e := range evs {
		rcptIDs[e.RecipientID] = true
		if e.Type == maildiag.Accepted || e.Type == maildiag.Delivered {
			known[[2]int64{e.MessageKey, e.RecipientID}] = true
		}
	}
	var seqs []int64
	for _, e := range evs {
		switch e.Type {
		case maildiag.Accepted, maildiag.Delivered:
		case maildiag.Failed, maildiag.Rejected:
			if known[[2]int64{e.MessageKey, e.RecipientID}] && e.MessageKey != 0 {
				continue
			}
		case maildiag.Opened, maildiag.Clicked, maildiag.Unsubscribed, maildiag.Complained:
			continue
		}
		seqs = append(seqs, e.Seq)
	}
	raws, err := db.RawEvents(ctx, seqs)
	if err != nil {
		return err
	}
	addrs, err := db.Addresses(ctx, mapKeys(rcptIDs))
	if err != nil {
		return err
	}
	// Classes as stored (derived at ingest with the same rules), and the
	// gateway of each recipient domain.
	var keys []index.FailureKey
	for _, e := range evs {
		if e.Type == maildiag.Failed || e.Type == maildiag.Rejected {
			keys = append(keys, index.FailureKey{Day: e.Day, RecipientID: e.RecipientID, IDHash: e.IDHash})
		}
	}
	stored, err := db.FailureDetails(ctx, keys)
	if err != nil {
		return err
	}
	gateways := map[int64]string{}
	for id := range rcptIDs {
		d := index.DomainOfRecipient(id)
		if _, ok := gateways[d]; !ok {
			ds, err := db.MatchDomains(ctx, maildiag.DomainOf(addrs[id]))
			if err != nil {
				return err
			}
			gateways[d] = ""
			if len(ds) == 1 {
				gateways[d] = ds[0].Gateway
			}
		}
	}
	type mkey struct{ mk, rcpt int64 }
	byMsg := map[mkey]*TracedMessage{}
	var order []mkey
	for _, e := range evs {
		k := mkey{e.MessageKey, e.RecipientID}
		if e.MessageKey == 0 {
			k.mk = -e.Seq // an event without a message-id stands alone
		}
		m := byMsg[k]
		if m == nil {
			m = &TracedMessage{Recipient: addrs[e.RecipientID], SendingDomain: names[e.SendingDomainID].Name, Events: []TracedEvent{}}
			byMsg[k] = m
			order = append(order, k)
		}
		te := TracedEvent{Time: usTime(e.TS), Type: e.Type}
		if f := stored[index.FailureKey{Day: e.Day, RecipientID: e.RecipientID, IDHash: e.IDHash}]; f != nil {
			te = tracedFailure(f)
			if m.Subject == "" {
				m.Subject, m.From = f.Subject, f.From
			}
		}
		if raw, ok := raws[e.Seq]; ok && o.Parse != nil {
			if ev, err := o.Parse(raw); err == nil {
				ev.Gateway = gateways[index.DomainOfRecipient(e.RecipientID)]
				if f := stored[index.FailureKey{Day: e.Day, RecipientID: e.RecipientID, IDHash: e.IDHash}]; f != nil {
					ev.Class, ev.Rule, ev.Gateway = f.Class, f.Rule, f.Gateway
				}
				te = tracedEvent(&ev)
				if m.MessageID == "" {
					m.MessageID = ev.MessageID
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
			}
		}
		m.Events = append(m.Events, te)
	}
	for _, k := range order {
		m := byMsg[k]
		decide(m, o.Now)
		res.Messages = append(res.Messages, *m)
	}
	sort.SliceStable(res.Messages, func(i, j int) bool { return msgTime(&res.Messages[i]).Before(msgTime(&res.Messages[j])) })
	return nil
}

func msgTime(m *TracedMessage) time.Time {
	if !m.Accepted.IsZero() {
		return m.Accepted
	}
	return m.Events[0].Time
}

func tracedFailure(f *index.FailureRow) TracedEvent {
	return TracedEvent{Time: usTime(f.TS), Type: f.Type, ID: f.EventID, Severity: f.Severity, Reason: f.Reason, Code: f.Code,
		Enhanced: f.Enhanced, Reply: f.Reply, Description: f.Description, MXHost: f.MXHost, Attempt: f.Attempt,
		RetryAfter: f.RetrySeconds, Class: f.Class, Rule: f.Rule, Gateway: f.Gateway}
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

// transactional tells whether a message carries a link that expires: a
// confirmation, verification, password reset or sign-in link.
func transactional(m *TracedMessage) bool {
	text := strings.ToLower(m.Subject + " " + strings.Join(m.Tags, " "))
	for _, w := range []string{"confirm", "verif", "password", "reset", "activate", "sign in", "sign-in", "signin", "log in", "login", "magic link", "one-time", "otp", "code"} {
		if strings.Contains(text, w) {
			return true
		}
	}
	return false
}

// traceVerdict decides the one answer.
func traceVerdict(ctx context.Context, db *index.DB, res *TraceResult, names map[int64]index.Domain, now time.Time) error {
	v := &res.Verdict
	v.Evidence = []string{}
	who := res.Address
	if who == "" {
		who = res.Query
	}
	if len(res.Messages) == 0 {
		if res.MessageID == "" && res.Address == "" {
			v.Kind = TraceNoSuchMessage
			v.Summary = fmt.Sprintf("No address or message-id %q in the index.", res.Query)
		} else {
			v.Kind = TraceNotFound
			v.Summary = fmt.Sprintf("No events for %s in the index.", who)
		}
		v.NextStep = "Check the address for typos. The index covers " + coverage(res) +
			"; for older mail, Mailgun's own logs are gone after its retention: run maildiag sync regularly to keep them."
		if d := maildiag.DomainOf(res.Address); d != "" {
			if t := TypoOf(d, nil); t != "" {
				res.TypoOf = t
				v.Summary += fmt.Sprintf(" %s looks like a typo of %s.", d, t)
				v.NextStep = fmt.Sprintf("Ask them for the right address: %s is probably %s. ", d, t) + v.NextStep
			}
		}
		if len(res.Suppressions) > 0 {
			return suppressedVerdict(res, &res.Suppressions[0])
		}
		return nil
	}
	last := &res.Messages[len(res.Messages)-1]
	// A complaint outweighs everything: the person said it is spam.
	for i := range res.Messages {
		for _, e := range res.Messages[i].Events {
			if e.Type == maildiag.Complained {
				v.Kind = TraceComplained
				v.Summary = fmt.Sprintf("%s marked our mail from %s as spam on %s.", who, res.Messages[i].SendingDomain, fmtTime(e.Time))
				v.NextStep = "Do not remove the complaint suppression without the person's explicit consent; if they want the mail, ask them to confirm in writing, then remove it."
				v.Evidence = append(v.Evidence, msgLine(&res.Messages[i]))
				return nil
			}
		}
	}
	if last.State == MsgDropped || last.State != MsgDelivered && activeSuppression(res) != nil {
		if s := activeSuppression(res); s != nil {
			if s.Cause != nil {
				cause := &TracedEvent{Time: s.Cause.Time, Code: s.Cause.Code, Enhanced: s.Cause.Enhanced, Reply: s.Cause.Reply,
					MXHost: s.Cause.MXHost, Class: s.Cause.Class}
				if ok, err := addressAdvice(ctx, db, res, last, s.Cause.Class, cause, names); ok || err != nil {
					res.Verdict.Summary += fmt.Sprintf(" It is on the bounce list of %s since %s.", s.SendingDomain, fmtTime(s.Since))
					res.Verdict.NextStep += " Do not remove the suppression of the wrong address."
					return err
				}
			}
			return suppressedVerdict(res, s)
		}
	}
	f := last.Final
	switch last.State {
	case MsgDelivered:
		mx := f.MXHost
		if mx == "" {
			mx = "their mail server"
		}
		gw := ""
		if f.Gateway != "" {
			gw = " (" + f.Gateway + ")"
		}
		if transactional(last) && now.Sub(f.Time) > linkLifetime {
			v.Kind = TraceLinkExpired
			v.Summary = fmt.Sprintf("%q was delivered to %s with %d at %s, %s ago: a link in it has most likely expired.",
				last.Subject, mx, f.Code, fmtTime(f.Time), humanDuration(now.Sub(f.Time)))
			v.NextStep = "Send a new one; if it does not arrive either, ask them to look in spam and quarantine."
		} else {
			v.Kind = TraceDelivered
			v.Summary = fmt.Sprintf("Delivered with %d at %s: %s%s accepted it.", f.Code, fmtTime(f.Time), mx, gw)
			v.NextStep = "The receiving server has it: ask them to look in spam, junk and quarantine" + quarantineHint(f.Gateway) +
				", and to allowlist the sender " + addressOf(last.From) + "."
		}
		if !last.Opened.IsZero() {
			v.Evidence = append(v.Evidence, "opened at "+fmtTime(last.Opened))
		}
		if f.Reply != "" {
			v.Evidence = append(v.Evidence, "reply: "+oneLine(f.Reply))
		}
	case MsgRetrying:
		until := last.Accepted.Add(retryWindow)
		v.Kind = TraceRetrying
		v.Summary = fmt.Sprintf("Deferred: %s answered %d %s at %s; Mailgun keeps retrying for up to 8 hours.",
			orServer(f.MXHost), f.Code, f.Enhanced, fmtTime(f.Time))
		v.NextStep = "Wait: Mailgun retries until " + fmtTime(until) + ". " + actionOf(f.Class)
		v.Evidence = append(v.Evidence, "reply: "+oneLine(f.Reply))
	case MsgExpired:
		if d := lastDeferral(last); d != nil {
			if ok, err := addressAdvice(ctx, db, res, last, d.Class, d, names); ok || err != nil {
				return err
			}
		}
		if ok, err := addressAdvice(ctx, db, res, last, f.Class, f, names); ok || err != nil {
			return err
		}
		v.Kind = TraceExpired
		v.Summary = fmt.Sprintf("Dropped as too old: Mailgun gave up after 8 hours of temporary failures (%s).", lastReply(last))
		v.NextStep = "Fix what the deferrals say, then resend. " + actionOf(deferralClass(last))
	case MsgFailed:
		return failedVerdict(ctx, db, res, last, names)
	case MsgRejected:
		v.Kind = TraceRejected
		v.Summary = fmt.Sprintf("Mailgun rejected the message before sending: %s %s.", f.Reason, f.Description)
		v.NextStep = "Fix the sending request (see the reason), then send again."
	case MsgStuck:
		v.Kind = TraceStuck
		v.Summary = fmt.Sprintf("Accepted at %s, with no final event since.", fmtTime(last.Accepted))
		v.NextStep = "The index may miss its final event: run maildiag sync, then trace again; if it stays so, ask Mailgun support about message " + last.MessageID + "."
	default:
		v.Kind = TraceAcceptedOnly
		v.Summary = fmt.Sprintf("Accepted at %s; no delivery attempt recorded yet.", fmtTime(last.Accepted))
		v.NextStep = "Wait a few minutes and sync again."
	}
	v.Evidence = append([]string{msgLine(last)}, v.Evidence...)
	return nil
}

func failedVerdict(ctx context.Context, db *index.DB, res *TraceResult, last *TracedMessage, names map[int64]index.Domain) error {
	v, f := &res.Verdict, last.Final
	if ok, err := addressAdvice(ctx, db, res, last, f.Class, f, names); ok || err != nil {
		return err
	}
	info, _ := maildiag.ClassOf(classOrOther(f.Class))
	v.Evidence = append(v.Evidence, msgLine(last), "reply: "+oneLine(f.Reply))
	v.Kind = TraceFailed
	v.Summary = fmt.Sprintf("Failed permanently: %s (%d %s from %s).", info.Title, f.Code, f.Enhanced, orServer(f.MXHost))
	v.NextStep = info.Action
	return nil
}

// addressAdvice gives the verdict when the address itself is wrong: it
// does not exist (and a near-identical one at the same domain receives our
// mail), or its domain has no mail server and looks like a typo. It tells
// whether it gave one.
func addressAdvice(ctx context.Context, db *index.DB, res *TraceResult, last *TracedMessage, class string, f *TracedEvent, names map[int64]index.Domain) (bool, error) {
	v := &res.Verdict
	domain := maildiag.DomainOf(last.Recipient)
	switch class {
	case maildiag.ClassUserUnknown, maildiag.ClassMailboxDisabled:
		looks, err := deliveredLookalikes(ctx, db, last.Recipient)
		if err != nil {
			return false, err
		}
		res.Lookalikes = looks
		v.Kind = TraceUserUnknown
		v.Summary = fmt.Sprintf("Bounced: %s answered that %s does not exist (%d %s).", orServer(f.MXHost), last.Recipient, f.Code, f.Enhanced)
		v.NextStep = "Ask them for the right address."
		if len(looks) > 0 {
			l := looks[0]
			v.Summary += fmt.Sprintf(" %s (%s) did receive our mail, last on %s.", l.Address, editWords(l.Distance), fmtTime(l.LastDelivered))
			v.NextStep = fmt.Sprintf("Ask which address they signed up with: probably %s, not %s.", l.Address, last.Recipient)
		}
	case maildiag.ClassDomainNotFound:
		known, err := typoTargets(ctx, db)
		if err != nil {
			return false, err
		}
		t := TypoOf(domain, known)
		if t == "" {
			return false, nil
		}
		res.TypoOf = t
		v.Kind = TraceTypoDomain
		v.Summary = fmt.Sprintf("%s has no mail server (%d %s): it looks like a typo of %s.", domain, f.Code, firstLine(f.Reply), t)
		v.NextStep = fmt.Sprintf("Ask them to correct the address to %s@%s, then send again.", localOf(last.Recipient), t)
	default:
		return false, nil
	}
	v.Evidence = append(v.Evidence, msgLine(last), "reply: "+oneLine(f.Reply))
	return true, nil
}

// activeSuppression is a suppression that blocks mail to the address now.
func activeSuppression(res *TraceResult) *SuppressedAddress {
	for i := range res.Suppressions {
		s := &res.Suppressions[i]
		if s.State != StateRemoved && s.List != maildiag.ListAllowlist {
			return s
		}
	}
	return nil
}

func suppressedVerdict(res *TraceResult, s *SuppressedAddress) error {
	v := &res.Verdict
	switch s.List {
	case maildiag.ListComplaints:
		v.Kind = TraceComplained
		v.Summary = fmt.Sprintf("%s is on the complaints list of %s since %s: they marked our mail as spam.", s.Address, s.SendingDomain, fmtTime(s.Since))
		v.NextStep = "Do not remove it without the person's explicit consent."
	case maildiag.ListUnsubscribes:
		v.Kind = TraceUnsubscribed
		v.Summary = fmt.Sprintf("%s unsubscribed from %s on %s; Mailgun drops our mail to it.", s.Address, s.SendingDomain, fmtTime(s.Since))
		v.NextStep = "Only they can opt in again: if they ask for the mail, remove the unsubscribe with their consent, then resend."
	default:
		v.Kind = TraceSuppressed
		why := s.ListError
		if s.Cause != nil {
			why = fmt.Sprintf("%d %s from %s: %s", s.Cause.Code, s.Cause.Enhanced, orServer(s.Cause.MXHost), oneLine(s.Cause.Reply))
		}
		v.Summary = fmt.Sprintf("%s is on the bounce list of %s since %s (%s); Mailgun drops our mail to it without trying.",
			s.Address, s.SendingDomain, fmtTime(s.Since), why)
		v.NextStep = fmt.Sprintf("If the cause is fixed, remove the suppression (maildiag suppressions remove %s --list bounces --sending-domain %s --yes), then resend.",
			s.Address, s.SendingDomain)
		if s.Cause != nil && addressLevel[s.Cause.Class] {
			v.NextStep = "The address itself bounced: confirm it with the person before removing the suppression. " + v.NextStep
		}
	}
	if s.Drops > 0 {
		v.Evidence = append(v.Evidence, fmt.Sprintf("%s dropped since, the last on %s", plural(s.Drops, "later message"), fmtTime(s.LastDrop)))
	}
	v.Evidence = append(v.Evidence, s.StateNote)
	return nil
}

// maxTraceLookalikeDomain is the most addresses a domain may have for a
// trace to look for near-identical ones: at consumer domains they are
// usually other people.
const maxTraceLookalikeDomain = 50_000

// deliveredLookalikes finds addresses at the same domain, near-identical to
// addr, that received mail.
func deliveredLookalikes(ctx context.Context, db *index.DB, addr string) ([]DeliveredLookalike, error) {
	local, domain, _ := strings.Cut(addr, "@")
	doms, err := db.MatchDomains(ctx, domain)
	if err != nil || len(doms) == 0 || doms[0].Recipients > maxTraceLookalikeDomain {
		return nil, err
	}
	rs, err := db.RecipientsOf(ctx, doms[0].ID, "")
	if err != nil {
		return nil, err
	}
	cand := map[int64]Lookalike{}
	for _, h := range newLookalikes(rs).of(local, false) {
		cand[h.r.ID] = Lookalike{Address: h.r.Address, Distance: h.edits}
	}
	if len(cand) == 0 {
		return nil, nil
	}
	evs, err := db.EventsOf(ctx, mapKeys(cand), nil)
	if err != nil {
		return nil, err
	}
	got := map[int64]*DeliveredLookalike{}
	for _, e := range evs {
		if e.Type != maildiag.Delivered {
			continue
		}
		g := got[e.RecipientID]
		if g == nil {
			g = &DeliveredLookalike{Lookalike: cand[e.RecipientID]}
			got[e.RecipientID] = g
		}
		g.Deliveries++
		g.LastDelivered = usTime(e.TS)
	}
	var out []DeliveredLookalike
	for _, g := range got {
		out = append(out, *g)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Distance != out[j].Distance {
			return out[i].Distance < out[j].Distance
		}
		return out[i].Deliveries > out[j].Deliveries
	})
	return out, nil
}

// typoCandidates is how many of the largest domains in the index a typo
// domain is compared with, beside the common mailbox domains.
const typoCandidates = 300

// typoTargets are the recipient domains a typo is checked against besides
// the common mailbox domains: the largest in the index that receive mail.
func typoTargets(ctx context.Context, db *index.DB) ([]string, error) {
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

func coverage(res *TraceResult) string {
	if res.IndexFrom.IsZero() {
		return "nothing yet (the index is empty)"
	}
	return fmtTime(res.IndexFrom) + " to " + fmtTime(res.IndexTo)
}

func msgLine(m *TracedMessage) string {
	s := fmt.Sprintf("message %s", m.MessageID)
	if m.Subject != "" {
		s += fmt.Sprintf(" %q", m.Subject)
	}
	if m.SendingDomain != "" {
		s += " from " + m.SendingDomain
	}
	if !m.Accepted.IsZero() {
		s += ", accepted " + fmtTime(m.Accepted)
	}
	return s
}

func lastReply(m *TracedMessage) string {
	for i := len(m.Events) - 1; i >= 0; i-- {
		e := m.Events[i]
		if e.Type == maildiag.Failed && e.Reason != maildiag.ReasonOld && e.Reply != "" {
			return fmt.Sprintf("the last: %d %s", e.Code, oneLine(e.Reply))
		}
	}
	return "no reply recorded"
}

// lastDeferral is the last temporary failure of a message, the one whose
// cause a final "too old" hides.
func lastDeferral(m *TracedMessage) *TracedEvent {
	for i := len(m.Events) - 1; i >= 0; i-- {
		e := &m.Events[i]
		if e.Type == maildiag.Failed && e.Severity == maildiag.SeverityTemporary && e.Class != "" && e.Class != maildiag.ClassExpired {
			return e
		}
	}
	return nil
}

func deferralClass(m *TracedMessage) string {
	if d := lastDeferral(m); d != nil {
		return d.Class
	}
	return ""
}

func actionOf(class string) string {
	if class == "" {
		return ""
	}
	info, _ := maildiag.ClassOf(class)
	return info.Action
}

func orServer(mx string) string {
	if mx == "" {
		return "the receiving server"
	}
	return mx
}

func quarantineHint(gateway string) string {
	switch gateway {
	case "Microsoft 365":
		return " (Microsoft 365 quarantine: ask their admin)"
	case "Mimecast", "Proofpoint", "Barracuda", "Cisco":
		return " (their " + gateway + " quarantine: ask their admin)"
	}
	return ""
}

func addressOf(from string) string {
	if i := strings.LastIndexByte(from, '<'); i >= 0 {
		return strings.TrimSuffix(from[i+1:], ">")
	}
	if from == "" {
		return "address"
	}
	return from
}

func localOf(addr string) string {
	l, _, _ := strings.Cut(addr, "@")
	return l
}

func editWords(d int) string {
	if d == 1 {
		return "one edit apart"
	}
	return plural(d, "edit") + " apart"
}
