package analyze_test

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/maildiag/maildiag/analyze"
	"github.com/maildiag/maildiag/internal/testkit"
)

// The stories' recipients traced in process: the verdicts the stories
// call for, and the whole answers as a golden file.
func TestTraceStories(t *testing.T) {
	db, s := store(t)
	end := storyAccount.End
	ctx := context.Background()
	cases := []struct {
		name, query string
		now         time.Time
		kind        string
	}{
		{"domain block", s.DomainBlock.Addresses[0], end, analyze.TraceSuppressed},
		{"typo domain", s.TypoDomain.Addresses[0], end, analyze.TraceTypoDomain},
		{"lookalike", s.Lookalike.BouncedAddress, end, analyze.TraceUserUnknown},
		{"lookalike that receives", s.Lookalike.DeliveredAddress, end, ""},
		{"confirmation, an hour later", s.NeverOpened.Address, s.NeverOpened.DeliveredAt.Add(time.Hour), analyze.TraceDelivered},
		{"confirmation, days later", s.NeverOpened.Address, s.NeverOpened.DeliveredAt.Add(72 * time.Hour), analyze.TraceLinkExpired},
		{"confirmation by message-id", "<" + s.NeverOpened.MessageID + ">", s.NeverOpened.DeliveredAt.Add(time.Hour), analyze.TraceDelivered},
		{"complaint", s.Complaints.Complaints[0].Address, end, analyze.TraceComplained},
		{"rate limited", s.RateLimit.Messages[0].Recipient, end, ""},
		{"ip block", s.IPBlock.Addresses[0], end, ""},
		{"not found", "nobody@never-mailed.example", end, analyze.TraceNotFound},
		{"typo, never mailed", "someone@gmial.com", end, analyze.TraceNotFound},
		{"no such message", "<no-such-message@mg.example.com>", end, analyze.TraceNotFound},
		{"not an address", "hello world", end, analyze.TraceNoSuchMessage},
	}
	type answer struct {
		Case   string               `json:"case"`
		Result *analyze.TraceResult `json:"result"`
	}
	var all []answer
	for _, c := range cases {
		res, err := analyze.Trace(ctx, db, c.query, analyze.TraceOptions{Now: c.now})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if c.kind != "" && res.Verdict.Kind != c.kind {
			t.Errorf("%s: verdict %s (%s), want %s", c.name, res.Verdict.Kind, res.Verdict.Summary, c.kind)
		}
		if res.Verdict.Summary == "" || res.Verdict.NextStep == "" {
			t.Errorf("%s: verdict without a summary or a next step: %+v", c.name, res.Verdict)
		}
		all = append(all, answer{c.name, res})
	}
	byName := func(name string) *analyze.TraceResult {
		for _, a := range all {
			if a.Case == name {
				return a.Result
			}
		}
		return nil
	}
	if r := byName("typo domain"); r.TypoOf != s.TypoDomain.Intended {
		t.Errorf("typo domain: typo of %q, want %q", r.TypoOf, s.TypoDomain.Intended)
	}
	if r := byName("lookalike"); len(r.Lookalikes) == 0 || r.Lookalikes[0].Address != s.Lookalike.DeliveredAddress {
		t.Errorf("lookalike: %+v, want %s first", r.Lookalikes, s.Lookalike.DeliveredAddress)
	}
	if r := byName("domain block"); len(r.Suppressions) == 0 || !slices.ContainsFunc(r.Suppressions, func(a analyze.SuppressedAddress) bool {
		return a.SendingDomain == s.DomainBlock.SendingDomain && a.Cause != nil && a.Cause.Code == s.DomainBlock.Code
	}) {
		t.Errorf("domain block: suppressions %+v, want one of %s caused by %d", r.Suppressions, s.DomainBlock.SendingDomain, s.DomainBlock.Code)
	}
	if r := byName("confirmation by message-id"); r.MessageID != s.NeverOpened.MessageID || len(r.Messages) != 1 || r.Messages[0].Subject != s.NeverOpened.Subject {
		t.Errorf("by message-id: %s, %d messages", r.MessageID, len(r.Messages))
	}
	for _, a := range all {
		for _, m := range a.Result.Messages {
			for i := 1; i < len(m.Events); i++ {
				if m.Events[i].Time.Before(m.Events[i-1].Time) {
					t.Errorf("%s: message %s: events out of order", a.Case, m.MessageID)
				}
			}
			if m.State == "" || len(m.Events) == 0 {
				t.Errorf("%s: message %s without state or events", a.Case, m.MessageID)
			}
		}
	}
	testkit.GoldenJSON(t, filepath.Join("testdata", "golden", "trace.json"), all)
}
