package analyze

import (
	"strings"
	"testing"
	"time"

	"github.com/maildiag/maildiag"
)

// The trace verdict is a pure function of the gathered facts: each case
// builds the facts by hand.
func TestDecideTrace(t *testing.T) {
	t0 := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	accepted := func(d time.Duration) TracedEvent { return TracedEvent{Time: at(d), Type: maildiag.Accepted} }
	deferred := func(d time.Duration, class string) TracedEvent {
		return TracedEvent{Time: at(d), Type: maildiag.Failed, Severity: maildiag.SeverityTemporary, Code: 421, Enhanced: "4.7.0",
			Class: class, Reply: "421 4.7.0 try again later", MXHost: "mx.example.net"}
	}
	failed := func(d time.Duration, class string, code int) TracedEvent {
		return TracedEvent{Time: at(d), Type: maildiag.Failed, Severity: maildiag.SeverityPermanent, Reason: maildiag.ReasonBounce,
			Code: code, Class: class, Reply: "550 no", MXHost: "mx.example.net"}
	}
	delivered := TracedEvent{Time: at(time.Minute), Type: maildiag.Delivered, Code: 250, MXHost: "mx.example.net", Gateway: "Microsoft 365", Reply: "250 ok"}
	msg := func(subject string, evs ...TracedEvent) TracedMessage {
		return TracedMessage{MessageID: "m@mg.example.com", Recipient: "jane@initech.example", SendingDomain: "mg.example.com",
			Subject: subject, From: "Example <no-reply@mg.example.com>", Events: evs}
	}
	suppression := func(list string, cause *Cause) SuppressedAddress {
		return SuppressedAddress{Address: "jane@initech.example", SendingDomain: "mg.example.com", List: list, Since: at(-time.Hour),
			State: StateListed, StateNote: "on the list", Cause: cause, Drops: 2, LastDrop: at(time.Hour)}
	}
	cases := []struct {
		name     string
		now      time.Time
		messages []TracedMessage
		supp     []SuppressedAddress
		facts    traceFacts
		kind     string
		says     string // in the summary or next step
	}{
		{"delivered", at(time.Hour), []TracedMessage{msg("Your invoice", accepted(0), delivered)}, nil, traceFacts{},
			TraceDelivered, "Microsoft 365 quarantine"},
		{"link expired", at(48 * time.Hour), []TracedMessage{msg("Reset your password", accepted(0), delivered)}, nil, traceFacts{},
			TraceLinkExpired, "send a new one"},
		{"retrying", at(time.Hour), []TracedMessage{msg("Hi", accepted(0), deferred(time.Minute, maildiag.ClassGreylisted))}, nil, traceFacts{},
			TraceRetrying, "Wait: Mailgun retries until 2026-11-20 17:00 UTC"},
		{"stuck, synced past it", at(10 * time.Hour), []TracedMessage{msg("Hi", accepted(0), deferred(time.Minute, maildiag.ClassGreylisted))}, nil,
			traceFacts{completeUntil: map[string]time.Time{"mg.example.com": at(10 * time.Hour)}}, TraceStuck, "Ask Mailgun support"},
		{"stuck, not synced that far", at(10 * time.Hour), []TracedMessage{msg("Hi", accepted(0), deferred(time.Minute, maildiag.ClassGreylisted))}, nil,
			traceFacts{completeUntil: map[string]time.Time{"mg.example.com": at(time.Hour)}}, TraceStuck, "Run maildiag sync"},
		{"an export ending before the final event", at(10 * time.Hour), []TracedMessage{msg("Hi", accepted(0))}, nil, traceFacts{},
			TraceIncomplete, "import a later export"},
		{"opened", at(time.Hour), []TracedMessage{func() TracedMessage {
			m := msg("Your invoice", accepted(0), delivered, TracedEvent{Time: at(5 * time.Minute), Type: maildiag.Opened})
			return m
		}()}, nil, traceFacts{}, TraceOpened, "it reached them"},
		{"dropped, the suppression removed since", at(48 * time.Hour), []TracedMessage{msg("Hi", accepted(0), TracedEvent{Time: at(time.Minute),
			Type: maildiag.Failed, Severity: maildiag.SeverityPermanent, Reason: maildiag.ReasonSuppressBounce, Code: 605})},
			[]SuppressedAddress{func() SuppressedAddress {
				s := suppression(maildiag.ListBounces, nil)
				s.State, s.Removed = StateRemoved, at(24*time.Hour)
				return s
			}()}, traceFacts{}, TraceResend, "maildiag resend m@mg.example.com"},
		{"a delivered invite does not hide a dropped reset", at(2 * time.Hour), []TracedMessage{
			msg("Reset your password", accepted(0), TracedEvent{Time: at(time.Minute), Type: maildiag.Failed, Severity: maildiag.SeverityPermanent,
				Reason: maildiag.ReasonSuppressUnsubscribe, Code: 606}),
			func() TracedMessage {
				m := msg("You are invited", accepted(time.Hour), TracedEvent{Time: at(time.Hour + time.Minute), Type: maildiag.Delivered, Code: 250})
				m.MessageID, m.SendingDomain = "n@mg2.example.com", "mg2.example.com"
				return m
			}()}, []SuppressedAddress{suppression(maildiag.ListUnsubscribes, nil)}, traceFacts{}, TraceUnsubscribed, "opt in again"},
		{"on the bounce lists of two sending domains", at(time.Hour), nil, []SuppressedAddress{
			suppression(maildiag.ListBounces, &Cause{Code: 554, Class: maildiag.ClassPolicyBlock}),
			func() SuppressedAddress {
				s := suppression(maildiag.ListBounces, &Cause{Code: 554, Class: maildiag.ClassPolicyBlock})
				s.SendingDomain = "mg2.example.com"
				return s
			}()}, traceFacts{}, TraceSuppressed, "--sending-domain mg2.example.com"},
		{"suppressed as unknown, a twin receives", at(time.Hour), nil,
			[]SuppressedAddress{suppression(maildiag.ListBounces, &Cause{Code: 550, Enhanced: "5.1.1", Class: maildiag.ClassUserUnknown, Reply: "no such user"})},
			traceFacts{lookalikes: map[string][]DeliveredLookalike{"jane@initech.example": {{Lookalike: Lookalike{Address: "jane.d@initech.example", Distance: 2},
				Deliveries: 3, LastDelivered: at(-time.Hour)}}}}, TraceUserUnknown, "would only bounce again"},
		{"no mail server while retrying", at(time.Hour), []TracedMessage{msg("Hi", accepted(0), TracedEvent{Time: at(time.Minute), Type: maildiag.Failed,
			Severity: maildiag.SeverityTemporary, Code: 498, Reply: "No MX for zz.example"})}, nil, traceFacts{}, TraceNoMX, "cannot be delivered"},
		{"accepted only", at(time.Minute), []TracedMessage{msg("Hi", accepted(0))}, nil, traceFacts{},
			TraceAcceptedOnly, "Wait a few minutes"},
		{"expired", at(9 * time.Hour), []TracedMessage{msg("Hi", accepted(0), deferred(time.Minute, maildiag.ClassRateLimited),
			TracedEvent{Time: at(8 * time.Hour), Type: maildiag.Failed, Severity: maildiag.SeverityPermanent, Reason: maildiag.ReasonOld, Code: 602,
				Class: maildiag.ClassExpired})}, nil, traceFacts{},
			TraceExpired, "slow the sending rate"},
		{"rejected", at(time.Hour), []TracedMessage{msg("Hi", TracedEvent{Time: at(0), Type: maildiag.Rejected, Reason: "invalid", Description: "bad address"})},
			nil, traceFacts{}, TraceRejected, "Fix the sending request"},
		{"failed", at(time.Hour), []TracedMessage{msg("Hi", accepted(0), failed(time.Minute, maildiag.ClassPolicyBlock, 554))}, nil, traceFacts{},
			TraceFailed, "allowlist"},
		{"user unknown, a twin receives", at(time.Hour), []TracedMessage{msg("Hi", accepted(0), failed(time.Minute, maildiag.ClassUserUnknown, 550))},
			nil, traceFacts{lookalikes: map[string][]DeliveredLookalike{"jane@initech.example": {{Lookalike: Lookalike{Address: "jane.d@initech.example", Distance: 2},
				Deliveries: 3, LastDelivered: at(-time.Hour)}}}}, TraceUserUnknown, "probably jane.d@initech.example"},
		{"user unknown alone", at(time.Hour), []TracedMessage{msg("Hi", accepted(0), failed(time.Minute, maildiag.ClassUserUnknown, 550))},
			nil, traceFacts{}, TraceUserUnknown, "Ask them for the right address"},
		{"no mail server, a typo", at(time.Hour), []TracedMessage{func() TracedMessage {
			m := msg("Hi", accepted(0), failed(time.Minute, maildiag.ClassDomainNotFound, 498))
			m.Recipient = "jane@gmial.com"
			return m
		}()}, nil, traceFacts{}, TraceTypoDomain, "jane@gmail.com"},
		{"no mail server, no typo", at(time.Hour), []TracedMessage{func() TracedMessage {
			m := msg("Hi", accepted(0), failed(time.Minute, maildiag.ClassDomainNotFound, 498))
			m.Recipient = "jane@zzqx-nowhere.example"
			return m
		}()}, nil, traceFacts{}, TraceNoMX, "no mail server"},
		{"complained", at(time.Hour), []TracedMessage{msg("News", accepted(0), delivered, TracedEvent{Time: at(time.Hour), Type: maildiag.Complained})},
			nil, traceFacts{}, TraceComplained, "explicit consent"},
		{"suppressed", at(time.Hour), []TracedMessage{msg("Hi", accepted(0), TracedEvent{Time: at(time.Minute), Type: maildiag.Failed,
			Severity: maildiag.SeverityPermanent, Reason: maildiag.ReasonSuppressBounce, Code: 605})},
			[]SuppressedAddress{suppression(maildiag.ListBounces, &Cause{Code: 550, Enhanced: "5.7.1", Class: maildiag.ClassPolicyBlock, Reply: "blocked"})},
			traceFacts{}, TraceSuppressed, "maildiag suppressions remove jane@initech.example --list bounces --sending-domain mg.example.com"},
		{"suppressed, the address bounced", at(time.Hour), []TracedMessage{msg("Hi", accepted(0), TracedEvent{Time: at(time.Minute), Type: maildiag.Failed,
			Severity: maildiag.SeverityPermanent, Reason: maildiag.ReasonSuppressBounce, Code: 605})},
			[]SuppressedAddress{suppression(maildiag.ListBounces, &Cause{Code: 550, Enhanced: "5.1.1", Class: maildiag.ClassMailboxFull, Reply: "full"})},
			traceFacts{}, TraceSuppressed, "The address itself bounced"},
		{"unsubscribed", at(time.Hour), nil, []SuppressedAddress{suppression(maildiag.ListUnsubscribes, nil)}, traceFacts{},
			TraceUnsubscribed, "opt in again"},
		{"on the complaints list", at(time.Hour), nil, []SuppressedAddress{suppression(maildiag.ListComplaints, nil)}, traceFacts{},
			TraceComplained, "explicit consent"},
		{"not found", at(time.Hour), nil, nil, traceFacts{}, TraceNotFound, "Check the address for typos"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := &TraceResult{Query: "jane@initech.example", Address: "jane@initech.example", Suppressions: c.supp}
			for _, m := range c.messages {
				decide(&m, c.now)
				res.Messages = append(res.Messages, m)
			}
			f := c.facts
			f.now = c.now
			decideTrace(res, &f)
			v := res.Verdict
			if v.Kind != c.kind {
				t.Errorf("kind %s (%s), want %s", v.Kind, v.Summary, c.kind)
			}
			if !strings.Contains(v.Summary+" "+v.NextStep, c.says) {
				t.Errorf("verdict %q / %q does not say %q", v.Summary, v.NextStep, c.says)
			}
			if v.Evidence == nil {
				t.Error("evidence is nil, want a list")
			}
		})
	}
}

