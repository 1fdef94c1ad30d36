package synth

// queue is the reorder window: a binary min-heap of scheduled events keyed
// by time, ties broken by scheduling order so that the events of one message
// keep their causal order. It holds only events not yet emitted, which are
// at most about two days ahead of the emission point.
type queue struct {
	items []queued
	seq   uint64
}

type queued struct {
	t   int64
	seq uint64
	e   *Event
}

func (q *queue) len() int { return len(q.items) }

func (q *queue) less(i, j int) bool {
	a, b := &q.items[i], &q.items[j]
	return a.t < b.t || a.t == b.t && a.seq < b.seq
}

func (q *queue) push(e *Event) {
	q.seq++
	q.items = append(q.items, queued{t: e.Time, seq: q.seq, e: e})
	i := len(q.items) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !q.less(i, p) {
			break
		}
		q.items[i], q.items[p] = q.items[p], q.items[i]
		i = p
	}
}

// minTime returns the time of the earliest event; the queue must not be empty.
func (q *queue) minTime() int64 { return q.items[0].t }

func (q *queue) pop() *Event {
	n := len(q.items) - 1
	top := q.items[0].e
	q.items[0] = q.items[n]
	q.items[n] = queued{}
	q.items = q.items[:n]
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && q.less(r, l) {
			m = r
		}
		if !q.less(m, i) {
			break
		}
		q.items[i], q.items[m] = q.items[m], q.items[i]
		i = m
	}
	return top
}
