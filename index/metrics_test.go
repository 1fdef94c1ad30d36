package index

import (
	"context"
	"testing"

	"github.com/maildiag/maildiag"
)

func TestMetricsStoreReplaces(t *testing.T) {
	ctx := context.Background()
	db, _ := mustOpen(t)
	w := mustWriter(t, db)
	day := int64(86400_000_000)
	m := func(d string, res string, start, accepted int64) maildiag.Metric {
		return maildiag.Metric{SendingDomain: d, Resolution: res, StartUS: start, Accepted: accepted, Delivered: accepted - 1, HardBounces: 1}
	}
	if err := w.AddMetrics(ctx, []maildiag.Metric{m("a.com", "day", 0, 10), m("a.com", "day", day, 20), m("b.com", "day", day, 5), m("a.com", "hour", 0, 3)}, 1); err != nil {
		t.Fatal(err)
	}
	// A period read again (it was still running) replaces the first read.
	if err := w.AddMetrics(ctx, []maildiag.Metric{m("a.com", "day", day, 25)}, 2); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := db.Metrics(ctx, "day", nil, 0, 2*day)
	if err != nil {
		t.Fatal(err)
	}
	want := []maildiag.Metric{m("a.com", "day", 0, 10), m("a.com", "day", day, 25), m("b.com", "day", day, 5)}
	if len(got) != len(want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("row %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	if got, _ := db.Metrics(ctx, "day", []string{"b.com"}, 0, 2*day); len(got) != 1 || got[0].Accepted != 5 {
		t.Errorf("b.com only: %+v", got)
	}
	if got, _ := db.Metrics(ctx, "hour", nil, 0, day); len(got) != 1 || got[0].Accepted != 3 {
		t.Errorf("hourly: %+v", got)
	}
	if err := w.AddMetrics(ctx, []maildiag.Metric{m("a.com", "week", 0, 1)}, 3); err == nil {
		t.Error("a week resolution was stored")
	}
}
