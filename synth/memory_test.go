package synth

import (
	"context"
	"runtime"
	"testing"
)

// TestMemoryBoundedByWindow generates two accounts with the same traffic
// per day, one four times longer: the reorder window must not grow with
// the number of events, and the live heap must stay small.
func TestMemoryBoundedByWindow(t *testing.T) {
	if testing.Short() {
		t.Skip("generates 1.25M events")
	}
	run := func(events, days int, sample bool) (pending int, peak uint64) {
		n := 0
		res, err := generate(context.Background(), Config{Seed: 8, Events: events, Days: days, End: testEnd}, func(*Event) error {
			n++
			if sample && n%250_000 == 0 {
				runtime.GC()
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapAlloc)
			}
			return nil
		}, true)
		if err != nil {
			t.Fatal(err)
		}
		return res.MaxPending, peak
	}
	short, _ := run(250_000, 15, false)
	long, peak := run(1_000_000, 60, true)
	t.Logf("max pending events: %d for 250k events, %d for 1M; peak live heap %d MB", short, long, peak>>20)
	if long > short*3/2 || long > 20_000 {
		t.Errorf("reorder window grew from %d to %d events with 4x the events at the same rate", short, long)
	}
	if peak > 100<<20 {
		t.Errorf("live heap reached %d MB at 1M events", peak>>20)
	}
}
