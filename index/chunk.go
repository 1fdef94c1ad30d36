package index

import "slices"

// A transaction's rows are inserted in chunks: once the writer has collected
// chunkRows events and the flusher is idle, the flusher inserts them into
// the open transaction on a goroutine of its own while the writer collects
// the next ones; the commit inserts the rest. The writer's lookups stay
// exact meanwhile: what a chunk adds is also in the writer's memory until
// the commit (the recipients' and texts' caches hold the ids they gave
// out, the dedup the transaction's keys), and the two take turns on the
// connection (Writer.mu). The counts are summed over the whole transaction
// and inserted at the commit.

// chunkRows is how many events a chunk holds at least.
const chunkRows = 1 << 15

// chunk is rows handed to the flusher; it owns them until it is done.
type chunk struct {
	events   []evRow
	failures []failRow
	messages []msgKey // with repeats
	recips   []newRecipient
	texts    []newText
}

// chunker runs at most one chunk's flush at a time.
type chunker struct {
	c    chunk
	done chan error // nil: no flush running
	min  int        // chunkRows, but in tests
}

// wait waits for the running flush, if any, and returns its error.
func (k *chunker) wait() error {
	if k.done == nil {
		return nil
	}
	err := <-k.done
	k.done = nil
	return err
}

// takeChunk moves the rows collected since the last chunk into the
// chunker's chunk, whose emptied buffers go back to the writer.
func (w *Writer) takeChunk() *chunk {
	t, c := &w.tx, &w.chunks.c
	c.events, t.events = t.events, c.events[:0]
	c.failures, t.failures = t.failures, c.failures[:0]
	c.messages, t.messages = t.messages, c.messages[:0]
	c.recips, w.dict.newRecips = w.dict.newRecips, c.recips[:0]
	c.texts, w.texts.added = w.texts.added, c.texts[:0]
	return c
}

// handOff starts the flush of the rows collected since the last chunk when
// there are enough of them and the flusher is idle; while it is busy, the
// next chunk grows.
func (w *Writer) handOff() error {
	if len(w.tx.events) < w.chunks.min {
		return nil
	}
	if k := &w.chunks; k.done != nil {
		select {
		case err := <-k.done:
			k.done = nil
			if err != nil {
				return err
			}
		default:
			return nil
		}
	}
	c := w.takeChunk()
	done := make(chan error, 1)
	w.chunks.done = done
	go func() { done <- c.flush(w) }()
	return nil
}

// flushChunks inserts every row collected for the transaction but its
// counts: the running chunk's, then the rest.
func (w *Writer) flushChunks() error {
	if err := w.chunks.wait(); err != nil {
		return err
	}
	return w.takeChunk().flush(w)
}

// flush inserts the chunk's rows, each table's in key order, and empties
// it. Of the writer's state it touches only the recipients' counts and,
// under w.mu, the connection.
func (c *chunk) flush(w *Writer) error {
	if err := w.dict.flushRecipients(w, c.recips); err != nil {
		return err
	}
	if err := w.texts.flush(w, c.texts); err != nil {
		return err
	}
	slices.SortFunc(c.events, func(a, b evRow) int { return cmpKey(a.key, b.key) })
	b := newRowBatch("INSERT OR FAIL", "events", eventColumns, "")
	for i := range c.events {
		r := &c.events[i]
		r.bindKey(&b)
		b.int(r.texts.subject)
		b.int(r.texts.from)
		b.int(r.texts.ip)
		b.int(r.texts.tags)
		b.int(r.texts.route)
		if err := b.end(w); err != nil {
			return err
		}
	}
	if err := b.flush(w); err != nil {
		return err
	}
	if err := flushMessages(w, c.messages); err != nil {
		return err
	}
	if err := flushFailures(w, c.failures); err != nil {
		return err
	}
	c.clear()
	return nil
}

func (c *chunk) clear() {
	c.events = c.events[:0]
	clear(c.failures) // their strings go
	c.failures = c.failures[:0]
	c.messages = c.messages[:0]
	clear(c.recips)
	c.recips = c.recips[:0]
	clear(c.texts)
	c.texts = c.texts[:0]
}
