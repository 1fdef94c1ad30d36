package synth

import (
	"context"
	"slices"
	"strings"
	"testing"
)

// accountShape is what a profile is about: how many addresses and domains
// an account's events reach.
type accountShape struct {
	events, accepted, stories int
	recipients, domains       int
	topDomainShare            float64 // events at the 20 busiest corporate domains, of all corporate events
}

func shapeOf(t *testing.T, cfg Config) accountShape {
	t.Helper()
	var s accountShape
	recips := map[string]bool{}
	corp := map[string]int{}
	free := map[string]bool{}
	for _, f := range freemail {
		free[f.name] = true
	}
	corpEvents := 0
	res, err := Generate(context.Background(), cfg, func(e *Event) error {
		s.events++
		if e.Type == Accepted {
			s.accepted++
		}
		if e.Msg == nil || e.Msg.Recipient == "" {
			return nil
		}
		recips[e.Msg.Recipient] = true
		if d := e.Msg.RecipientDomain; !free[d] {
			corp[d]++
			corpEvents++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Stories != nil {
		s.stories = 1
	}
	s.recipients, s.domains = len(recips), len(corp)
	counts := make([]int, 0, len(corp))
	for _, n := range corp {
		counts = append(counts, n)
	}
	slices.Sort(counts)
	slices.Reverse(counts)
	top := 0
	for _, n := range counts[:min(20, len(counts))] {
		top += n
	}
	s.topDomainShare = float64(top) / float64(corpEvents)
	return s
}

func TestTransactionalProfileShape(t *testing.T) {
	const n = 60_000
	txn := shapeOf(t, Config{Seed: 5, Events: n, End: testEnd, Profile: ProfileTransactional})
	mkt := shapeOf(t, Config{Seed: 5, Events: n, End: testEnd})
	t.Logf("transactional %+v, marketing %+v", txn, mkt)
	perEvent := float64(txn.recipients) / float64(txn.events)
	if perEvent < 0.70 || perEvent > 0.85 {
		t.Errorf("transactional: %d distinct recipients in %d events (%.2f per event), want about 0.75", txn.recipients, txn.events, perEvent)
	}
	if m := float64(mkt.recipients) / float64(mkt.events); m > 0.4 {
		t.Errorf("marketing: %.2f distinct recipients per event, want a customer base mailed again and again (< 0.4)", m)
	}
	// One company domain per 40 events: 1,500 here, 25,000 at 1M events.
	if txn.domains < n/txnEventsPerDomain*8/10 || txn.domains < 2*mkt.domains {
		t.Errorf("transactional: %d company domains (marketing %d), want at least %d and twice marketing's", txn.domains, mkt.domains, n/txnEventsPerDomain*8/10)
	}
	// A long tail: the 20 biggest customers are a small part of the mail.
	if txn.topDomainShare > 0.25 {
		t.Errorf("transactional: the 20 busiest company domains have %.0f%% of company mail, want a long tail (< 25%%)", 100*txn.topDomainShare)
	}
	// Outcomes only: the accepted events are the planted stories' own.
	if txn.accepted > n/200 || mkt.accepted < n/4 {
		t.Errorf("accepted events: transactional %d, marketing %d of %d; want only the stories' in transactional", txn.accepted, mkt.accepted, n)
	}
}

func TestTransactionalProfileDeterministic(t *testing.T) {
	cfg := Config{Seed: 6, Events: 3000, End: testEnd, Profile: ProfileTransactional}
	a, _ := write(t, cfg, Output{Format: FormatEventsJSONL})
	b, _ := write(t, cfg, Output{Format: FormatEventsJSONL})
	if string(a) != string(b) {
		t.Fatal("two transactional runs differ")
	}
	m, _ := write(t, Config{Seed: 6, Events: 3000, End: testEnd}, Output{Format: FormatEventsJSONL})
	if string(a) == string(m) {
		t.Fatal("transactional and marketing gave the same account")
	}
}

func TestParseProfile(t *testing.T) {
	for in, want := range map[string]Profile{"": ProfileMarketing, "marketing": ProfileMarketing, " Transactional ": ProfileTransactional} {
		if got, err := ParseProfile(in); err != nil || got != want {
			t.Errorf("ParseProfile(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	_, err := ParseProfile("bulk")
	if err == nil || !strings.Contains(err.Error(), "marketing, transactional") {
		t.Errorf("ParseProfile(bulk): %v, want an error naming the profiles", err)
	}
	if _, err := (Config{Seed: 1, Profile: "bulk"}).withDefaults(); err == nil {
		t.Error("Config with profile bulk: no error")
	}
}
