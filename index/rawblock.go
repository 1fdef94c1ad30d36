package index

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	ddzstd "github.com/DataDog/zstd"
)

// Raw JSON is kept in blocks of consecutive events compressed together:
// Mailgun events repeat most of their bytes, so a block compresses about as
// well as the whole file, while one event still costs one block to read.
// zstd runs at its fastest level: event logs are dominated by random ids,
// and the higher levels gain about 3% for twice the time.
//
// Block layout before compression: uvarint count, count uvarint lengths,
// then the records back to back.

const codecZstd = "zstd"

// blockTarget is the uncompressed size at which a block is closed: 1 MiB
// compresses 9% better than 256 KiB and still decodes in about 2 ms.
const blockTarget = 1 << 20

// rawBlock collects the raw JSON of the events of one block.
type rawBlock struct {
	firstSeq int64
	importID int64
	records  [][]byte
	size     int
}

// plainBufs recycles the uncompressed layout of blocks: a fresh megabyte per
// block costs page faults and garbage collection.
var plainBufs = make(freeList[*[]byte], maxPendingBlocks+2)

// packedBufs recycles compressed blocks once SQLite has copied them.
var packedBufs = make(freeList[*[]byte], maxPendingBlocks+2)

// compressors keeps zstd contexts from block to block, as zstd advises.
// zstd's own C library through cgo, not the pure-Go zstd of
// klauspost/compress (which the module has for gzip): importing 1M events
// took 9.39 s with it against 9.79 s, into a 1.4% smaller index, and reads
// were as fast (medians of 3 and 61 alternating runs, 2026-12-04).
var compressors = sync.Pool{New: func() any { return ddzstd.NewCtx() }}

// encode lays the block out and compresses it.
func (b *rawBlock) encode() ([]byte, error) {
	buf := takeBuf(plainBufs)
	defer plainBufs.keep(buf)
	plain := (*buf)[:0]
	plain = binary.AppendUvarint(plain, uint64(len(b.records)))
	for _, r := range b.records {
		plain = binary.AppendUvarint(plain, uint64(len(r)))
	}
	for _, r := range b.records {
		plain = append(plain, r...)
	}
	*buf = plain
	dst := takeBuf(packedBufs)
	zc := compressors.Get().(ddzstd.Ctx)
	packed, err := zc.CompressLevel(*dst, plain, 1)
	compressors.Put(zc)
	if err != nil {
		packedBufs.keep(dst)
		return nil, err
	}
	return packed, nil
}

// takeBuf returns a kept buffer, or a new one.
func takeBuf(l freeList[*[]byte]) *[]byte {
	if b := l.take(); b != nil {
		return b
	}
	return new([]byte)
}

// release returns a compressed block's buffer for the next block.
func release(packed []byte) {
	if packed != nil {
		packedBufs.keep(&packed)
	}
}

var errBadBlock = errors.New("corrupt raw block")

// blockDecoder is where reads decompress whole blocks: a zstd context and
// a buffer backed by huge pages where the system has them. Here every 4
// KiB page first touched costs a fault, and a fresh megabyte of buffer per
// block cost a trace more than the decompression (one block read for a
// trace: 4.5 ms with a fresh stream, 1.2 ms into this buffer).
type blockDecoder struct {
	zc  ddzstd.Ctx
	buf []byte
}

const blockBufSize = 4 << 20

// decoders holds one decoder per CPU, made as needed and never freed (the
// buffers are mapped outside Go's heap). One decoder for the process made
// the server's concurrent traces wait for each other's blocks.
var (
	decoders     = make(chan *blockDecoder, runtime.GOMAXPROCS(0))
	decodersMade atomic.Int32
)

func getDecoder() *blockDecoder {
	select {
	case d := <-decoders:
		return d
	default:
	}
	if decodersMade.Add(1) <= int32(cap(decoders)) {
		return &blockDecoder{zc: ddzstd.NewCtx(), buf: hugeBuffer(blockBufSize)}
	}
	return <-decoders
}

