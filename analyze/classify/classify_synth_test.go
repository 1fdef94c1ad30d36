package classify

import (
	"context"
	"testing"
	"time"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/synth"
)

// eventOf maps a generated event's fields onto the normalised record as
// they are, without ingest's normalisation: the enhanced code stays empty
// where the generator leaves it empty, as Mailgun sometimes does.
func eventOf(e *synth.Event) maildiag.Event {
	m := e.Msg
	ev := maildiag.Event{Type: e.Type, Recipient: m.Recipient, RecipientDomain: m.RecipientDomain,
		Provider: m.Provider, MessageID: m.ID, SendingIP: m.SendingIP}
	if st := e.Status; st != nil {
		ev.Code, ev.EnhancedCode, ev.Reply, ev.Description = st.Code, st.EnhancedCode, st.Message, st.Description
		ev.Reason, ev.Severity, ev.MXHost, ev.DelayedBounce = st.Reason, st.Severity, st.MXHost, st.DelayedBounce
	}
	if r := e.Reject; r != nil {
		ev.Reason, ev.Description = r.Reason, r.Description
	}
	return ev
}

func TestClassifySynthAccount(t *testing.T) {
	cfg := synth.Config{Seed: 7, Events: 20_000, End: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)}
	byMsg := make(map[string][]maildiag.Event) // failed and rejected events by message id
	var failures int
	classes := make(map[string]int)
	res, err := synth.Generate(context.Background(), cfg, func(e *synth.Event) error {
		if e.Type != synth.Failed && e.Type != synth.Rejected {
			return nil
		}
		ev := eventOf(e)
		Derive(&ev)
		failures++
		classes[ev.Class]++
		byMsg[ev.MessageID] = append(byMsg[ev.MessageID], ev)
		checkSensible(t, &ev)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	st := res.Stories

	// Nobody at acme.com gets our mail: Mimecast refuses by policy.
	db := st.DomainBlock
	if db.Gateway != "Mimecast" {
		t.Errorf("domain block story: synth says gateway %q", db.Gateway)
	}
	n := expectStory(t, "acme.com block", byMsg, db.Blocked, func(ev *maildiag.Event) (string, string) {
		return maildiag.ClassPolicyBlock, "Mimecast"
	})
	if n != len(db.Addresses) {
		t.Errorf("acme.com block: %d failures classified, want one per address (%d)", n, len(db.Addresses))
	}
	expectStory(t, "acme.com drops", byMsg, db.Dropped, func(*maildiag.Event) (string, string) {
		return maildiag.ClassSuppressedBounce, ""
	})

	// contoso.com's Microsoft 365 tenant defers one IP, then blocks it.
	ib := st.IPBlock
	var deferred, blocked int
	expectStory(t, "contoso.com IP block", byMsg, ib.Messages, func(ev *maildiag.Event) (string, string) {
		if ev.Severity == "temporary" {
			deferred++
			return maildiag.ClassRateLimited, "Microsoft 365"
		}
		blocked++
		return maildiag.ClassBlocklisted, "Microsoft 365"
	})
	if deferred == 0 || blocked == 0 || deferred != ib.Deferrals || blocked != ib.Blocks {
		t.Errorf("contoso.com IP block: %d deferrals and %d blocks classified, story has %d and %d", deferred, blocked, ib.Deferrals, ib.Blocks)
	}

	// Gmail rate-limits a campaign for a few hours.
	if n := expectStory(t, "Gmail 4.7.28 wave", byMsg, st.RateLimit.Messages, func(*maildiag.Event) (string, string) {
		return maildiag.ClassRateLimited, "Gmail"
	}); n == 0 {
		t.Error("Gmail 4.7.28 wave: no deferrals")
	}

	// gmial.com has no MX: 498 on every attempt, then 602 too old.
	var noMX, expired int
	expectStory(t, "gmial.com typo", byMsg, st.TypoDomain.Messages, func(ev *maildiag.Event) (string, string) {
		if ev.Code == 602 {
			expired++
			return maildiag.ClassExpired, ""
		}
		noMX++
		return maildiag.ClassDomainNotFound, ""
	})
	if noMX == 0 || expired != len(st.TypoDomain.Messages) {
		t.Errorf("gmial.com typo: %d no-MX failures and %d expiries, want some and %d", noMX, expired, len(st.TypoDomain.Messages))
	}

	// john_smith@initech.com does not exist; john.smith@ does.
	la := st.Lookalike
	if n := expectStory(t, "john_smith@initech.com", byMsg, []synth.StoryMessage{la.Bounce}, func(*maildiag.Event) (string, string) {
		return maildiag.ClassUserUnknown, "Google"
	}); n != 1 {
		t.Errorf("john_smith@initech.com: %d failures, want the one bounce", n)
	}
	expectStory(t, "john_smith@initech.com drops", byMsg, la.Dropped, func(*maildiag.Event) (string, string) {
		return maildiag.ClassSuppressedBounce, ""
	})

	// Complainers are dropped later.
	expectStory(t, "complaint drops", byMsg, st.Complaints.Dropped, func(*maildiag.Event) (string, string) {
		return maildiag.ClassSuppressedComplaint, ""
	})

	for _, c := range []string{maildiag.ClassSuppressedUnsubscribe, maildiag.ClassSuppressedBounce, maildiag.ClassUserUnknown,
		maildiag.ClassRejectedByMailgun, maildiag.ClassGreylisted, maildiag.ClassDelayedBounce} {
		if classes[c] == 0 {
			t.Errorf("no generated failure classified %s", c)
		}
	}
	if failures < 500 {
		t.Fatalf("only %d failures generated", failures)
	}
	if other := classes[maildiag.ClassOther]; other*50 >= failures {
		t.Errorf("%d of %d generated failures classified other, want under 2%%", other, failures)
	}
	t.Logf("%d failures: %v", failures, classes)
}

// expectStory checks the failures of a story's messages against want,
// which returns the class and gateway ("" for any) each should have, and
// returns how many it checked.
func expectStory(t *testing.T, story string, byMsg map[string][]maildiag.Event, msgs []synth.StoryMessage,
	want func(*maildiag.Event) (class, gateway string)) int {
	t.Helper()
	n := 0
	for _, m := range msgs {
		for i := range byMsg[m.MessageID] {
			ev := &byMsg[m.MessageID][i]
			class, gw := want(ev)
			if ev.Class != class || gw != "" && ev.Gateway != gw {
				t.Errorf("%s: %s %d %q: got %s by rule %s at %q, want %s at %q",
					story, ev.Recipient, ev.Code, ev.Reply, ev.Class, ev.Rule, ev.Gateway, class, gw)
			}
			n++
		}
	}
	if len(msgs) == 0 {
		t.Errorf("%s: the story has no messages", story)
	}
	return n
}

// checkSensible holds every generated failure to what Mailgun's own
// fields already say.
func checkSensible(t *testing.T, ev *maildiag.Event) {
	t.Helper()
	ok := true
	switch {
	case ev.Type == maildiag.Rejected:
		ok = ev.Class == maildiag.ClassRejectedByMailgun || ev.Class == maildiag.ClassMessageTooLarge
	case ev.DelayedBounce:
		ok = ev.Class == maildiag.ClassDelayedBounce
	case ev.Reason == "suppress-bounce":
		ok = ev.Class == maildiag.ClassSuppressedBounce
	case ev.Reason == "suppress-unsubscribe":
		ok = ev.Class == maildiag.ClassSuppressedUnsubscribe
	case ev.Reason == "suppress-complaint":
		ok = ev.Class == maildiag.ClassSuppressedComplaint
	case ev.Reason == "old":
		ok = ev.Class == maildiag.ClassExpired
	case ev.Code == 498:
		ok = ev.Class == maildiag.ClassDomainNotFound
	case ev.Code == 499 || ev.Code == 680:
		ok = ev.Class == maildiag.ClassConnection
	case ev.Reason == "greylisted":
		ok = ev.Class == maildiag.ClassGreylisted
	case ev.Reason == "blacklisted":
		ok = ev.Class == maildiag.ClassBlocklisted
	case ev.Reason == "espblock":
		ok = ev.Class == maildiag.ClassPolicyBlock || ev.Class == maildiag.ClassSpamContent
	case ev.Reason == "bounce":
		// Hard bounces: the address, or a gateway refusing by policy.
		ok = ev.Class == maildiag.ClassUserUnknown || ev.Class == maildiag.ClassMailboxDisabled || ev.Class == maildiag.ClassPolicyBlock
	case ev.Severity == "temporary":
		info, _ := maildiag.ClassOf(ev.Class)
		ok = !info.Hard && ev.Class != maildiag.ClassOther
	}
	if !ok {
		t.Errorf("%s %s %s %d %q: classified %s by rule %s", ev.Type, ev.Severity, ev.Reason, ev.Code, ev.Reply, ev.Class, ev.Rule)
	}
}

// BenchmarkClassifySynth classifies the failures of a generated account:
// the mix of suppressions, deferrals and bounces an import sees.
func BenchmarkClassifySynth(b *testing.B) {
	cfg := synth.Config{Seed: 7, Events: 20_000, End: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)}
	var evs []maildiag.Event
	if _, err := synth.Generate(context.Background(), cfg, func(e *synth.Event) error {
		if e.Type == synth.Failed || e.Type == synth.Rejected {
			evs = append(evs, eventOf(e))
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		classifyEvent(&evs[i%len(evs)])
	}
}
