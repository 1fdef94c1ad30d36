package analyze

import (
	_ "embed"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/maildiag/maildiag"
)

// The verdicts of a trace are decided here from facts gathered before
// (the result's messages and suppressions, and traceFacts): no I/O. Each
// message gets a verdict of its own; the trace's is the most actionable
// of them and of the address's suppressions, by Precedence.

//go:embed expiring.txt
var expiringData string

// expiringPatterns are expiring.txt's patterns: those that tell an
// expiring link, and those (marked !) that tell a message without one.
var expiringPatterns = sync.OnceValues(func() (in, out []string) {
	for _, l := range strings.Split(expiringData, "\n") {
		l = strings.ToLower(strings.TrimSpace(l))
		switch {
		case l == "" || strings.HasPrefix(l, "#"):
		case strings.HasPrefix(l, "!"):
			out = append(out, strings.TrimSpace(l[1:]))
		default:
			in = append(in, l)
		}
	}
	return in, out
})

// ExpiringLink tells whether a message carries a link or code that
// expires (a confirmation, a password reset, a sign-in link), by its
// subject and tags and the patterns of expiring.txt: an order or booking
// "confirmation" carries none.
func ExpiringLink(subject string, tags []string) bool {
	text := strings.ToLower(subject + "\n" + strings.Join(tags, "\n"))
	in, out := expiringPatterns()
	for _, p := range out {
		if strings.Contains(text, p) {
			return false
		}
	}
	for _, p := range in {
		if strings.Contains(text, p) {
			return true
		}
	}
	return false
}

// decideTrace judges each message, then the whole trace.
func decideTrace(res *TraceResult, f *traceFacts) {
	for i := range res.Messages {
		res.Messages[i].Verdict = judgeMessage(&res.Messages[i], res, f)
	}
	res.Verdict = overall(res, f)
	switch res.Verdict.Kind {
	case TraceUserUnknown, TraceNotFound, TraceTypoDomain, TraceNoMX:
		res.Lookalikes = f.lookalikes[res.Address]
		if d := maildiag.DomainOf(res.Address); d != "" {
			res.TypoOf = TypoOf(d, f.typoTargets)
		}
	}
}

// when is a time as people read it: in the trace's time zone.
func (f *traceFacts) when(t time.Time) string {
	if t.IsZero() {
		return "an unknown time"
	}
	loc := f.loc
	if loc == nil {
		loc = time.UTC
	}
	return t.In(loc).Format("2006-01-02 15:04 MST")
}

// who names the traced address (or the query).
func who(res *TraceResult) string {
	if res.Address != "" {
		return res.Address
	}
	return res.Query
}

