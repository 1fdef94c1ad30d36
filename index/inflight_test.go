package index

import "testing"

func TestEarlyFinalsBounded(t *testing.T) {
	var f inFlight
	f.init()
	n := earlyLimit + 1000
	for i := range n {
		f.wait(flightKey{int64(i + 1), 1}, earlyFinal{ts: int64(i)})
	}
	if len(f.early) != earlyLimit {
		t.Fatalf("%d finals waiting after %d, want the bound %d", len(f.early), n, earlyLimit)
	}
	// The oldest were dropped, the newest kept.
	if _, ok := f.early[flightKey{1, 1}]; ok {
		t.Error("the first final still waits")
	}
	if e, ok := f.early[flightKey{int64(n), 1}]; !ok || e.ts != int64(n-1) {
		t.Errorf("the last final: %+v, %v; want it waiting", e, ok)
	}
	f.forget()
	if len(f.early) != 0 || len(f.waiting) != 0 {
		t.Errorf("after forget: %d waiting, ring %d", len(f.early), len(f.waiting))
	}
}
