// Package inorder reads the parts of a result on several goroutines and
// hands them on in their order: a store reads a breakdown's days on
// connections of their own, and the analysis, which depends on the order
// rows come in, sees them as one query would give them.
package inorder

import (
	"context"
	"sync"
)

// batchSize is how many rows a reader hands on at a time.
const batchSize = 512

// chunk is some rows of a part, the last ones with end set.
type chunk[T any] struct {
	rows []T
	end  bool
	err  error
}

// Read reads parts 0 to n-1 with read, up to readers at a time, each part
// on one goroutine, and calls fn with each part's rows in the order of the
// parts and, within a part, in the order read emitted them. emit copies
// the row; rows go on in batches, a reader at most a few ahead of fn, so
// that memory stays bounded. The first error (of read or fn) stops the
// rest and is returned.
func Read[T any](ctx context.Context, n, readers int, read func(ctx context.Context, part int, emit func(*T) error) error, fn func(*T) error) error {
	readers = max(1, min(readers, n))
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
	}()
	chans := make([]chan chunk[T], readers)
	for w := range readers {
		c := make(chan chunk[T], 4)
		chans[w] = c
		wg.Add(1)
		go func() {
			defer wg.Done()
			send := func(ch chunk[T]) error {
				select {
				case c <- ch:
					return nil
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			// Reader w reads parts w, w+readers, ...: the order fn takes
			// them from its channel.
			for part := w; part < n; part += readers {
				batch := make([]T, 0, batchSize)
				err := read(ctx, part, func(row *T) error {
					if batch = append(batch, *row); len(batch) < batchSize {
						return nil
					}
					full := batch
					batch = make([]T, 0, batchSize)
					return send(chunk[T]{rows: full})
				})
				if send(chunk[T]{rows: batch, end: true, err: err}) != nil || err != nil {
					return
				}
			}
		}()
	}
	for part := range n {
		c := chans[part%readers]
		for {
			var ch chunk[T]
			select {
			case ch = <-c:
			case <-ctx.Done():
				return ctx.Err()
			}
			if ch.err != nil {
				return ch.err
			}
			for i := range ch.rows {
				if err := fn(&ch.rows[i]); err != nil {
					return err
				}
			}
			if ch.end {
				break
			}
		}
	}
	return nil
}
