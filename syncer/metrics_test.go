package syncer_test

import (
	"context"
	"testing"
	"time"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/index"
	"github.com/maildiag/maildiag/internal/mgtest"
	"github.com/maildiag/maildiag/mgserver"
)

// A pass with Metrics stores each domain's daily and hourly counts, and
// they are the account's events counted by day and hour.
func TestSyncMetrics(t *testing.T) {
	d0, d1 := mgtest.Domains[0], mgtest.Domains[1]
	s := mgtest.New(t, mgtest.Config(3000, d0, d1), mgserver.Options{})
	path := tempDB(t)
	o := options()
	o.NoSuppressions, o.Metrics = true, true
	sum := mustPass(t, s, path, s.Res.End, o)
	for _, d := range sum.Domains {
		// A year of days and 60 days of hours, up to the clock.
		if want := 366 + 60*24; d.MetricPeriods < want-2 || d.MetricPeriods > want+2 {
			t.Errorf("%s: %d metric periods, want about %d", d.Domain, d.MetricPeriods, want)
		}
	}
	db, err := index.OpenReadOnly(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, dom := range []string{d0, d1} {
		days := map[int64][2]int64{}
		hours := map[int64]int64{}
		for _, e := range s.Acct.Events(dom) {
			day := e.When().Truncate(24 * time.Hour).UnixMicro()
			c := days[day]
			switch {
			case e.Type == "accepted":
				c[0]++
				hours[e.When().Truncate(time.Hour).UnixMicro()]++
			case e.Type == "failed" && e.Severity == "permanent":
				c[1]++
			}
			days[day] = c
		}
		got, err := db.Metrics(context.Background(), maildiag.ResolutionDay, []string{dom}, 0, s.Res.End.Add(48*time.Hour).UnixMicro())
		if err != nil {
			t.Fatal(err)
		}
		nonzero := 0
		for _, m := range got {
			if m.SendingDomain != dom {
				t.Fatalf("metric of %s asked for %s", m.SendingDomain, dom)
			}
			if m.Accepted == 0 && m.PermanentFailed == 0 {
				continue
			}
			nonzero++
			if w := days[m.StartUS]; m.Accepted != w[0] || m.PermanentFailed != w[1] {
				t.Errorf("%s %s: accepted %d, permanent failures %d; want %d, %d", dom, time.UnixMicro(m.StartUS).UTC(), m.Accepted, m.PermanentFailed, w[0], w[1])
			}
		}
		if nonzero != len(days) {
			t.Errorf("%s: %d days with mail stored, want %d", dom, nonzero, len(days))
		}
		hourly, err := db.Metrics(context.Background(), maildiag.ResolutionHour, []string{dom}, 0, s.Res.End.Add(48*time.Hour).UnixMicro())
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range hourly {
			if m.Accepted != hours[m.StartUS] {
				t.Errorf("%s hour %s: accepted %d, want %d", dom, time.UnixMicro(m.StartUS).UTC(), m.Accepted, hours[m.StartUS])
			}
		}
	}
	// Metrics refused for the account: a warning for each domain.
	if err := s.Srv.SetFaults(mgserver.Faults{Refuse: []mgserver.Refusal{{Path: "/v1/analytics/metrics", Status: 403}}}); err != nil {
		t.Fatal(err)
	}
	sum = mustPass(t, s, tempDB(t), s.Res.End, o)
	if len(sum.Warnings) != 2 || sum.Warnings[0].List != "metrics" || sum.Warnings[0].Status != 403 {
		t.Errorf("metrics refused: warnings %+v, want one per domain", sum.Warnings)
	}
}
