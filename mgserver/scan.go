package mgserver

import (
	"sort"
)

// pos is a place in the account-wide order of events: time, then sending
// domain, then the order the domain received them. Unlike an event id it
// is unique, and unlike an index it survives insertions.
type pos struct {
	T int64  `json:"t"`
	D int    `json:"d"`
	S uint64 `json:"s"`
}

func (p pos) less(q pos) bool {
	if p.T != q.T {
		return p.T < q.T
	}
	if p.D != q.D {
		return p.D < q.D
	}
	return p.S < q.S
}

// cursorKind says where a page starts, in the query's own order.
type cursorKind byte

const (
	curFirst  cursorKind = 'f' // the start of the range
	curLast   cursorKind = 'l' // the last page of the range
	curAfter  cursorKind = 'a' // strictly after P
	curFrom   cursorKind = 'A' // at P or after
	curBefore cursorKind = 'b' // strictly before P
	curUpTo   cursorKind = 'B' // at P or before
)

type cursor struct {
	Kind cursorKind
	P    pos
}

func (c cursor) valid() bool {
	switch c.Kind {
	case curFirst, curLast, curAfter, curFrom, curBefore, curUpTo:
		return true
	}
	return false
}

// forwardish cursors read toward the end of the query's order.
func (c cursor) forwardish() bool {
	return c.Kind == curFirst || c.Kind == curAfter || c.Kind == curFrom
}

// links returns the cursors of the next and previous pages of a page read
// from c, whose items run from first to last in query order. An empty page
// keeps the position, so that a saved next URL later returns what arrived.
func (c cursor) links(n int, first, last pos) (next, prev cursor) {
	if n > 0 {
		return cursor{curAfter, last}, cursor{curBefore, first}
	}
	if c.forwardish() {
		switch c.Kind {
		case curAfter:
			return c, cursor{curUpTo, c.P}
		case curFrom:
			return c, cursor{curBefore, c.P}
		}
		return c, c
	}
	switch c.Kind {
	case curBefore:
		return cursor{curFrom, c.P}, c
	case curUpTo:
		return cursor{curAfter, c.P}, c
	}
	return cursor{curFirst, pos{}}, c
}

// window is a time range, both ends inclusive, in µs.
type window struct{ lo, hi int64 }

// hit is what a page needs of an event once the lock is released: the JSON
// never changes, the Event itself may move.
type hit struct {
	p      pos
	events []byte
	logs   []byte
}

// scanPlan is how to read a page: the direction in ascending time order,
// where to start, and whether the result must be reversed into query order.
type scanPlan struct {
	fwd       bool
	start     *pos
	inclusive bool
	reverse   bool
}

func planScan(asc bool, c cursor) scanPlan {
	p := c.P
	switch c.Kind {
	case curLast:
		return scanPlan{fwd: !asc, reverse: true}
	case curAfter:
		return scanPlan{fwd: asc, start: &p}
	case curFrom:
		return scanPlan{fwd: asc, start: &p, inclusive: true}
	case curBefore:
		return scanPlan{fwd: !asc, start: &p, reverse: true}
	case curUpTo:
		return scanPlan{fwd: !asc, start: &p, inclusive: true, reverse: true}
	}
	return scanPlan{fwd: asc}
}

// scan collects up to n events of d inside w that keep accepts, in the
// plan's direction. The caller holds the account's read lock.
func (d *domainData) scan(w window, sp scanPlan, n int, keep func(*Event) bool) []hit {
	evs := d.events
	lo := sort.Search(len(evs), func(i int) bool { return evs[i].Time >= w.lo })
	hi := sort.Search(len(evs), func(i int) bool { return evs[i].Time > w.hi }) // exclusive
	var out []hit
	if sp.fwd {
		i := lo
		if sp.start != nil {
			s := *sp.start
			j := sort.Search(len(evs), func(i int) bool {
				p := evs[i].pos(d.idx)
				if sp.inclusive {
					return !p.less(s)
				}
				return s.less(p)
			})
			i = max(i, j)
		}
		for ; i < hi && len(out) < n; i++ {
			if e := &evs[i]; keep(e) {
				out = append(out, hit{e.pos(d.idx), e.EventsJSON, e.LogsJSON})
			}
		}
		return out
	}
	i := hi - 1
	if sp.start != nil {
		s := *sp.start
		// j is the first index past the start; read down from j-1.
		j := sort.Search(len(evs), func(i int) bool {
			p := evs[i].pos(d.idx)
			if sp.inclusive {
				return s.less(p)
			}
			return !p.less(s)
		})
		i = min(i, j-1)
	}
	for ; i >= lo && len(out) < n; i-- {
		if e := &evs[i]; keep(e) {
			out = append(out, hit{e.pos(d.idx), e.EventsJSON, e.LogsJSON})
		}
	}
	return out
}

// count returns how many events of d inside w keep accepts.
func (d *domainData) count(w window, keep func(*Event) bool) int {
	evs := d.events
	lo := sort.Search(len(evs), func(i int) bool { return evs[i].Time >= w.lo })
	n := 0
	for i := lo; i < len(evs) && evs[i].Time <= w.hi; i++ {
		if keep(&evs[i]) {
			n++
		}
	}
	return n
}

func (e *Event) pos(d int) pos { return pos{e.Time, d, e.seq} }

// mergeHits merges per-domain results, each in scan order, and keeps the
// first n in that order.
func mergeHits(lists [][]hit, fwd bool, n int) []hit {
	var all []hit
	for _, l := range lists {
		all = append(all, l...)
	}
	sort.Slice(all, func(i, j int) bool {
		if fwd {
			return all[i].p.less(all[j].p)
		}
		return all[j].p.less(all[i].p)
	})
	if len(all) > n {
		all = all[:n]
	}
	return all
}