// blockRecords returns copies of the wanted records (in ascending order) of
// a block.
func blockRecords(data []byte, want []int) ([][]byte, error) {
	d := getDecoder()
	defer func() { decoders <- d }()
	var recs [][]byte
	n, err := d.zc.DecompressInto(d.buf, data)
	switch {
	case ddzstd.IsDstSizeTooSmallError(err):
		recs, _, err = decodeBlock(data, nil) // a block with a very large event
	case err != nil:
		err = fmt.Errorf("%w: %v", errBadBlock, err)
	default:
		recs, err = splitBlock(d.buf[:n])
	}
	if err != nil {
		return nil, err
	}
	out := make([][]byte, 0, len(want))
	for _, i := range want {
		if i < 0 || i >= len(recs) {
			return nil, fmt.Errorf("%w: record %d of %d", errBadBlock, i, len(recs))
		}
		out = append(out, bytes.Clone(recs[i]))
	}
	return out, nil
}

// blocksDecoded counts the blocks decodeBlock has decompressed, for the
// tests: reading raw JSON is as fast as the blocks it decodes are few.
var blocksDecoded atomic.Int64

// decodeBlock decompresses a block into buf (reused when large enough) and
// returns its records, which point into the returned buffer.
func decodeBlock(data, buf []byte) ([][]byte, []byte, error) {
	blocksDecoded.Add(1)
	plain, err := ddzstd.Decompress(buf[:cap(buf)], data)
	if err != nil {
		return nil, buf, fmt.Errorf("%w: %v", errBadBlock, err)
	}
	recs, err := splitBlock(plain)
	return recs, plain, err
}

// splitBlock returns the records of a decompressed block, pointing into it.
func splitBlock(plain []byte) ([][]byte, error) {
	n, k := binary.Uvarint(plain)
	if k <= 0 || n > uint64(len(plain)) {
		return nil, errBadBlock
	}
	p := k
	lens := make([]uint64, n)
	for i := range lens {
		l, k := binary.Uvarint(plain[p:])
		if k <= 0 {
			return nil, errBadBlock
		}
		lens[i], p = l, p+k
	}
	out := make([][]byte, n)
	for i, l := range lens {
		if uint64(len(plain)-p) < l {
			return nil, errBadBlock
		}
		out[i] = plain[p : p+int(l)]
		p += int(l)
	}
	return out, nil
}

// rawEvents reads events' raw JSON for the event_json view, through two
// SQL functions of one connection that share the blocks last decoded:
//
//	raw_event(first_seq, slot, data) is record slot of the block that
//	starts at first_seq, decoded from data; data may be NULL when
//	raw_block_cached(first_seq) said the block is held.
//
// The view passes data as CASE WHEN raw_block_cached(b.first_seq) THEN NULL
// ELSE b.data END: SQLite evaluates CASE lazily, so a block (about 128 KiB
// compressed) is read out of its table only when it is decoded. A scan
// visits events in key order (day, recipient), which jumps between the
// blocks written that day, so the last heldBlocks blocks are held, not
// one. On 250,000 generated events (31 days, about 10 blocks a day),
// SELECT SUM(length(json)) FROM event_json took 142 s (72 s of CPU), a
// block read and decoded for nearly every event, and takes 1.0 s; all the
// JSON with --output csv took 88.6 s and takes 3.7 s. Reading in seq order instead would need
// one decode per block at any size, but SQLite drops the ORDER BY of a
// FROM-clause subquery, and the forms that keep it (LIMIT, MATERIALIZED)
// stop WHERE terms from reaching the events' primary key, which a lookup
// by day and recipient needs. A day of more than heldBlocks blocks (over
// about 16,000 events a day) still reads blocks over again.
type rawEvents struct {
	mu    sync.Mutex
	held  []heldBlock
	clock uint64
}

// heldBlocks bounds the decoded blocks one connection holds: about 1 MiB
// each.
const heldBlocks = 16

// heldBlock is a decoded block.
type heldBlock struct {
	first   int64
	records [][]byte
	buf     []byte
	used    uint64
}

// find returns the held block starting at first, or nil.
func (r *rawEvents) find(first int64) *heldBlock {
	for i := range r.held {
		if h := &r.held[i]; h.first == first {
			r.clock++
			h.used = r.clock
			return h
		}
	}
	return nil
}

// cached is raw_block_cached(first_seq).
func (r *rawEvents) cached(first int64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.find(first) != nil
}

// event is raw_event(first_seq, slot, data).
func (r *rawEvents) event(first, slot int64, data any) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	h := r.find(first)
	if h == nil {
		b, ok := data.([]byte)
		if !ok {
			return "", fmt.Errorf("raw_event: block %d is not held and its data is %T", first, data)
		}
		h = r.slot()
		recs, plain, err := decodeBlock(b, h.buf)
		h.buf = plain
		if err != nil {
			h.first, h.records = 0, nil
			return "", err
		}
		r.clock++
		h.first, h.records, h.used = first, recs, r.clock
	}
	if slot < 0 || slot >= int64(len(h.records)) {
		return "", fmt.Errorf("raw_event: slot %d out of range (block holds %d)", slot, len(h.records))
	}
	return string(h.records[slot]), nil
}

