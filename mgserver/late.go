package mgserver

import (
	"math"
	"time"
)

// visibility decides which events one request sees, at one reading of the
// server clock.
type visibility struct {
	now    int64 // µs
	delay  int64 // µs a late event takes to show up
	oldest int64 // events before it have expired
	late   float64
	seed   uint64
}

func (s *Server) visibility(now time.Time) visibility {
	v := visibility{
		now: now.UnixMicro(), delay: s.opts.LateDelay.Microseconds(),
		oldest: math.MinInt64, late: s.opts.LateFraction, seed: uint64(s.opts.Seed),
	}
	if s.opts.EventRetention > 0 {
		v.oldest = v.now - s.opts.EventRetention.Microseconds()
	}
	return v
}

// visible reports whether e has happened, has not expired and, if late,
// has arrived.
func (v *visibility) visible(e *Event) bool {
	if e.Time > v.now || e.Time < v.oldest {
		return false
	}
	if e.Added || v.isLate(e) {
		return e.Time+v.delay <= v.now
	}
	return true
}

// isLate picks the late events from their time and id, so the choice
// survives a restart and does not depend on load order.
func (v *visibility) isLate(e *Event) bool {
	if v.late <= 0 {
		return false
	}
	h := v.seed ^ 0x9e3779b97f4a7c15 ^ uint64(e.Time)*0xbf58476d1ce4e5b9
	for i := 0; i < len(e.ID); i++ {
		h = (h ^ uint64(e.ID[i])) * 0x100000001b3
	}
	return unitFloat(mix64(h)) < v.late
}

// mix64 is splitmix64's finaliser.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// unitFloat maps a hash onto [0, 1).
func unitFloat(h uint64) float64 { return float64(h>>11) / (1 << 53) }