// judgeMessage is one message's verdict.
func judgeMessage(m *TracedMessage, res *TraceResult, f *traceFacts) TraceVerdict {
	v := TraceVerdict{MessageID: m.MessageID, Evidence: []string{}}
	fin := m.Final
	if c := complaint(m); c != nil {
		v.Kind = TraceComplained
		v.Summary = fmt.Sprintf("%s marked %s as spam on %s.", m.Recipient, msgName(m), f.when(c.Time))
		v.NextStep = "Do not remove the complaint suppression without the person's explicit consent; if they want our mail, ask them to confirm in writing, then remove it."
		return v
	}
	switch m.State {
	case MsgRejected:
		v.Kind = TraceRejected
		v.Summary = fmt.Sprintf("Mailgun rejected %s before sending: %s.", msgName(m), strings.TrimSpace(oneLine(fin.Reason+" "+fin.Description)))
		v.NextStep = "Fix the sending request (see the reason), then send again."
	case MsgDropped:
		return dropVerdict(m, res, f)
	case MsgDelivered:
		mx := orServer(fin.MXHost)
		gw := ""
		if fin.Gateway != "" {
			gw = " (" + fin.Gateway + ")"
		}
		switch {
		case ExpiringLink(m.Subject, m.Tags) && f.now.Sub(fin.Time) > linkLifetime:
			v.Kind = TraceLinkExpired
			v.Summary = fmt.Sprintf("%q was delivered to %s with %d at %s, %s ago: a link in it has most likely expired.",
				m.Subject, mx, fin.Code, f.when(fin.Time), humanDuration(f.now.Sub(fin.Time)))
			v.NextStep = "Have the application send a new one; if that does not arrive either, ask them to look in spam and quarantine."
		case !m.Opened.IsZero() || !m.Clicked.IsZero():
			v.Kind = TraceOpened
			v.Summary = fmt.Sprintf("Delivered with %d at %s and opened at %s: it reached them.", fin.Code, f.when(fin.Time), f.when(firstTime(m.Opened, m.Clicked)))
			v.NextStep = fmt.Sprintf("Ask them to search every folder of their mailbox for %q from %s.", m.Subject, addressOf(m.From))
		default:
			v.Kind = TraceDelivered
			v.Summary = fmt.Sprintf("Delivered%s with %d at %s: %s%s accepted it.", subjectWords(m), fin.Code, f.when(fin.Time), mx, gw)
			v.NextStep = "The receiving server has it: ask them to look in spam, junk and quarantine" + quarantineHint(fin.Gateway) +
				", and to allowlist the sender " + addressOf(m.From) + "."
		}
		if fin.Reply != "" {
			v.Evidence = append(v.Evidence, "reply: "+oneLine(fin.Reply))
		}
	case MsgRetrying:
		if noMX(fin) {
			return noMXVerdict(m, fin, f)
		}
		v.Kind = TraceRetrying
		v.Summary = fmt.Sprintf("Deferred: %s answered %s at %s; Mailgun keeps retrying for up to %s.",
			orServer(fin.MXHost), codeWords(fin.Code, fin.Enhanced), f.when(fin.Time), humanDuration(retryWindow))
		v.NextStep = strings.TrimSpace("Wait: Mailgun retries until " + f.when(firstTime(m.Accepted, m.Events[0].Time).Add(retryWindow)) + ". " + actionOf(fin.Class))
		v.Evidence = append(v.Evidence, "reply: "+oneLine(fin.Reply))
	case MsgExpired:
		if d := lastDeferral(m); d != nil {
			switch {
			case noMX(d):
				return noMXVerdict(m, d, f)
			case unknownAddress(d.Class):
				return userUnknownVerdict(m, d, res, f)
			}
		}
		v.Kind = TraceExpired
		v.Summary = fmt.Sprintf("Dropped as too old on %s: Mailgun gave up after %s of temporary failures (%s).",
			f.when(fin.Time), humanDuration(retryWindow), lastReply(m))
		v.NextStep = strings.TrimSpace("Fix what the deferrals say, then resend. " + actionOf(deferralClass(m)))
	case MsgFailed:
		switch {
		case unknownAddress(fin.Class):
			return userUnknownVerdict(m, fin, res, f)
		case noMX(fin):
			return noMXVerdict(m, fin, f)
		}
		info, _ := maildiag.ClassOf(classOrOther(fin.Class))
		v.Kind = TraceFailed
		v.Summary = fmt.Sprintf("Failed permanently on %s: %s (%s from %s).", f.when(fin.Time), info.Title, codeWords(fin.Code, fin.Enhanced), orServer(fin.MXHost))
		v.NextStep = info.Action
		v.Evidence = append(v.Evidence, "reply: "+oneLine(fin.Reply))
	case MsgStuck:
		until := f.completeUntil[m.SendingDomain]
		switch {
		case until.IsZero():
			v.Kind = TraceIncomplete
			v.Summary = fmt.Sprintf("Accepted at %s; the data imported holds no later event of %s.", f.when(m.Accepted), msgName(m))
			v.NextStep = "The export ends before its delivery attempts: import a later export of " + orAll(m.SendingDomain) + " (or sync it, with the API key), then trace again."
		case !until.After(m.Accepted.Add(retryWindow)):
			v.Kind = TraceStuck
			v.Summary = fmt.Sprintf("Accepted at %s, with no final event in the index; syncs have read %s up to %s.", f.when(m.Accepted), m.SendingDomain, f.when(until))
			v.NextStep = "Run maildiag sync, then trace again."
		default:
			v.Kind = TraceStuck
			v.Summary = fmt.Sprintf("Accepted at %s, with no final event although syncs have read %s up to %s.", f.when(m.Accepted), m.SendingDomain, f.when(until))
			v.NextStep = "Ask Mailgun support what became of " + msgName(m) + "."
		}
	default:
		v.Kind = TraceAcceptedOnly
		v.Summary = fmt.Sprintf("Accepted at %s; no delivery attempt recorded yet.", f.when(m.Accepted))
		v.NextStep = "Wait a few minutes, sync again, then trace again."
	}
	return v
}

