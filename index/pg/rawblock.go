package pg

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"

	ddzstd "github.com/DataDog/zstd"
	"github.com/jackc/pgx/v5"
)

// The events' original JSON in zstd-compressed blocks (migration 0006), laid
// out as the SQLite index's (index/rawblock.go): uvarint count, count
// uvarint lengths, then the records back to back. Consecutive Mailgun
// events repeat most of their bytes, so a block compresses about as well as
// the whole file, and a merge no longer writes the JSON into the events
// table and its write-ahead log.

const codecZstd = "zstd"

// blockTarget is the uncompressed size at which a block is closed, as in
// the SQLite index: one event read costs one such block decompressed.
const blockTarget = 1 << 20

// openBlock collects the raw JSON of the events staged since it was opened.
// The JSON is copied: the caller's buffers may be reused once AddEvents
// returns, and the block stays open until full.
type openBlock struct {
	id      int64
	lastDay int32
	lens    []uint64
	data    []byte
}

// addRaw puts an event's JSON in the writer's open block, opening one (its
// id from raw_block_seq) when none is, and says where it went. A block is
// written when full, or at the merge (flush), in the transaction of the
// events that reference it.
func (w *Writer) addRaw(ctx context.Context, raw []byte, day int32) (int64, int32, error) {
	b := &w.block
	if b.id == 0 {
		if err := w.tx.QueryRow(ctx, `SELECT nextval('raw_block_seq')`).Scan(&b.id); err != nil {
			return 0, 0, fmt.Errorf("store events: %w", mayNotWrite(err))
		}
		w.blocks = append(w.blocks, b.id)
	}
	at := int32(len(b.lens))
	b.lens = append(b.lens, uint64(len(raw)))
	b.data = append(b.data, raw...)
	b.lastDay = max(b.lastDay, day)
	return b.id, at, nil
}

// closeBlock compresses the open block, if any, and stores it.
func (w *Writer) closeBlock(ctx context.Context) error {
	b := &w.block
	if b.id == 0 {
		return nil
	}
	plain := binary.AppendUvarint(w.plain[:0], uint64(len(b.lens)))
	for _, l := range b.lens {
		plain = binary.AppendUvarint(plain, l)
	}
	plain = append(plain, b.data...)
	w.plain = plain
	if w.zc == nil {
		w.zc = ddzstd.NewCtx()
	}
	// The fastest level, as the SQLite index: event logs are mostly random
	// ids, and higher levels gain a few percent for twice the time.
	packed, err := w.zc.CompressLevel(w.packed[:0], plain, 1)
	if err != nil {
		return fmt.Errorf("store events: compress: %w", err)
	}
	w.packed = packed
	if _, err := w.tx.Exec(ctx, `INSERT INTO raw_blocks(id, last_day, codec, data) VALUES ($1, $2, $3, $4)`,
		b.id, b.lastDay, codecZstd, packed); err != nil {
		return fmt.Errorf("store events: %w", mayNotWrite(err))
	}
	*b = openBlock{lens: b.lens[:0], data: b.data[:0]}
	return nil
}

var errBadBlock = errors.New("corrupt raw block")

// blockCache keeps the last few decoded blocks: a search or a scan of
// failures reads events in about the order they were stored, so
// consecutive rows mostly share a block.
type blockCache struct {
	mu     sync.Mutex
	ids    []int64
	blocks [][][]byte
}

const blockCacheSize = 8

func (c *blockCache) get(id int64) [][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, x := range c.ids {
		if x == id {
			return c.blocks[i]
		}
	}
	return nil
}

func (c *blockCache) put(id int64, recs [][]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.ids) == blockCacheSize {
		c.ids, c.blocks = c.ids[1:], c.blocks[1:]
	}
	c.ids = append(c.ids, id)
	c.blocks = append(c.blocks, recs)
}

