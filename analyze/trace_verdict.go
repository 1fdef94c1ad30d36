package analyze

import (
	"fmt"
	"net/mail"
	"strings"

	"github.com/maildiag/maildiag"
)

// The verdict of a trace is decided here from facts gathered before (the
// result's messages and suppressions, and traceFacts): no I/O.

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

// decideTrace gives the one answer: res.Verdict, and the lookalikes and
// typo it rests on.
func decideTrace(res *TraceResult, f *traceFacts) {
	res.Verdict = TraceVerdict{}
	traceVerdict(res, f)
}

func traceVerdict(res *TraceResult, f *traceFacts) {
	now := f.now
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
			suppressedVerdict(res, &res.Suppressions[0])
		}
		return
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
				return
			}
		}
	}
	if last.State == MsgDropped || last.State != MsgDelivered && activeSuppression(res) != nil {
		if s := activeSuppression(res); s != nil {
			if s.Cause != nil {
				cause := &TracedEvent{Time: s.Cause.Time, Code: s.Cause.Code, Enhanced: s.Cause.Enhanced, Reply: s.Cause.Reply,
					MXHost: s.Cause.MXHost, Class: s.Cause.Class}
				if addressAdvice(res, f, last, s.Cause.Class, cause) {
					res.Verdict.Summary += fmt.Sprintf(" It is on the bounce list of %s since %s.", s.SendingDomain, fmtTime(s.Since))
					res.Verdict.NextStep += " Do not remove the suppression of the wrong address."
					return
				}
			}
			suppressedVerdict(res, s)
			return
		}
	}
	fin := last.Final
	switch last.State {
	case MsgDelivered:
		mx := fin.MXHost
		if mx == "" {
			mx = "their mail server"
		}
		gw := ""
		if fin.Gateway != "" {
			gw = " (" + fin.Gateway + ")"
		}
		if transactional(last) && now.Sub(fin.Time) > linkLifetime {
			v.Kind = TraceLinkExpired
			v.Summary = fmt.Sprintf("%q was delivered to %s with %d at %s, %s ago: a link in it has most likely expired.",
				last.Subject, mx, fin.Code, fmtTime(fin.Time), humanDuration(now.Sub(fin.Time)))
			v.NextStep = "Send a new one; if it does not arrive either, ask them to look in spam and quarantine."
		} else {
			v.Kind = TraceDelivered
			v.Summary = fmt.Sprintf("Delivered with %d at %s: %s%s accepted it.", fin.Code, fmtTime(fin.Time), mx, gw)
			v.NextStep = "The receiving server has it: ask them to look in spam, junk and quarantine" + quarantineHint(fin.Gateway) +
				", and to allowlist the sender " + addressOf(last.From) + "."
		}
		if !last.Opened.IsZero() {
			v.Evidence = append(v.Evidence, "opened at "+fmtTime(last.Opened))
		}
		if fin.Reply != "" {
			v.Evidence = append(v.Evidence, "reply: "+oneLine(fin.Reply))
		}
	case MsgRetrying:
		until := last.Accepted.Add(retryWindow)
		v.Kind = TraceRetrying
		v.Summary = fmt.Sprintf("Deferred: %s answered %d %s at %s; Mailgun keeps retrying for up to 8 hours.",
			orServer(fin.MXHost), fin.Code, fin.Enhanced, fmtTime(fin.Time))
		v.NextStep = "Wait: Mailgun retries until " + fmtTime(until) + ". " + actionOf(fin.Class)
		v.Evidence = append(v.Evidence, "reply: "+oneLine(fin.Reply))
	case MsgExpired:
		if d := lastDeferral(last); d != nil {
			if addressAdvice(res, f, last, d.Class, d) {
				return
			}
		}
		if addressAdvice(res, f, last, fin.Class, fin) {
			return
		}
		v.Kind = TraceExpired
		v.Summary = fmt.Sprintf("Dropped as too old: Mailgun gave up after 8 hours of temporary failures (%s).", lastReply(last))
		v.NextStep = "Fix what the deferrals say, then resend. " + actionOf(deferralClass(last))
	case MsgFailed:
		failedVerdict(res, f, last)
		return
	case MsgRejected:
		v.Kind = TraceRejected
		v.Summary = fmt.Sprintf("Mailgun rejected the message before sending: %s %s.", fin.Reason, fin.Description)
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
}

func failedVerdict(res *TraceResult, f *traceFacts, last *TracedMessage) {
	v, fin := &res.Verdict, last.Final
	if addressAdvice(res, f, last, fin.Class, fin) {
		return
	}
	info, _ := maildiag.ClassOf(classOrOther(fin.Class))
	v.Evidence = append(v.Evidence, msgLine(last), "reply: "+oneLine(fin.Reply))
	v.Kind = TraceFailed
	v.Summary = fmt.Sprintf("Failed permanently: %s (%d %s from %s).", info.Title, fin.Code, fin.Enhanced, orServer(fin.MXHost))
	v.NextStep = info.Action
}

// addressAdvice gives the verdict when the address itself is wrong: it
// does not exist (and a near-identical one at the same domain receives our
// mail), or its domain has no mail server and looks like a typo. It tells
// whether it gave one.
func addressAdvice(res *TraceResult, facts *traceFacts, last *TracedMessage, class string, f *TracedEvent) bool {
	v := &res.Verdict
	domain := maildiag.DomainOf(last.Recipient)
	switch class {
	case maildiag.ClassUserUnknown, maildiag.ClassMailboxDisabled:
		looks := facts.lookalikes[last.Recipient]
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
		t := TypoOf(domain, facts.typoTargets)
		if t == "" {
			return false
		}
		res.TypoOf = t
		v.Kind = TraceTypoDomain
		v.Summary = fmt.Sprintf("%s has no mail server (%d %s): it looks like a typo of %s.", domain, f.Code, firstLine(f.Reply), t)
		v.NextStep = fmt.Sprintf("Ask them to correct the address to %s@%s, then send again.", localOf(last.Recipient), t)
	default:
		return false
	}
	v.Evidence = append(v.Evidence, msgLine(last), "reply: "+oneLine(f.Reply))
	return true
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

func suppressedVerdict(res *TraceResult, s *SuppressedAddress) {
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
	return plural(d, "edit") + " apart"
}
