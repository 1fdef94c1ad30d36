package index

import (
	"math"
	"runtime/debug"
	"runtime/metrics"
)

// liveShare is how much of the Go memory limit the live heap may take
// before the writer halves one of its caches. Past about four fifths the
// collector has almost no room and runs nearly nonstop: a 10M-event
// transactional import whose live heap reached 272 MiB of its 340 MiB
// limit collected about 1,000 times, against 360 at 265 MiB, and its
// last million took twice as long. The caches' filters and the domains
// grow with the index, so a larger import reaches that point.
const liveShare = 0.8

// heapLive is the live heap as of the last collection.
var heapLive = func() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}

// relieve halves the larger of the writer's caches when the live heap is
// close to the memory limit, if one is set: an import then looks up more
// addresses and texts in the index, rather than collect garbage all the
// time.
func (w *Writer) relieve() {
	limit := debug.SetMemoryLimit(-1)
	if limit <= 0 || limit == math.MaxInt64 || float64(heapLive()) < liveShare*float64(limit) {
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
