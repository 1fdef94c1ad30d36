package index

import (
	"context"
	"fmt"
	"runtime/debug"
	"testing"

	"github.com/maildiag/maildiag"
)

// A commit halves the larger cache only when the collector ran often for
// the events stored, with the live heap close to the memory limit.
func TestRelieveHalvesTheLargerCache(t *testing.T) {
	db, _ := mustOpen(t)
	w := mustWriter(t, db)
	ctx := context.Background()
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(100 << 20))
	var live, cycles uint64
	defer func(f func() (uint64, uint64)) { gcStats = f }(gcStats)
	gcStats = func() (uint64, uint64) { return live, cycles }
	w.dict.recips.grow()
	w.dict.recips.grow()
	r, tx := w.dict.recips.bytes(), w.texts.ids.bytes()
	n := 0
	commit := func(events int, liveMB, collections uint64) {
		t.Helper()
		var evs []maildiag.Event
		for range events {
			n++
			evs = append(evs, ev(maildiag.Accepted, fmt.Sprint("r", n), "a@acme.com", at(0)))
		}
		if _, err := w.AddEvents(ctx, evs, 0); err != nil {
			t.Fatal(err)
		}
		live, cycles = liveMB<<20, cycles+collections
		if err := w.Commit(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		events              int
		liveMB, collections uint64
	}{
		{8000, 50, 10}, // the heap far from the limit
		{8000, 85, 1},  // close to it, but the collector has room
		{8000, 85, 0},
	} {
		commit(c.events, c.liveMB, c.collections)
		if w.dict.recips.bytes() != r || w.texts.ids.bytes() != tx {
			t.Fatalf("a cache shrank: %d events, %d MB live, %d collections", c.events, c.liveMB, c.collections)
		}
	}
	// Collections while no transaction was open are not the next one's.
	cycles += 100
	commit(8000, 85, 1)
	if w.dict.recips.bytes() != r || w.texts.ids.bytes() != tx {
		t.Fatal("a cache shrank for collections between transactions")
	}
	commit(8000, 85, 3) // starved: a collection per 2,667 events
	if w.dict.recips.bytes() != r/2 || w.texts.ids.bytes() != tx {
		t.Errorf("starved: recipients %d -> %d bytes, texts %d -> %d; want the recipients' halved",
			r, w.dict.recips.bytes(), tx, w.texts.ids.bytes())
	}
}