// fillRaw sets the raw JSON of n events from their blocks and places,
// reading the blocks not cached in one query; an event whose JSON is
// inline (stored before migration 0006) has block 0 and keeps what it has.
// A block is decompressed only up to the last record wanted, and blocks
// in parallel: a page of 50 events found 34 blocks, 35 MB to decompress
// whole, which took longer than the rest of the search.
func (db *DB) fillRaw(ctx context.Context, n int, ref func(i int) (block int64, at int32, raw *[]byte)) error {
	need := map[int64]int32{} // the last record wanted of each block not cached
	got := map[int64][][]byte{}
	for i := 0; i < n; i++ {
		id, at, _ := ref(i)
		if id == 0 {
			continue
		}
		if recs := db.blocks.get(id); recs != nil && int(at) < len(recs) {
			got[id] = recs // kept here: the blocks read below may push it out of the cache
			continue
		}
		if last, ok := need[id]; !ok || at > last {
			need[id] = at
		}
	}
	if len(need) > 0 {
		ids := make([]int64, 0, len(need))
		for id := range need {
			ids = append(ids, id)
		}
		rows, err := db.pool.Query(ctx, `SELECT id, codec, data FROM raw_blocks WHERE id = ANY($1)`, ids)
		if err != nil {
			return fmt.Errorf("read events' JSON: %w", redactErr(err, db.url))
		}
		type packed struct {
			id    int64
			codec string
			data  []byte
			recs  [][]byte
			err   error
		}
		var bs []*packed
		var b packed
		_, err = pgx.ForEachRow(rows, []any{&b.id, &b.codec, &b.data}, func() error {
			c := b
			bs = append(bs, &c)
			return nil
		})
		if err != nil {
			return fmt.Errorf("read events' JSON: %w", err)
		}
		var wg sync.WaitGroup
		next := make(chan *packed)
		for range min(runtime.GOMAXPROCS(0), len(bs)) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for b := range next {
					if b.codec != codecZstd {
						b.err = fmt.Errorf("raw block %d: unknown codec %q", b.id, b.codec)
						continue
					}
					b.recs, b.err = decodeBlock(b.data, int(need[b.id])+1)
					if b.err != nil {
						b.err = fmt.Errorf("raw block %d: %w", b.id, b.err)
					}
				}
			}()
		}
		for _, b := range bs {
			next <- b
		}
		close(next)
		wg.Wait()
		for _, b := range bs {
			if b.err != nil {
				return fmt.Errorf("read events' JSON: %w", b.err)
			}
			got[b.id] = b.recs
			db.blocks.put(b.id, b.recs)
		}
	}
	for i := 0; i < n; i++ {
		id, at, raw := ref(i)
		if id == 0 {
			continue
		}
		recs, ok := got[id]
		if !ok {
			return fmt.Errorf("read events' JSON: raw block %d is missing", id)
		}
		if at < 0 || int(at) >= len(recs) {
			return fmt.Errorf("read events' JSON: raw block %d: %w: record %d of %d", id, errBadBlock, at, len(recs))
		}
		*raw = bytes.Clone(recs[at])
	}
	return nil
}

// decodeBlock decompresses a block's first records, at least want of them
// (all when it holds fewer), and returns them.
func decodeBlock(data []byte, want int) ([][]byte, error) {
	zr := ddzstd.NewReader(bytes.NewReader(data))
	defer zr.Close()
	r := bufio.NewReaderSize(zr, 64<<10)
	count, err := binary.ReadUvarint(r)
	if err != nil || count > uint64(len(data))*64 {
		return nil, errBadBlock
	}
	lens := make([]uint64, count)
	for i := range lens {
		if lens[i], err = binary.ReadUvarint(r); err != nil {
			return nil, errBadBlock
		}
	}
	want = min(want, len(lens))
	var size uint64
	for _, l := range lens[:want] {
		size += l
	}
	if size > uint64(len(data))*64 {
		return nil, errBadBlock
	}
	plain := make([]byte, size)
	if _, err := io.ReadFull(r, plain); err != nil {
		return nil, fmt.Errorf("%w: %v", errBadBlock, err)
	}
	out := make([][]byte, want)
	p := uint64(0)
	for i, l := range lens[:want] {
		out[i] = plain[p : p+l : p+l]
		p += l
	}
	return out, nil
}
