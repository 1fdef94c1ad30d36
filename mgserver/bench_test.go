package mgserver

import (
	"context"
	"fmt"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"

	"github.com/maildiag/maildiag/synth"
)

// BenchmarkFromSynth100k loads a 100,000-event account and reports the
// live heap it keeps.
func BenchmarkFromSynth100k(b *testing.B) {
	cfg := synth.Config{Seed: 1, Events: 100_000, End: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)}
	var heap uint64
	for i := 0; i < b.N; i++ {
		a, _, err := FromSynth(context.Background(), cfg)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		heap = ms.HeapAlloc
		runtime.KeepAlive(a)
		b.StartTimer()
	}
	b.ReportMetric(float64(heap)/(1<<20), "MB-live")
}

// BenchmarkEventsPages pages through one domain of a 20,000-event account,
// 300 events a page, over loopback HTTP.
func BenchmarkEventsPages(b *testing.B) {
	cfg := synth.Config{Seed: 1, Events: 20_000, Days: 14, End: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC), NoStories: true}
	acct, res, err := FromSynth(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	srv, err := New(acct, Options{APIKey: testKey, Now: func() time.Time { return res.End }})
	if err != nil {
		b.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	e := &env{t: b, acct: acct, res: res, srv: srv, hs: hs}
	dom := res.SendingDomains[0]
	u := fmt.Sprintf("/v3/%s/events?begin=%d&ascending=yes&limit=300&pretty=no", dom, res.Start.Unix())
	b.ResetTimer()
	items := 0
	for i := 0; i < b.N; i++ {
		got, _ := e.followEvents(u)
		items += len(got)
	}
	b.ReportMetric(float64(items)/b.Elapsed().Seconds(), "events/s")
}
