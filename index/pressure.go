package index

import (
	"math"
	"runtime/debug"
	"runtime/metrics"
)

// The caches give way when the collector has too little room. The filters
// and the domains grow with the index, so a large enough import brings its
// live heap close to its memory limit, where the collector runs nearly
// nonstop: a 10M-event transactional import whose live heap reached 272
// MiB of its 340 MiB limit collected about 1,000 times, against 360 at
// 265 MiB, and its last million took twice as long.
const (
	// liveShare is the share of the memory limit the live heap must
	// reach; below it, collections are the allocations' doing.
	liveShare = 0.7
	// eventsPerCollection is how few events, on average, a collection may
	// come between: a healthy 10M-event import collects once per 10,000
	// events at its end, a starved one once per 1,200 to 2,500.
	eventsPerCollection = 4000
)

// gcStats reads the live heap as of the last collection, and the count of
// collections so far.
var gcStats = func() (live, cycles uint64) {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/gc/cycles/total:gc-cycles"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 || s[1].Value.Kind() != metrics.KindUint64 {
		return 0, 0
	}
	return s[0].Value.Uint64(), s[1].Value.Uint64()
}

// relieve halves the larger of the writer's caches when the collector ran
// once per fewer than eventsPerCollection of the events the transaction
// stored, with the live heap close to the memory limit, if one is set: an
// import then looks up more addresses and texts in the index, rather than
// collect garbage all the time. A cache that shrinks when the collector
// has room costs more than it saves: halved at 72% of the limit, the
// recipients' cache slowed the last million of a 10M-event import by 12%.
func (w *Writer) relieve(events int) {
	live, cycles := gcStats()
	since := cycles - w.gcCycles
	limit := debug.SetMemoryLimit(-1)
	if limit <= 0 || limit == math.MaxInt64 || float64(live) < liveShare*float64(limit) ||
		since == 0 || uint64(events)/since >= eventsPerCollection {
		return
	}
	r, t := &w.dict.recips, &w.texts.ids
	if t.bytes() > r.bytes() {
		r, t = t, r
	}
	if !r.shrink() {
		t.shrink()
	}
}
