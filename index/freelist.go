package index

// freeList keeps a few things for reuse. Unlike a sync.Pool it keeps them
// through garbage collections, which empty a pool: late in a 10M-event
// import the collector ran about every 100 ms, and blocks took 3.1 GB of
// fresh buffers in all, a tenth of what the import allocated.
type freeList[T any] chan T

// take returns a kept thing, or T's zero value when none is kept.
func (l freeList[T]) take() T {
	select {
	case v := <-l:
		return v
	default:
		var zero T
		return zero
	}
}

// keep keeps v, unless the list is full.
func (l freeList[T]) keep(v T) {
	select {
	case l <- v:
	default:
	}
}