// A message's state from its events.
func TestMessageStates(t *testing.T) {
	t0 := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	ev := func(typ, severity, reason string, code int, d time.Duration) TracedEvent {
		return TracedEvent{Time: t0.Add(d), Type: typ, Severity: severity, Reason: reason, Code: code}
	}
	acc := ev(maildiag.Accepted, "", "", 0, 0)
	for _, c := range []struct {
		name string
		evs  []TracedEvent
		now  time.Duration
		want string
	}{
		{"delivered after a deferral", []TracedEvent{acc, ev(maildiag.Failed, maildiag.SeverityTemporary, "", 421, time.Minute), ev(maildiag.Delivered, "", "", 250, time.Hour)}, 2 * time.Hour, MsgDelivered},
		{"a delayed bounce after delivery", []TracedEvent{acc, ev(maildiag.Delivered, "", "", 250, time.Minute), ev(maildiag.Failed, maildiag.SeverityPermanent, maildiag.ReasonBounce, 550, time.Hour)}, 2 * time.Hour, MsgFailed},
		{"dropped", []TracedEvent{acc, ev(maildiag.Failed, maildiag.SeverityPermanent, maildiag.ReasonSuppressComplaint, 607, time.Second)}, time.Hour, MsgDropped},
		{"a 5xx without severity", []TracedEvent{acc, ev(maildiag.Failed, "", "", 550, time.Second)}, time.Hour, MsgFailed},
		{"too old", []TracedEvent{acc, ev(maildiag.Failed, maildiag.SeverityPermanent, maildiag.ReasonOld, 602, 8*time.Hour)}, 9 * time.Hour, MsgExpired},
		{"deferred, within the window", []TracedEvent{acc, ev(maildiag.Failed, maildiag.SeverityTemporary, "", 451, time.Minute)}, time.Hour, MsgRetrying},
		{"deferred, long ago", []TracedEvent{acc, ev(maildiag.Failed, maildiag.SeverityTemporary, "", 451, time.Minute)}, 10 * time.Hour, MsgStuck},
		{"accepted", []TracedEvent{acc}, time.Minute, MsgAccepted},
		{"accepted long ago", []TracedEvent{acc}, 10 * time.Hour, MsgStuck},
		{"rejected", []TracedEvent{ev(maildiag.Rejected, "", "", 0, 0)}, time.Minute, MsgRejected},
	} {
		m := &TracedMessage{Events: c.evs}
		decide(m, t0.Add(c.now))
		if m.State != c.want {
			t.Errorf("%s: state %s, want %s", c.name, m.State, c.want)
		}
		if m.State != MsgAccepted && m.State != MsgStuck && m.Final == nil && c.want != MsgAccepted {
			t.Errorf("%s: no final event", c.name)
		}
	}
}
