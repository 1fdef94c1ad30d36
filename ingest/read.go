package ingest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"

	"github.com/klauspost/compress/gzip"

	"github.com/maildiag/maildiag"
)

// Options configures reading one input.
type Options struct {
	// SendingDomain is used for records that do not name their sending
	// domain, and for suppression-list CSV files, which never do.
	SendingDomain string
	// Workers decoding in parallel; 0 means one per CPU.
	Workers int
	// ChunkSize is the number of input bytes handed to a worker at once.
	ChunkSize int
	// Progress, when set, is called with the number of source bytes read so far.
	Progress func(read int64)
	// Prepare, when set, is called on the decoding goroutines with each
	// batch's events, and its result kept in the batch (Batch.Prepared):
	// work a store can do ahead of storing them, in parallel.
	Prepare func(evs []maildiag.Event) any
}

// Summary describes one input after it has been read.
type Summary struct {
	Bytes        int64 // bytes read from the source, as stored (maybe gzip)
	SHA256       string
	Gzip         bool
	Shapes       map[string]int // records seen per shape
	Events       int
	Suppressions int
	Rejects      int
}

// ErrUnknownShape is returned for an input that is not any shape ingest knows.
var ErrUnknownShape = errors.New("not a Mailgun export")

// ErrNoSendingDomain is returned for a suppression-list CSV export read
// without Options.SendingDomain: the export never names its sending
// domain, so none of its entries could be stored.
var ErrNoSendingDomain = errors.New("suppression-list CSV exports do not name their sending domain: pass --sending-domain")

const defaultChunk = 1 << 20

// Read reads one input, detecting its shape from its content (gzip by magic
// bytes, then JSON lines, JSON arrays, concatenated JSON, pages, webhooks,
// or CSV by header), normalises it on several cores and calls emit with
// batches in input order. A malformed record becomes a Reject in its batch;
// only an input that is no known shape at all, a read error or an error from
// emit stops it. Once emit returns, the batch's Events slice is reused for
// another batch: emit copies the events it keeps (their strings stay valid).
func Read(ctx context.Context, src io.Reader, opts Options, emit func(*Batch) error) (*Summary, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	if opts.ChunkSize <= 0 {
		opts.ChunkSize = defaultChunk
	}
	cr := newCountingReader(src, opts.Progress)
	defer cr.close()
	sum := &Summary{Shapes: map[string]int{}}
	br := bufio.NewReaderSize(cr, 256<<10)
	var in io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		defer zr.Close()
		in, sum.Gzip = zr, true
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	p := &pipeline{
		ctx:   ctx,
		n:     &normalizer{sendingDomain: opts.SendingDomain},
		prep:  opts.Prepare,
		chunk: opts.ChunkSize,
		work:  make(chan *job, opts.Workers),
		order: make(chan *job, 2*opts.Workers+2),
		spare: make(chan []maildiag.Event, 3*opts.Workers+4),
	}
	var wg sync.WaitGroup
	for range opts.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range p.work {
				b := p.run(j)
				if p.prep != nil && len(b.Events) > 0 {
					b.Prepared = p.prep(b.Events)
				}
				j.result <- b
			}
		}()
	}
	readErr := make(chan error, 1)
	go func() {
		err := p.produce(in)
		close(p.work)
		close(p.order)
		readErr <- err
	}()

	var emitErr error
	for j := range p.order {
		b := <-j.result
		if emitErr != nil {
			p.recycle(b)
			continue // drain so the producer and workers can stop
		}
		for s, c := range b.Shapes {
			if c > 0 {
				sum.Shapes[Shape(s).String()] += c
			}
		}
		sum.Events += len(b.Events)
		sum.Suppressions += len(b.Suppressions)
		sum.Rejects += len(b.Rejects)
		if err := emit(b); err != nil {
			emitErr = err
			cancel()
		}
		p.recycle(b)
	}
	wg.Wait()
	err := <-readErr
	if emitErr != nil {
		return sum, emitErr
	}
	if err != nil {
		return sum, err
	}
	// Read to the end so the hash covers the whole source.
	if _, err := io.Copy(io.Discard, br); err != nil {
		return sum, err
	}
	sum.Bytes = cr.n
	sum.SHA256 = hex.EncodeToString(cr.sum())
	return sum, nil
}

// countingReader counts the source bytes as they are read and hashes them
// on another goroutine: SHA-256 of a large export is a tenth of an import's
// work, and the reading goroutine is on the critical path.
type countingReader struct {
	r        io.Reader
	n        int64
	progress func(int64)
	toHash   chan *[]byte
	summed   chan []byte
	bufs     sync.Pool
	closed   bool
}

func newCountingReader(r io.Reader, progress func(int64)) *countingReader {
	c := &countingReader{r: r, progress: progress, toHash: make(chan *[]byte, 8), summed: make(chan []byte, 1)}
	c.bufs.New = func() any { return new([]byte) }
	go func() {
		h := sha256.New()
		for b := range c.toHash {
			h.Write(*b)
			c.bufs.Put(b)
		}
		c.summed <- h.Sum(nil)
	}()
	return c
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if n > 0 {
		b := c.bufs.Get().(*[]byte)
		*b = append((*b)[:0], p[:n]...)
		c.toHash <- b
		c.n += int64(n)
		if c.progress != nil {
			c.progress(c.n)
		}
	}
	return n, err
}

