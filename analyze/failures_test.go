package analyze_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/analyze"
	"github.com/maildiag/maildiag/internal/testkit"
)

// Breakdowns as support engineers ask for them, and the answers as a
// golden file.
func TestFailuresBreakdowns(t *testing.T) {
	db, s := store(t)
	end := storyAccount.End
	ctx := context.Background()
	pattern := func(p string) *analyze.Pattern {
		x, err := analyze.ParsePattern(p)
		if err != nil {
			t.Fatal(err)
		}
		return &x
	}
	week := end.Add(-7 * 24 * time.Hour)
	cases := []struct {
		name string
		q    analyze.FailureQuery
	}{
		{"by class", analyze.FailureQuery{}},
		{"550 to gmail", analyze.FailureQuery{Codes: []int{550}, To: pattern("*@gmail.com")}},
		{"a week by day and class", analyze.FailureQuery{Since: week, By: []string{analyze.ByDay, analyze.ByClass}}},
		{"rate limiting by hour", analyze.FailureQuery{Enhanced: []string{"4.7.28"}, To: pattern("*@" + s.RateLimit.RecipientDomain),
			By: []string{analyze.ByHour}}},
		{"blocks by domain and gateway", analyze.FailureQuery{Classes: []string{maildiag.ClassPolicyBlock, maildiag.ClassBlocklisted},
			By: []string{analyze.ByDomain, analyze.ByGateway}, Top: 5}},
		{"by sending domain and severity", analyze.FailureQuery{By: []string{analyze.BySendingDomain, analyze.BySeverity}}},
		{"by provider, code and enhanced code", analyze.FailureQuery{Providers: []string{"gmail"}, Severities: []string{maildiag.SeverityPermanent},
			By: []string{analyze.ByProvider, analyze.ByCode, analyze.ByEnhanced}}},
		{"one address", analyze.FailureQuery{To: pattern(s.Lookalike.BouncedAddress)}},
		{"a subject", analyze.FailureQuery{Subject: "confirm", SendingDomains: []string{s.TypoDomain.SendingDomain}}},
		{"nothing", analyze.FailureQuery{Codes: []int{299}}},
		{"no such domain", analyze.FailureQuery{To: pattern("*@nowhere.example")}},
		{"by tag", analyze.FailureQuery{By: []string{analyze.ByTag}}},
	}
	type answer struct {
		Case   string                  `json:"case"`
		Result *analyze.FailuresResult `json:"result"`
	}
	var all []answer
	for _, c := range cases {
		res, err := analyze.Failures(ctx, db, c.q)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		sum := res.Other
		for _, g := range res.Groups {
			sum += g.Failures
			if g.Failures > 0 && g.Sample.Time.IsZero() {
				t.Errorf("%s: group %v without a sample", c.name, g.Key)
			}
		}
		if sum != res.Failures {
			t.Errorf("%s: groups sum to %d, total %d", c.name, sum, res.Failures)
		}
		all = append(all, answer{c.name, res})
	}
	if r := all[1].Result; r.Failures == 0 || r.Groups[0].Key[0] != maildiag.ClassUserUnknown && r.Groups[0].Key[0] != maildiag.ClassBlocklisted {
		t.Errorf("550 to gmail: %+v", r.Groups)
	}
	if r := all[9].Result; r.Failures != 0 || len(r.Groups) != 0 {
		t.Errorf("code 299: %+v", r)
	}
	if r := all[11].Result; len(r.Groups) < 2 || r.Groups[0].Key[0] == "-" || r.Failures != all[0].Result.Failures {
		t.Errorf("by tag: %d failures (by class: %d) in groups %+v", r.Failures, all[0].Result.Failures, r.Groups)
	}
	// --by hour fills the deliveries from the hourly counts: every hour's
	// own, summing to all of them (the daily counts' total).
	byHour, err := analyze.Failures(ctx, db, analyze.FailureQuery{By: []string{analyze.ByHour}})
	if err != nil {
		t.Fatal(err)
	}
	var hourly int64
	for _, g := range byHour.Groups {
		if g.Deliveries < 0 || g.FailureRate < 0 {
			t.Fatalf("by hour: group %v has deliveries %d, rate %v", g.Key, g.Deliveries, g.FailureRate)
		}
		hourly += g.Deliveries
	}
	if all[0].Result.Deliveries <= 0 || byHour.Deliveries != all[0].Result.Deliveries || hourly > byHour.Deliveries {
		t.Errorf("by hour: %d deliveries in all, %d in the hours with failures; by class: %d", byHour.Deliveries, hourly, all[0].Result.Deliveries)
	}
	for _, g := range all[3].Result.Groups {
		if g.Deliveries < 0 {
			t.Errorf("rate limiting by hour: group %v without deliveries", g.Key)
		}
	}
	if _, err := analyze.Failures(ctx, db, analyze.FailureQuery{By: []string{"colour"}}); err == nil {
		t.Error("by an unknown dimension: no error")
	}
	testkit.GoldenJSON(t, filepath.Join("testdata", "golden", "failures.json"), all)
}