// complaint is a message's complained event, nil when it has none.
func complaint(m *TracedMessage) *TracedEvent {
	for i := range m.Events {
		if m.Events[i].Type == maildiag.Complained {
			return &m.Events[i]
		}
	}
	return nil
}

// dropVerdict judges a message Mailgun dropped for a suppression list: the
// list entry as it is now decides. Gone since: resend; still there (or the
// lists are not known): the suppression's verdict.
func dropVerdict(m *TracedMessage, res *TraceResult, f *traceFacts) TraceVerdict {
	fin := m.Final
	list := listOfReason(fin.Reason)
	dropped := fmt.Sprintf("Mailgun dropped %s%s on %s: %s.", msgName(m), subjectWords(m), f.when(fin.Time), dropWords(fin))
	var entry *SuppressedAddress
	for i := range res.Suppressions {
		s := &res.Suppressions[i]
		if s.Address == m.Recipient && s.SendingDomain == m.SendingDomain && s.List == list {
			if entry == nil || s.State != StateRemoved {
				entry = s
			}
		}
	}
	if entry != nil && entry.State == StateRemoved && (entry.Removed.IsZero() || entry.Removed.After(fin.Time)) {
		gone := "since"
		if !entry.Removed.IsZero() {
			gone = "since " + f.when(entry.Removed)
		}
		return TraceVerdict{Kind: TraceResend, MessageID: m.MessageID, Evidence: []string{},
			Summary: fmt.Sprintf("%s The %s entry of %s on %s is gone %s: our mail is delivered to it again.",
				dropped, list, m.Recipient, m.SendingDomain, gone),
			NextStep: resendStep(m)}
	}
	if entry == nil {
		entry = &SuppressedAddress{Address: m.Recipient, SendingDomain: m.SendingDomain, List: list, Since: fin.Time,
			State: StateProbablyListed, StateNote: "Mailgun dropped messages for it; lists not synced (run maildiag sync)"}
	}
	v := suppressionVerdict(entry, f)
	v.MessageID = m.MessageID
	v.Summary = dropped + " " + v.Summary
	return v
}

// resendStep is how to send a message again.
func resendStep(m *TracedMessage) string {
	if m.MessageID == "" {
		return "Send it again from the application."
	}
	return "Resend it: maildiag resend " + m.MessageID + " --yes (Mailgun keeps stored messages a few days; after that, send it again from the application)."
}

// dropWords is what Mailgun said of a drop: its description, else its own
// words for the reason's code.
func dropWords(e *TracedEvent) string {
	words := e.Description
	d, ok := maildiag.DropOf(e.Reason)
	if words == "" && ok {
		words = d.Words
	}
	code := e.Code
	if code == 0 && ok {
		code = d.Code
	}
	return strings.TrimSpace(fmt.Sprintf("%s %s", codeText(code), words))
}

