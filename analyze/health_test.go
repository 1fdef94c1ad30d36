package analyze_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/maildiag/maildiag/analyze"
	"github.com/maildiag/maildiag/internal/testkit"
	"github.com/maildiag/maildiag/synth"
)

// TestHealthGolden pins the health result's JSON, the contract `maildiag
// report --output json` prints, on a generated account with a fixed clock:
// a week of the whole account, and the two days of one customer domain's
// block (hourly buckets, counts by recipient domain).
func TestHealthGolden(t *testing.T) {
	db, _ := testkit.StoryIndex(t, storyAccount)
	end := storyAccount.End
	acme, err := analyze.ParsePattern("*@acme.com")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		golden string
		q      analyze.HealthQuery
		check  func(t *testing.T, r *analyze.HealthResult)
	}{
		{"health.json", analyze.HealthQuery{Since: end.Add(-7 * 24 * time.Hour), Now: end}, func(t *testing.T, r *analyze.HealthResult) {
			if len(r.Blocks) != 1 || r.Blocks[0].Domain != "acme.com" || r.Blocks[0].Gateway != "Mimecast" {
				t.Errorf("blocks %+v, want the planted acme.com block behind Mimecast", r.Blocks)
			}
			if len(r.Typos) != 1 || r.Typos[0].Domain != "gmial.com" || r.Typos[0].Suggested != "gmail.com" {
				t.Errorf("typos %+v, want gmial.com for gmail.com", r.Typos)
			}
			// A main class counts final failures only, so it fits in them.
			for _, d := range r.Domains {
				if d.Class != "" && (d.ClassCount == 0 || d.ClassCount > d.Failures) {
					t.Errorf("domain %s: main class %s of %d, %d failures", d.Domain, d.Class, d.ClassCount, d.Failures)
				}
			}
			for _, p := range r.Providers {
				if p.Class != "" && (p.ClassCount == 0 || p.ClassCount > p.Failures) || p.DeferralClassCount > p.Deferrals {
					t.Errorf("provider %s: main class %s of %d with %d failures, deferral class of %d with %d deferrals",
						p.Provider, p.Class, p.ClassCount, p.Failures, p.DeferralClassCount, p.Deferrals)
				}
			}
			for _, c := range r.TopClasses {
				if c.Final+c.Deferrals != c.Count {
					t.Errorf("class %s: %d final + %d deferrals != %d", c.Class, c.Final, c.Deferrals, c.Count)
				}
			}
			if r.PreviousTotals == nil || r.Hourly || len(r.Volume) != 7 {
				t.Errorf("previous %v, hourly %v, %d buckets: want a comparison and 7 days", r.PreviousTotals, r.Hourly, len(r.Volume))
			}
		}},
		{"health-acme-48h.json", analyze.HealthQuery{Since: end.Add(-5 * 24 * time.Hour), Until: end.Add(-3 * 24 * time.Hour), Now: end, To: &acme}, func(t *testing.T, r *analyze.HealthResult) {
			if !r.Hourly || len(r.Volume) != 48 || r.Filters.To != "*@acme.com" {
				t.Errorf("hourly %v, %d buckets, filter %q: want 48 hours of acme.com", r.Hourly, len(r.Volume), r.Filters.To)
			}
			if len(r.Blocks) != 1 || r.Blocks[0].Domain != "acme.com" || r.Totals.Accepted == 0 {
				t.Errorf("blocks %+v, %d accepted: want the acme.com block", r.Blocks, r.Totals.Accepted)
			}
			for _, d := range r.Domains {
				if d.Domain != "acme.com" {
					t.Errorf("domain row %s in a report on acme.com", d.Domain)
				}
			}
		}},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			var last float64
			r, err := analyze.Health(context.Background(), db, tc.q, func(done float64) { last = done })
			if err != nil {
				t.Fatal(err)
			}
			if last != 1 {
				t.Errorf("progress ended at %v, want 1", last)
			}
			tc.check(t, r)
			testkit.GoldenJSON(t, filepath.Join("testdata", "golden", tc.golden), r)
		})
	}
	t.Run("a week of one domain", func(t *testing.T) {
		r, err := analyze.Health(context.Background(), db, analyze.HealthQuery{Since: end.Add(-7 * 24 * time.Hour), Now: end, To: &acme}, nil)
		if err != nil {
			t.Fatal(err)
		}
		// The daily totals and the domain's row are counted apart.
		if r.Hourly || len(r.Domains) != 1 || r.Domains[0].Accepted != r.Totals.Accepted || r.Domains[0].Failures != r.Totals.FailedPermanent+r.Totals.Suppressed {
			t.Errorf("hourly %v, rows %+v, totals %+v: want one acme.com row that agrees with the totals", r.Hourly, r.Domains, r.Totals)
		}
		if r.Totals.Accepted == 0 || len(r.Blocks) != 1 {
			t.Errorf("%d accepted, %d blocks: want the week of the acme.com block", r.Totals.Accepted, len(r.Blocks))
		}
		// The delays are acme.com's own, exact: every delivery measured,
		// through its one gateway.
		var measured int64
		for _, d := range r.Delays {
			measured += d.Messages
			if d.Provider != "Mimecast" || !d.Exact || d.P50 <= 0 || d.P50 > d.P90 || d.P90 > d.P99 {
				t.Errorf("delay row %+v: want Mimecast's exact percentiles", d)
			}
		}
		if measured != r.Totals.Delivered || measured == 0 {
			t.Errorf("%d deliveries measured, %d delivered to acme.com", measured, r.Totals.Delivered)
		}
	})
	t.Run("no such domain", func(t *testing.T) {
		p, err := analyze.ParsePattern("*@nowhere.example")
		if err != nil {
			t.Fatal(err)
		}
		r, err := analyze.Health(context.Background(), db, analyze.HealthQuery{Since: end.Add(-7 * 24 * time.Hour), Now: end, To: &p}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if r.Title == "" || r.Filters.To != "*@nowhere.example" || r.Totals.Accepted != 0 || len(r.Domains) != 0 || r.Domains == nil || r.Alerts == nil {
			t.Errorf("got title %q, filter %q, %d accepted, domains %v, alerts %v: want a header and empty lists", r.Title, r.Filters.To, r.Totals.Accepted, r.Domains, r.Alerts)
		}
		if !r.NoEvents || r.IndexCovers == nil || !strings.Contains(r.Note, "No events to *@nowhere.example in this period (the index covers ") {
			t.Errorf("no events %v, covers %v, note %q", r.NoEvents, r.IndexCovers, r.Note)
		}
	})
	t.Run("before the index", func(t *testing.T) {
		r, err := analyze.Health(context.Background(), db, analyze.HealthQuery{Since: end.AddDate(-2, 0, 0), Until: end.AddDate(-2, 0, 7), Now: end}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !r.NoEvents || !strings.HasPrefix(r.Note, "No events in this period (the index covers ") || len(r.Alerts) != 0 {
			t.Errorf("no events %v, note %q, %d alerts", r.NoEvents, r.Note, len(r.Alerts))
		}
		week, err := analyze.Health(context.Background(), db, analyze.HealthQuery{Since: end.Add(-7 * 24 * time.Hour), Now: end}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if week.NoEvents || week.Note != "" {
			t.Errorf("a week of events: no events %v, note %q", week.NoEvents, week.Note)
		}
	})
	t.Run("rates never above 100%", func(t *testing.T) {
		// Short windows deliver messages accepted before them.
		for _, length := range []time.Duration{time.Hour, 3 * time.Hour, 24 * time.Hour} {
			for since := end.Add(-5 * 24 * time.Hour); since.Before(end.Add(-length)); since = since.Add(7 * time.Hour) {
				r, err := analyze.Health(context.Background(), db, analyze.HealthQuery{Since: since, Until: since.Add(length), Now: end}, nil)
				if err != nil {
					t.Fatal(err)
				}
				if r.Totals.DeliveryRate > 1 {
					t.Fatalf("%s + %s: delivery rate %v", since, length, r.Totals.DeliveryRate)
				}
				for _, v := range r.Volume {
					if v.DeliveryRate > 1 {
						t.Fatalf("%s: bucket %s delivery rate %v", since, v.Start, v.DeliveryRate)
					}
				}
				for _, x := range r.Rates {
					if x.Rate > 1 || x.Previous != nil && *x.Previous > 1 || x.Count > x.Of {
						t.Fatalf("%s + %s: %s rate %v (%d of %d)", since, length, x.Name, x.Rate, x.Count, x.Of)
					}
				}
				if len(r.Rates) != 5 {
					t.Fatalf("%d rates, want 5", len(r.Rates))
				}
			}
		}
	})
	t.Run("bad period", func(t *testing.T) {
		if _, err := analyze.Health(context.Background(), db, analyze.HealthQuery{Since: end, Until: end, Now: end}, nil); err == nil {
			t.Error("an empty period was accepted")
		}
	})
}

// TestHealthFromEvents reports on an index of events alone: the new
// suppressions are derived from first hard bounces, with their replies,
// and two weeks reach back to the planted lookalike's bounce.
func TestHealthFromEvents(t *testing.T) {
	cfg := synth.Config{Seed: 5, Events: 12_000, End: storyAccount.End}
	db, acct := testkit.EventIndex(t, cfg)
	r, err := analyze.Health(context.Background(), db, analyze.HealthQuery{Since: cfg.End.Add(-14 * 24 * time.Hour), Now: cfg.End}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Suppressed) == 0 || len(r.SuppressionDays) == 0 {
		t.Fatalf("%d new suppressions over %d days, want some derived from bounces", len(r.Suppressed), len(r.SuppressionDays))
	}
	var bounces int64
	for _, d := range r.SuppressionDays {
		bounces += d.Bounces
	}
	if bounces != int64(len(r.Suppressed)+r.SuppressedNotShown) {
		t.Errorf("%d bounces by day, %d addresses listed and %d not shown", bounces, len(r.Suppressed), r.SuppressedNotShown)
	}
	for _, s := range r.Suppressed {
		if s.List != "bounces" || s.Code == "" || s.Reason == "" || s.Address == "" {
			t.Fatalf("derived suppression %+v, want a bounce with its address, code and reply", s)
		}
	}
	la := acct.Stories.Lookalike
	found := false
	for _, l := range r.Lookalikes {
		if l.Failing == la.BouncedAddress && l.Receiving == la.DeliveredAddress {
			found = l.Failures >= 1 && l.Delivered >= 1 && l.Code == "User unknown" && l.Edits == 1
		}
	}
	if !found {
		t.Errorf("lookalikes %+v, want %s next to %s", r.Lookalikes, la.BouncedAddress, la.DeliveredAddress)
	}
}
