package pg

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
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
		out[i] = plain[p : p+int(l) : p+int(l)]
		p += int(l)
	}
	return out, nil
}

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
func (db *DB) fillRaw(ctx context.Context, n int, ref func(i int) (block int64, at int32, raw *[]byte)) error {
	var missing []int64
	seen := map[int64]bool{}
	for i := 0; i < n; i++ {
		id, _, _ := ref(i)
		if id == 0 || seen[id] {
			continue
		}
		seen[id] = true
		if db.blocks.get(id) == nil {
			missing = append(missing, id)
		}
	}
	got := map[int64][][]byte{}
	if len(missing) > 0 {
		rows, err := db.pool.Query(ctx, `SELECT id, codec, data FROM raw_blocks WHERE id = ANY($1)`, missing)
		if err != nil {
			return fmt.Errorf("read events' JSON: %w", redactErr(err, db.url))
		}
		var id int64
		var codec string
		var data []byte
		_, err = pgx.ForEachRow(rows, []any{&id, &codec, &data}, func() error {
			if codec != codecZstd {
				return fmt.Errorf("raw block %d: unknown codec %q", id, codec)
			}
			plain, err := ddzstd.Decompress(nil, data)
			if err != nil {
				return fmt.Errorf("raw block %d: %w: %v", id, errBadBlock, err)
			}
			recs, err := splitBlock(plain)
			if err != nil {
				return fmt.Errorf("raw block %d: %w", id, err)
			}
			got[id] = recs
			db.blocks.put(id, recs)
			return nil
		})
		if err != nil {
			return fmt.Errorf("read events' JSON: %w", err)
		}
	}
	for i := 0; i < n; i++ {
		id, at, raw := ref(i)
		if id == 0 {
			continue
		}
		recs := got[id]
		if recs == nil {
			recs = db.blocks.get(id)
		}
		if recs == nil {
			return fmt.Errorf("read events' JSON: raw block %d is missing", id)
		}
		if at < 0 || int(at) >= len(recs) {
			return fmt.Errorf("read events' JSON: raw block %d: %w: record %d of %d", id, errBadBlock, at, len(recs))
		}
		*raw = bytes.Clone(recs[at])
	}
	return nil
}