// sum waits for the hash of everything read.
func (c *countingReader) sum() []byte {
	c.close()
	return <-c.summed
}

// close stops the hashing goroutine; reading after it is a bug.
func (c *countingReader) close() {
	if !c.closed {
		c.closed = true
		close(c.toHash)
	}
}

// job is one chunk of input for a worker.
type job struct {
	lines  []byte // JSON lines, complete
	recs   []rec  // or: records already split
	layout *csvLayout
	line   int64 // line of the first byte of lines
	offset int64
	result chan *Batch
}

// rec is one record split out by the producer.
type rec struct {
	data   []byte
	at     loc
	reason string // set: the producer rejects it (too long), for this reason
}

type pipeline struct {
	ctx   context.Context
	n     *normalizer
	prep  func([]maildiag.Event) any
	chunk int
	work  chan *job
	order chan *job
	// spare holds emptied Events slices of emitted batches, for reuse: one
	// of 448 bytes an event, they were 14% of what a 10M-event import
	// allocated, and each allocation brings the next collection nearer.
	spare chan []maildiag.Event
}

// events returns an empty Events slice with room for n events.
func (p *pipeline) events(n int) []maildiag.Event {
	select {
	case evs := <-p.spare:
		if cap(evs) >= n {
			return evs
		}
	default:
	}
	return make([]maildiag.Event, 0, n+n/4)
}

// recycle keeps an emitted batch's Events slice for another batch.
func (p *pipeline) recycle(b *Batch) {
	if cap(b.Events) == 0 {
		return
	}
	clear(b.Events) // its strings would hold the input they point into
	select {
	case p.spare <- b.Events[:0]:
	default:
	}
	b.Events = nil
}

func (p *pipeline) send(j *job) error {
	if err := p.ctx.Err(); err != nil {
		return err // select below would pick at random between ready cases
	}
	j.result = make(chan *Batch, 1)
	select {
	case p.work <- j:
	case <-p.ctx.Done():
		return p.ctx.Err()
	}
	select {
	case p.order <- j:
	case <-p.ctx.Done():
		return p.ctx.Err()
	}
	return nil
}

// run normalises one chunk.
func (p *pipeline) run(j *job) *Batch {
	b := &Batch{}
	if j.lines != nil {
		data, line, off := j.lines, j.line, j.offset
		b.Bytes = int64(len(data))
		// One event a line, mostly: room for them all at once, not by doubling.
		b.Events = p.events(bytes.Count(data, nl) + 1)
		for len(data) > 0 {
			i := bytes.IndexByte(data, '\n')
			if i < 0 {
				i = len(data)
			}
			l := data[:i]
			if len(l) > maxRecord {
				b.reject(loc{line: line, offset: off}, tooLong("line"), l[:maxRecord])
			} else if len(bytes.TrimSpace(l)) > 0 {
				p.n.jsonRecord(l, loc{line: line, offset: off}, b, 0, container{})
			}
			line++
			off += int64(i) + 1
			if i == len(data) {
				break
			}
			data = data[i+1:]
		}
		return b
	}
	for _, r := range j.recs {
		b.Bytes += int64(len(r.data))
		if r.data == nil {
			b.reject(r.at, "truncated JSON array: the input ended before its closing ]", nil)
			continue
		}
		if r.reason != "" {
			b.reject(r.at, r.reason, r.data)
			continue
		}
		if j.layout != nil {
			p.n.csvRecord(j.layout, r.data, r.at, b)
		} else {
			p.n.jsonRecord(r.data, r.at, b, 0, container{})
		}
	}
	return b
}

// produce detects the shape of the input and splits it into jobs.
func (p *pipeline) produce(in io.Reader) error {
	br := bufio.NewReaderSize(in, 256<<10)
	var head []byte
	var err error
	i := 0
	for n := 4096; ; n *= 2 { // look past any amount of leading white space
		head, err = br.Peek(min(n, br.Size()))
		if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
			return err
		}
		head = bytes.TrimPrefix(head, []byte("\ufeff"))
		if i = skipSpace(head, 0); i < len(head) || err != nil || n >= br.Size() {
			break
		}
	}
	if i == len(head) && err == nil {
		return p.produceJSON(br) // more white space than the buffer holds: the scanner skips it
	}
	if i == len(head) {
		if len(head) == 0 {
			return fmt.Errorf("%w: the input is empty", ErrUnknownShape)
		}
		return fmt.Errorf("%w: the input holds only white space", ErrUnknownShape)
	}
	switch head[i] {
	case '{', '[':
		return p.produceJSON(br)
	default:
		return p.produceCSV(br)
	}
}

// ErrTooLong is returned for an input whose first line is longer than any
// record maildiag reads, with no line break: not an export (/dev/zero, a
// binary file), and not worth reading to its end.
var ErrTooLong = errors.New("no line break in the first bytes")
