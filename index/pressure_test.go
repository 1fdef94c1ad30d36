package index

import (
	"context"
	"runtime/debug"
	"testing"

	"github.com/maildiag/maildiag"
)

// Near the memory limit, a commit halves the larger cache; below it,
// nothing changes.
func TestRelieveHalvesTheLargerCache(t *testing.T) {
	db, _ := mustOpen(t)
	w := mustWriter(t, db)
	ctx := context.Background()
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(100 << 20))
	live := uint64(50 << 20)
	defer func(f func() uint64) { heapLive = f }(heapLive)
	heapLive = func() uint64 { return live }
	w.dict.recips.grow()
	w.dict.recips.grow()
	r, tx := w.dict.recips.bytes(), w.texts.ids.bytes()
	commit := func() {
		t.Helper()
		if _, err := w.AddEvents(ctx, []maildiag.Event{ev(maildiag.Accepted, "r1", "a@acme.com", at(0))}, 0); err != nil {
			t.Fatal(err)
		}
		if err := w.Commit(ctx); err != nil {
			t.Fatal(err)
		}
	}
	commit()
	if w.dict.recips.bytes() != r || w.texts.ids.bytes() != tx {
		t.Fatal("a cache shrank at half the memory limit")
	}
	live = 85 << 20
	commit()
	if w.dict.recips.bytes() != r/2 || w.texts.ids.bytes() != tx {
		t.Errorf("at 85%% of the limit: recipients %d -> %d bytes, texts %d -> %d; want the recipients' halved",
			r, w.dict.recips.bytes(), tx, w.texts.ids.bytes())
	}
}
