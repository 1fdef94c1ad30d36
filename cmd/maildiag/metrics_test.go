package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/maildiag/maildiag/analyze"
	"github.com/maildiag/maildiag/internal/mgtest"
	"github.com/maildiag/maildiag/mgserver"
)

// sync --metrics over an index that holds only the last two days: the
// report of the week takes the five days before the index's first event
// from Mailgun's metrics, marked as such, and their counts are the
// account's.
func TestReportMetricsHistory(t *testing.T) {
	d0 := mgtest.Domains[0]
	cfg := mgtest.Config(8000, d0)
	cfg.Days = 14 // the week reported and the week before
	s := mgtest.New(t, cfg, mgserver.Options{})
	db := tempDB(t)
	code, sum, errs := syncCmd(t, s, db, s.Res.End, "--since", "2d", "--metrics", "--no-suppressions")
	if code != 0 || sum == nil || sum.Domains[0].MetricPeriods == 0 {
		t.Fatalf("sync --metrics: exit %d, stderr %q, summary %+v", code, errs, sum)
	}
	since := s.Res.End.Add(-7 * 24 * time.Hour)
	html := filepath.Join(t.TempDir(), "week.html")
	code, out, errs := run(t, "", "--db", db, "--now", s.Res.End.Format(time.RFC3339), "--output", "json",
		"report", "--since", since.Format(time.RFC3339), "-o", html)
	var res analyze.HealthResult
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil {
		t.Fatalf("report: exit %d, stderr %q", code, errs)
	}
	accepted := map[time.Time]int64{}
	for _, e := range s.Acct.Events(d0) {
		if e.Type == "accepted" {
			accepted[e.When().Truncate(24*time.Hour)]++
		}
	}
	if len(res.MetricsHistory) < 4 || len(res.MetricsHistory) > 6 {
		t.Fatalf("metrics history of %d days, want the 5 or so before the index's first event: %+v", len(res.MetricsHistory), res.MetricsHistory)
	}
	for i, b := range res.MetricsHistory {
		if b.Accepted != accepted[b.Start] || b.Accepted == 0 {
			t.Errorf("history %s: %d accepted, want %d", b.Start, b.Accepted, accepted[b.Start])
		}
		// Those days are before the index's first event: nothing there.
		if v := res.Volume[i]; !v.Start.Equal(b.Start) || v.Accepted != 0 {
			t.Errorf("volume %s: %d accepted, want the index empty on history day %s", v.Start, v.Accepted, b.Start)
		}
		if b.DeliveryRate <= 0 || b.DeliveryRate > 1.01 {
			t.Errorf("history %s: delivery rate %v", b.Start, b.DeliveryRate)
		}
	}
	// The week before lies wholly before the index: its counts, for the
	// comparison, are Mailgun's, hour by hour as the index would count
	// them, and marked.
	prev := since.Add(-7 * 24 * time.Hour)
	first, last := prev.Truncate(time.Hour), since.Truncate(time.Hour)
	if first.Before(prev) {
		first = first.Add(time.Hour)
	}
	var want analyze.Totals
	for _, e := range s.Acct.Events(d0) {
		if w := e.When(); w.Before(first) || !w.Before(last) {
			continue
		}
		switch e.Type {
		case "accepted":
			want.Accepted++
		case "delivered":
			want.Delivered++
		}
	}
	if !res.PreviousFromMetrics || res.PreviousTotals == nil || want.Accepted == 0 ||
		res.PreviousTotals.Accepted != want.Accepted || res.PreviousTotals.Delivered != want.Delivered {
		t.Errorf("previous period from metrics %v: %+v, want %d accepted and %d delivered", res.PreviousFromMetrics, res.PreviousTotals, want.Accepted, want.Delivered)
	}
	for _, r := range res.Rates {
		if r.Previous == nil {
			t.Errorf("rate %s has no previous value", r.Name)
		}
	}
	// Narrowed to recipients, metrics (which have none) compare nothing.
	_, out, _ = run(t, "", "--db", db, "--now", s.Res.End.Format(time.RFC3339), "--output", "json",
		"report", "--since", since.Format(time.RFC3339), "--to", "*@"+s.Acct.Events(d0)[0].Recipient[strings.LastIndex(s.Acct.Events(d0)[0].Recipient, "@")+1:])
	if strings.Contains(out, "previous_totals") || strings.Contains(out, "previous_from_metrics") {
		t.Error("a report narrowed to recipients compares with metrics")
	}
	page, err := os.ReadFile(html)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Accepted (Mailgun metrics)", "Delivery rate (Mailgun metrics)", `class="metrics-note"`, " (Mailgun metrics)</td>",
		"from Mailgun&#39;s metrics (sync --metrics)", `<div class="prev">previous `} {
		if !strings.Contains(string(page), want) {
			t.Errorf("the report page lacks %q", want)
		}
	}
	// Without metrics the week's report has no history.
	plain := tempDB(t)
	if code, _, errs := syncCmd(t, s, plain, s.Res.End, "--since", "2d", "--no-suppressions"); code != 0 {
		t.Fatal(errs)
	}
	_, out, _ = run(t, "", "--db", plain, "--now", s.Res.End.Format(time.RFC3339), "--output", "json", "report", "--since", since.Format(time.RFC3339))
	if strings.Contains(out, "metrics_history") || strings.Contains(out, "previous_totals") {
		t.Error("a report without synced metrics has a metrics history or a previous period")
	}
}