// suppressionVerdict is the verdict of an address's entry on a list.
func suppressionVerdict(s *SuppressedAddress, f *traceFacts) TraceVerdict {
	v := TraceVerdict{Evidence: []string{}}
	switch s.List {
	case maildiag.ListComplaints:
		v.Kind = TraceComplained
		v.Summary = fmt.Sprintf("%s is on the complaints list of %s since %s: they marked our mail as spam.", s.Address, s.SendingDomain, f.when(s.Since))
		v.NextStep = "Do not remove it without the person's explicit consent."
	case maildiag.ListUnsubscribes:
		v.Kind = TraceUnsubscribed
		v.Summary = fmt.Sprintf("%s unsubscribed from %s on %s; Mailgun drops our mail to it.", s.Address, s.SendingDomain, f.when(s.Since))
		v.NextStep = fmt.Sprintf("Only they can opt in again: if they ask for the mail, remove the unsubscribe with their consent (maildiag suppressions remove %s --list unsubscribes --sending-domain %s --yes), then resend.",
			s.Address, s.SendingDomain)
	default:
		v.Kind = TraceSuppressed
		why := oneLine(s.ListError)
		if c := s.Cause; c != nil {
			why = fmt.Sprintf("%s from %s: %s", codeWords(c.Code, c.Enhanced), orServer(c.MXHost), oneLine(c.Reply))
		}
		if why != "" {
			why = " (" + why + ")"
		}
		v.Summary = fmt.Sprintf("%s is on the bounce list of %s since %s%s; Mailgun drops our mail to it without trying.",
			s.Address, s.SendingDomain, f.when(s.Since), why)
		v.NextStep = fmt.Sprintf("If the cause is fixed, remove the suppression (%s), then resend.", removeCommand(s))
		if s.Cause != nil && unknownAddress(s.Cause.Class) {
			// Removing it would only bounce again: the address is wrong.
			v.Kind = TraceUserUnknown
			v.NextStep = "Ask them for the right address: the mailbox does not exist, and removing the suppression would only bounce again."
			if looks := f.lookalikes[s.Address]; len(looks) > 0 {
				l := looks[0]
				v.Summary += fmt.Sprintf(" %s (%s) did receive our mail, last on %s.", l.Address, lookalikeWords(s.Address, l.Lookalike), f.when(l.LastDelivered))
				v.NextStep = fmt.Sprintf("Ask which address they signed up with: probably %s, not %s. Removing the suppression would only bounce again.", l.Address, s.Address)
			}
		} else if s.Cause != nil && addressLevel[s.Cause.Class] {
			v.NextStep = "The address itself bounced: confirm it with the person before removing the suppression. " + v.NextStep
		}
	}
	if s.Drops > 0 {
		v.Evidence = append(v.Evidence, fmt.Sprintf("%s dropped since, the last on %s", maildiag.Plural(s.Drops, "later message"), f.when(s.LastDrop)))
	}
	if s.StateNote != "" {
		v.Evidence = append(v.Evidence, s.StateNote)
	}
	return v
}

func removeCommand(s *SuppressedAddress) string {
	return fmt.Sprintf("maildiag suppressions remove %s --list %s --sending-domain %s --yes", s.Address, s.List, s.SendingDomain)
}

// noMX tells whether a failure says the recipient's domain has no mail
// server: Mailgun's 498, or a reply classed so.
func noMX(e *TracedEvent) bool {
	return e != nil && (e.Class == maildiag.ClassDomainNotFound || e.Code == 498)
}

// unknownAddress tells whether a class says the mailbox does not exist.
func unknownAddress(class string) bool {
	return class == maildiag.ClassUserUnknown || class == maildiag.ClassMailboxDisabled
}

// noMXVerdict judges mail to a domain without a mail server: a typo of a
// domain we know, or a domain that cannot receive mail. Retrying cannot
// help.
func noMXVerdict(m *TracedMessage, e *TracedEvent, f *traceFacts) TraceVerdict {
	domain := maildiag.DomainOf(m.Recipient)
	v := TraceVerdict{MessageID: m.MessageID, Evidence: []string{"reply: " + oneLine(e.Reply)}}
	said := strings.TrimSpace(codeText(e.Code) + " " + oneLine(firstLine(cmpOr(e.Reply, e.Description))))
	if t := TypoOf(domain, f.typoTargets); t != "" {
		v.Kind = TraceTypoDomain
		v.Summary = fmt.Sprintf("%s has no mail server (%s): it looks like a typo of %s.", domain, said, t)
		v.NextStep = fmt.Sprintf("Ask them to correct the address to %s@%s, then send again.", localOf(m.Recipient), t)
		return v
	}
	v.Kind = TraceNoMX
	v.Summary = fmt.Sprintf("%s has no mail server (%s): mail to it cannot be delivered, now or on a retry.", domain, said)
	v.NextStep = "Check the address with them: the domain is misspelt, expired or does not receive mail."
	return v
}

// userUnknownVerdict judges a bounce for a mailbox that does not exist,
// with the near-identical addresses at its domain that receive our mail.
func userUnknownVerdict(m *TracedMessage, e *TracedEvent, res *TraceResult, f *traceFacts) TraceVerdict {
	v := TraceVerdict{Kind: TraceUserUnknown, MessageID: m.MessageID, Evidence: []string{"reply: " + oneLine(e.Reply)}}
	v.Summary = fmt.Sprintf("Bounced: %s answered that %s does not exist (%s).", orServer(e.MXHost), m.Recipient, codeWords(e.Code, e.Enhanced))
	v.NextStep = "Ask them for the right address."
	if looks := f.lookalikes[m.Recipient]; len(looks) > 0 {
		l := looks[0]
		v.Summary += fmt.Sprintf(" %s (%s) did receive our mail, last on %s.", l.Address, lookalikeWords(m.Recipient, l.Lookalike), f.when(l.LastDelivered))
		v.NextStep = fmt.Sprintf("Ask which address they signed up with: probably %s, not %s.", l.Address, m.Recipient)
	}
	return v
}

