package index

import "testing"

func TestEarlyFinalsBounded(t *testing.T) {
	// Looks scan the waiting finals, or the index built up front, or the
	// index built once looks have scanned their budget.
	for _, mode := range []string{"scan", "indexed", "built"} {
		var f inFlight
		f.init()
		f.indexed = mode == "indexed"
		n := earlyLimit + 1000
		for i := range n {
			f.wait(flightKey{int64(i + 1), 1}, earlyFinal{ts: int64(i)})
		}
		if len(f.waitKeys) != earlyLimit {
			t.Fatalf("%s: %d finals waiting after %d, want the bound %d", mode, len(f.waitKeys), n, earlyLimit)
		}
		if mode == "built" {
			for looks := 0; !f.indexed; looks++ {
				if looks > scanBudget*2 {
					t.Fatalf("%s: not indexed after %d looks", mode, looks)
				}
				if _, ok := f.takeEarly(flightKey{-1, -1}); ok {
					t.Fatalf("%s: a final that never waited found", mode)
				}
			}
		}
		// The oldest were dropped, the newest kept.
		if _, ok := f.takeEarly(flightKey{1, 1}); ok {
			t.Errorf("%s: the first final still waits", mode)
		}
		if f.indexed && len(f.early) != earlyLimit {
			t.Errorf("%s: %d finals indexed, want %d", mode, len(f.early), earlyLimit)
		}
		if e, ok := f.takeEarly(flightKey{int64(n), 1}); !ok || e.ts != int64(n-1) {
			t.Errorf("%s: the last final: %+v, %v; want it waiting", mode, e, ok)
		}
		if _, ok := f.takeEarly(flightKey{int64(n), 1}); ok {
			t.Errorf("%s: the last final taken twice", mode)
		}
		if e, ok := f.takeEarly(flightKey{int64(n - 5), 1}); !ok || e.ts != int64(n-6) {
			t.Errorf("%s: a final in the middle: %+v, %v; want it waiting", mode, e, ok)
		}
		f.forget()
		if len(f.early) != 0 || len(f.waitKeys) != 0 || f.indexed {
			t.Errorf("%s: after forget: %d indexed, ring %d", mode, len(f.early), len(f.waitKeys))
		}
	}
}

func TestEarlyFinalSuperseded(t *testing.T) {
	for _, indexed := range []bool{false, true} {
		var f inFlight
		f.init()
		f.indexed = indexed
		k := flightKey{7, 9}
		f.wait(k, earlyFinal{ts: 1})
		f.wait(flightKey{8, 9}, earlyFinal{ts: 2})
		f.wait(k, earlyFinal{ts: 3})
		// The older slot of k is evicted after the newer one was written: the
		// newer stays.
		for i := range earlyLimit - 1 {
			f.wait(flightKey{int64(100 + i), 1}, earlyFinal{})
		}
		if e, ok := f.takeEarly(k); !ok || e.ts != 3 {
			t.Errorf("indexed %v: got %+v, %v; want the later final (ts 3)", indexed, e, ok)
		}
		if _, ok := f.takeEarly(flightKey{8, 9}); ok {
			t.Errorf("indexed %v: the final evicted first still waits", indexed)
		}
		if _, ok := f.takeEarly(k); ok {
			t.Errorf("indexed %v: a superseded final found after the later one was taken", indexed)
		}
	}
}
