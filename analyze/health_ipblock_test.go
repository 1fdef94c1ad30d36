package analyze

import (
	"strings"
	"testing"
	"time"

	"github.com/maildiag/maildiag"
)

// A provider refusing a handful of messages from one sending IP is a
// warning, whatever else that IP met there; the same refusals after
// deferrals of the very messages refused are a block in force, and its
// evidence counts those deferrals only.
func TestIPBlockSeverityAndEvidence(t *testing.T) {
	t0 := time.Date(2026, 11, 13, 6, 0, 0, 0, time.UTC)
	scan := func(deferSame bool) []Alert {
		rs := newRuleScan(7)
		for i := range 9 {
			f := &Failure{Time: t0.Add(time.Duration(i) * time.Hour), SendingDomain: "mg.example.com", SendingIP: "198.51.100.10",
				RecipientDomain: "vantagate.com", Recipient: RecipientID(i + 1), Message: MessageRef(100 + i), Outcome: maildiag.OutcomePermanent,
				Code: 554, Enhanced: "5.7.1"}
			rs.add(f, maildiag.ClassBlocklisted, "Google", 0)
		}
		// Rate-limit deferrals of the same IP at the same provider: of
		// the refused messages, or of 127 others.
		for i := range 127 {
			msg, rcpt := MessageRef(1000+i), RecipientID(1000+i)
			if deferSame {
				msg, rcpt = MessageRef(100+i%9), RecipientID(i%9+1)
			}
			rs.add(&Failure{Time: t0.Add(-time.Hour), SendingDomain: "mg.example.com", SendingIP: "198.51.100.10", RecipientDomain: "gmail.com",
				Recipient: rcpt, Message: msg, Outcome: maildiag.OutcomeTemporary, Code: 421, Enhanced: "4.7.28"}, maildiag.ClassRateLimited, "Google", 0)
		}
		return senderBlocks(DefaultThresholds, &healthFacts{rules: rs, verdicts: map[string]DomainVerdict{}})
	}
	other := scan(false)
	if len(other) != 1 || other[0].Severity != AlertWarning || strings.Contains(other[0].Text, "deferral") {
		t.Errorf("9 refusals, deferrals of other messages: %+v, want one warning that does not count the deferrals", other)
	}
	same := scan(true)
	if len(same) != 1 || same[0].Severity != AlertCritical || !strings.Contains(same[0].Text, "after 127 rate-limit or policy deferrals of the same messages") {
		t.Errorf("9 refusals after deferrals of the same messages: %+v, want a critical alert counting 127 deferrals", same)
	}
	th := DefaultThresholds
	th.IPBlockCritical = 9
	rs := newRuleScan(7)
	for i := range 9 {
		rs.add(&Failure{Time: t0, SendingDomain: "mg.example.com", SendingIP: "198.51.100.10", RecipientDomain: "vantagate.com",
			Recipient: RecipientID(i + 1), Message: MessageRef(i + 1), Outcome: maildiag.OutcomePermanent, Code: 554}, maildiag.ClassBlocklisted, "Google", 0)
	}
	if a := senderBlocks(th, &healthFacts{rules: rs, verdicts: map[string]DomainVerdict{}}); len(a) != 1 || a[0].Severity != AlertCritical {
		t.Errorf("9 refusals with --ip-block-critical 9: %+v, want critical", a)
	}
}