// overall is the trace's verdict: the most actionable of its messages'
// verdicts and its suppressions' (Precedence; the newest when several
// share a kind).
func overall(res *TraceResult, f *traceFacts) TraceVerdict {
	type candidate struct {
		v    TraceVerdict
		at   time.Time
		line string
	}
	var cands []candidate
	for i := range res.Messages {
		m := &res.Messages[i]
		cands = append(cands, candidate{m.Verdict, msgTime(m), msgLine(m, f)})
	}
	var active []*SuppressedAddress
	for i := range res.Suppressions {
		s := &res.Suppressions[i]
		if s.State == StateRemoved || s.List == maildiag.ListAllowlist || covered(s, res.Messages) {
			continue
		}
		active = append(active, s)
		cands = append(cands, candidate{suppressionVerdict(s, f), s.Since, ""})
	}
	if len(cands) == 0 {
		return notFound(res, f)
	}
	rank := func(kind string) int {
		if i := slices.Index(Precedence, kind); i >= 0 {
			return i
		}
		return len(Precedence)
	}
	best := cands[0]
	for _, c := range cands[1:] {
		if r, b := rank(c.v.Kind), rank(best.v.Kind); r < b || r == b && c.at.After(best.at) {
			best = c
		}
	}
	v := best.v
	v.Evidence = slices.Clone(v.Evidence)
	if best.line != "" {
		v.Evidence = append([]string{best.line}, v.Evidence...)
	}
	// A suppression blocks a sending domain: name the removal of each
	// entry that blocks one, so that a resend is not dropped again.
	if v.Kind == TraceSuppressed && len(active) > 1 {
		var steps []string
		for _, s := range active {
			if s.List == maildiag.ListBounces {
				steps = append(steps, removeCommand(s))
				v.Evidence = append(v.Evidence, fmt.Sprintf("on the %s list of %s since %s", s.List, s.SendingDomain, f.when(s.Since)))
			}
		}
		if len(steps) > 1 {
			v.NextStep = fmt.Sprintf("It is on the bounce lists of %d sending domains: if the cause is fixed, remove each (%s), then resend.",
				len(steps), strings.Join(steps, "; "))
			if strings.HasPrefix(best.v.NextStep, "The address itself bounced") {
				v.NextStep = "The address itself bounced: confirm it with the person before removing the suppressions. " + v.NextStep
			}
		}
	}
	if n := len(res.Messages); n > 1 {
		counts := map[string]int{}
		for _, m := range res.Messages {
			counts[m.Verdict.Kind]++
		}
		v.Evidence = append(v.Evidence, fmt.Sprintf("%s judged: %s", maildiag.Plural(n, "message"), countWords(counts)))
	}
	return v
}

// covered tells whether a suppression known only from the event log says
// nothing the messages do not: it is the bounce of one of them, nothing
// dropped since (that message's verdict says more), or a later message
// of its sending domain was delivered (it is no longer listed).
func covered(s *SuppressedAddress, ms []TracedMessage) bool {
	if s.Source != FromEvents {
		return false
	}
	for i := range ms {
		m := &ms[i]
		if m.SendingDomain != s.SendingDomain || m.Recipient != s.Address || m.Final == nil {
			continue
		}
		if m.State == MsgDelivered && m.Final.Time.After(s.Since) || s.Drops == 0 && m.Final.Time.Equal(s.Since) {
			return true
		}
	}
	return false
}

