package synth

import (
	"math"
	"unsafe"
)

// slabs hands out the generator's small objects from shared chunks instead
// of one allocation each: a message makes a dozen strings and structs, and
// at a few hundred thousand events a second the per-object cost of the
// allocator and the garbage collector was a third of the run time.
//
// A chunk stays alive while anything carved from it does. So that a few
// events waiting two days for their turn do not keep whole chunks of
// long-emitted ones alive, the generator keeps two sets: a short-lived one
// for everything emitted within lateUS of acceptance, and a long-lived one
// for later events (opens, retries, complaints), which carry their own copy
// of the message.
//
// When nobody keeps events after emitting them (Write), the short-lived
// set also recycles its chunks: every object in a chunk belongs to a
// message accepted no later than the chunk's stamp, so once the emission
// point is more than lateUS past the stamp, nothing can refer to it.
type slabs struct {
	bytes    chunkPool[byte]
	events   chunkPool[Event]
	statuses chunkPool[DeliveryStatus]
	messages chunkPool[Message]
	engs     chunkPool[Engagement]

	recycle  bool
	now      int64 // accept time of the message being built
	frontier int64 // time of the last emitted event
}

const (
	byteChunk = 32 << 10
	slabLen   = 256
	// recycleGrace is how far past a chunk's stamp the emission point must
	// be: lateUS plus the longest SMTP session, with room to spare.
	recycleGrace = lateUS + 5*60e6
	// neverRecycle stamps chunks that must outlive the stream (stories).
	neverRecycle = math.MaxInt64 - recycleGrace
)

// chunkPool is one kind of chunk: the current one and, when recycling,
// the full ones waiting until they are free again (oldest first).
type chunkPool[T any] struct {
	cur   []T
	stamp int64
	full  []stampedChunk[T]
	head  int
}

type stampedChunk[T any] struct {
	buf   []T
	stamp int64
}

// alloc returns n consecutive elements; size is the chunk length.
func (p *chunkPool[T]) alloc(s *slabs, n, size int) []T {
	if cap(p.cur)-len(p.cur) < n {
		p.refill(s, size)
	}
	p.stamp = max(p.stamp, s.now)
	l := len(p.cur)
	p.cur = p.cur[:l+n]
	return p.cur[l : l+n : l+n]
}

func (p *chunkPool[T]) refill(s *slabs, size int) {
	// Chunks stamped never-recycle are left to the garbage collector; they
	// must not block the queue, whose stamps otherwise only grow.
	if s.recycle && p.cur != nil && p.stamp < neverRecycle {
		p.full = append(p.full, stampedChunk[T]{p.cur, p.stamp})
	}
	p.cur = nil
	if s.recycle && p.head < len(p.full) && p.full[p.head].stamp+recycleGrace < s.frontier {
		p.cur = p.full[p.head].buf[:0]
		p.full[p.head] = stampedChunk[T]{}
		p.head++
		if p.head >= 64 && p.head*2 >= len(p.full) {
			p.full = append(p.full[:0], p.full[p.head:]...)
			p.head = 0
		}
	}
	if p.cur == nil {
		p.cur = make([]T, 0, size)
	}
	p.stamp = s.now
}

// str returns a string with the contents of b. Bytes handed out are not
// written again until the chunk is recycled (see slabs), which is what
// makes the unsafe.String view safe.
func (s *slabs) str(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if len(b) > byteChunk/4 {
		return string(b)
	}
	dst := s.bytes.alloc(s, len(b), byteChunk)
	copy(dst, b)
	return unsafe.String(&dst[0], len(dst))
}

// clone copies a string into the slab.
func (s *slabs) clone(v string) string {
	if len(v) == 0 {
		return ""
	}
	if len(v) > byteChunk/4 {
		return string([]byte(v))
	}
	dst := s.bytes.alloc(s, len(v), byteChunk)
	copy(dst, v)
	return unsafe.String(&dst[0], len(dst))
}

// The struct allocators return elements that may be recycled: callers
// overwrite the whole value.

func (s *slabs) event() *Event { return &s.events.alloc(s, 1, slabLen)[0] }

func (s *slabs) status() *DeliveryStatus { return &s.statuses.alloc(s, 1, slabLen)[0] }

func (s *slabs) message() *Message { return &s.messages.alloc(s, 1, slabLen)[0] }

func (s *slabs) engagement() *Engagement {
	e := &s.engs.alloc(s, 1, slabLen)[0]
	*e = Engagement{}
	return e
}