// slot returns where the next decoded block goes: a new one, or the least
// recently used, whose buffer it reuses.
func (r *rawEvents) slot() *heldBlock {
	if len(r.held) < heldBlocks {
		r.held = append(r.held, heldBlock{})
		return &r.held[len(r.held)-1]
	}
	lru := &r.held[0]
	for i := range r.held {
		if r.held[i].used < lru.used {
			lru = &r.held[i]
		}
	}
	lru.first, lru.records = 0, nil
	return lru
}

// encoded is a compressed block waiting to be inserted.
type encoded struct {
	firstSeq, importID int64
	count              int
	data               []byte
	err                error
}

// maxPendingBlocks is how many blocks may be compressing at once before
// the writer waits for the oldest: about as many megabytes in flight.
const maxPendingBlocks = 8

// blockWriter numbers stored events (seq) and writes their raw JSON in
// blocks, compressing each on its own goroutine while the writer goes on.
type blockWriter struct {
	started bool
	nextSeq int64
	cur     rawBlock
	pending []chan encoded
}

func (bw *blockWriter) init() {}

// start reads the next seq at the beginning of a transaction.
func (bw *blockWriter) start(w *Writer) error {
	last, err := w.queryInt(`SELECT first_seq + count FROM raw_blocks ORDER BY first_seq DESC LIMIT 1`)
	if err != nil {
		return fmt.Errorf("read raw blocks: %w", err)
	}
	bw.nextSeq = max(last, 1)
	bw.cur = rawBlock{firstSeq: bw.nextSeq, importID: bw.cur.importID}
	bw.started = true
	return nil
}

// setImport starts a new block when the events come from another import.
func (bw *blockWriter) setImport(w *Writer, importID int64) error {
	if bw.cur.importID == importID {
		return nil
	}
	if err := bw.seal(w, false); err != nil {
		return err
	}
	bw.cur.importID = importID
	return nil
}

// add appends an event's raw JSON and returns the event's seq.
func (bw *blockWriter) add(w *Writer, raw []byte) (int64, error) {
	seq := bw.nextSeq
	bw.nextSeq++
	bw.cur.records = append(bw.cur.records, raw)
	bw.cur.size += len(raw)
	if bw.cur.size >= blockTarget {
		return seq, bw.seal(w, false)
	}
	return seq, nil
}

// seal hands the current block to a compressor and starts the next;
// compressed blocks are inserted a little later, and all of them when wait
// is set.
func (bw *blockWriter) seal(w *Writer, wait bool) error {
	if len(bw.cur.records) > 0 {
		b := bw.cur
		ch := make(chan encoded, 1)
		go func() {
			data, err := b.encode()
			ch <- encoded{firstSeq: b.firstSeq, count: len(b.records), importID: b.importID, data: data, err: err}
		}()
		bw.pending = append(bw.pending, ch)
		bw.cur = rawBlock{firstSeq: bw.nextSeq, importID: b.importID}
	}
	// Blocks compress on other cores while the writer goes on; it stops
	// for them only when many are behind, and at the commit.
	keep := maxPendingBlocks
	if wait {
		keep = 0
	}
	for len(bw.pending) > keep {
		e := <-bw.pending[0]
		bw.pending = bw.pending[1:]
		if e.err != nil {
			return fmt.Errorf("compress raw block: %w", e.err)
		}
		_, err := w.exec(`INSERT INTO raw_blocks(first_seq, count, codec, import_id, data) VALUES (?, ?, ?, ?, ?)`,
			e.firstSeq, int64(e.count), codecZstd, nullID(e.importID), e.data)
		release(e.data) // SQLite binds blobs as transient copies
		if err != nil {
			return fmt.Errorf("store raw block: %w", err)
		}
	}
	return nil
}

// finish stores every block before the commit.
func (bw *blockWriter) finish(w *Writer) error { return bw.seal(w, true) }

// abandon drops the blocks of a rolled-back transaction.
func (bw *blockWriter) abandon() {
	for _, p := range bw.pending {
		release((<-p).data)
	}
	bw.pending = nil
	bw.cur = rawBlock{importID: bw.cur.importID}
}

func (bw *blockWriter) close() { bw.abandon() }