// notFound is the verdict when the index has nothing of the query: the
// near-identical addresses it has, and a domain that looks like a typo.
func notFound(res *TraceResult, f *traceFacts) TraceVerdict {
	v := TraceVerdict{Evidence: []string{}}
	if res.MessageID == "" && res.Address == "" {
		v.Kind = TraceNoSuchMessage
		v.Summary = fmt.Sprintf("No address or message-id %q in the index.", res.Query)
	} else {
		v.Kind = TraceNotFound
		v.Summary = fmt.Sprintf("No events for %s in the index.", who(res))
	}
	if res.Hidden > 0 {
		v.Summary = fmt.Sprintf("None of the %s to %s matches the filters.", maildiag.Plural(res.Hidden, "message"), who(res))
		if res.Hidden == 1 {
			v.Summary = fmt.Sprintf("The one message to %s does not match the filters.", who(res))
		}
		v.NextStep = "Widen or drop the filters (--since, --until, --subject, --sending-domain, --tag, --event-id) to see them."
		return v
	}
	v.NextStep = "Check the address for typos. The index covers " + coverage(res, f) +
		"; for older mail, Mailgun's own logs are gone after its retention: run maildiag sync regularly to keep them."
	d := maildiag.DomainOf(res.Address)
	if d == "" {
		return v
	}
	if t := TypoOf(d, f.typoTargets); t != "" {
		v.Summary += fmt.Sprintf(" %s looks like a typo of %s.", d, t)
		v.NextStep = fmt.Sprintf("Ask them for the right address: %s is probably %s. ", d, t) + v.NextStep
	}
	if looks := f.lookalikes[res.Address]; len(looks) > 0 {
		l := looks[0]
		if l.Deliveries > 0 {
			v.Summary += fmt.Sprintf(" But %s (%s) received our mail, last on %s.", l.Address, lookalikeWords(res.Address, l.Lookalike), f.when(l.LastDelivered))
			v.NextStep = fmt.Sprintf("Ask which address they signed up with: probably %s. ", l.Address) + v.NextStep
		} else {
			v.Summary += fmt.Sprintf(" But our mail went to %s (%s), which never received it.", l.Address, lookalikeWords(res.Address, l.Lookalike))
			v.NextStep = fmt.Sprintf("The address was probably stored as %s: correct it to %s in the application, then send again (maildiag trace %s shows that mail).",
				l.Address, res.Address, l.Address)
		}
	}
	return v
}

// lookalikeWords says how a lookalike differs from an address.
func lookalikeWords(addr string, l Lookalike) string {
	if maildiag.DomainOf(addr) != maildiag.DomainOf(l.Address) {
		return "the same name at " + maildiag.DomainOf(l.Address)
	}
	return editWords(l.Distance)
}

func coverage(res *TraceResult, f *traceFacts) string {
	if res.IndexFrom.IsZero() {
		return "nothing yet (the index is empty)"
	}
	return f.when(res.IndexFrom) + " to " + f.when(res.IndexTo)
}

// subjectWords is a message's subject in a sentence, after its name.
func subjectWords(m *TracedMessage) string {
	if m.Subject == "" {
		return ""
	}
	return fmt.Sprintf(" (%q)", m.Subject)
}

// msgName names a message in a sentence.
func msgName(m *TracedMessage) string {
	if m.MessageID != "" {
		return "message " + m.MessageID
	}
	return "the message (no message-id)"
}

func msgLine(m *TracedMessage, f *traceFacts) string {
	s := msgName(m)
	if m.Subject != "" {
		s += fmt.Sprintf(" %q", m.Subject)
	}
	if m.SendingDomain != "" {
		s += " from " + m.SendingDomain
	}
	if !m.Accepted.IsZero() {
		s += ", accepted " + f.when(m.Accepted)
	}
	return s
}

func lastReply(m *TracedMessage) string {
	for i := len(m.Events) - 1; i >= 0; i-- {
		e := m.Events[i]
		if e.Type == maildiag.Failed && e.Reason != maildiag.ReasonOld && e.Reply != "" {
			return fmt.Sprintf("the last: %s %s", codeText(e.Code), oneLine(e.Reply))
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

// codeWords is a basic and an enhanced code as one phrase, either may be
// missing.
func codeWords(code int, enhanced string) string {
	return strings.TrimSpace(codeText(code) + " " + enhanced)
}

func orServer(mx string) string {
	if mx == "" {
		return "the receiving server"
	}
	return mx
}

func orAll(sendingDomain string) string {
	if sendingDomain == "" {
		return "the account"
	}
	return sendingDomain
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// firstTime is the earlier of two times, either of which may be zero.
func firstTime(a, b time.Time) time.Time {
	switch {
	case a.IsZero():
		return b
	case b.IsZero() || a.Before(b):
		return a
	}
	return b
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

// addressOf is the address of a From header, for the sentence that asks
// to allowlist it.
func addressOf(from string) string {
	if a, err := mail.ParseAddress(from); err == nil {
		return a.Address
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
	return maildiag.Plural(d, "edit") + " apart"
}
