package index

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	ddzstd "github.com/DataDog/zstd"
	"github.com/klauspost/compress/zstd"
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
	firstID  int64 // events.id of the first record
	importID int64
	records  [][]byte
	size     int
}

func (b *rawBlock) add(raw []byte) int {
	b.records = append(b.records, raw)
	b.size += len(raw)
	return len(b.records) - 1
}

func (b *rawBlock) full() bool { return b.size >= blockTarget }

// plainBufs recycles the uncompressed layout of blocks: a fresh megabyte per
// block costs page faults and garbage collection.
var plainBufs = sync.Pool{New: func() any { return new([]byte) }}

// encode lays the block out and compresses it.
func (b *rawBlock) encode(enc *zstd.Encoder, dst []byte) []byte {
	buf := plainBufs.Get().(*[]byte)
	defer plainBufs.Put(buf)
	plain := (*buf)[:0]
	plain = binary.AppendUvarint(plain, uint64(len(b.records)))
	for _, r := range b.records {
		plain = binary.AppendUvarint(plain, uint64(len(r)))
	}
	for _, r := range b.records {
		plain = append(plain, r...)
	}
	*buf = plain
	out, err := ddzstd.CompressLevel(dst[:0], plain, 1)
	if err != nil {
		return enc.EncodeAll(plain, dst[:0])
	}
	return out
}

var errBadBlock = errors.New("corrupt raw block")

// decodeBlock decompresses a block and returns its records.
func decodeBlock(dec *zstd.Decoder, data []byte) ([][]byte, error) {
	plain, err := dec.DecodeAll(data, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errBadBlock, err)
	}
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

var (
	decoderOnce sync.Once
	decoder     *zstd.Decoder
)

func sharedDecoder() *zstd.Decoder {
	decoderOnce.Do(func() {
		decoder, _ = zstd.NewReader(nil, zstd.WithDecoderConcurrency(0))
	})
	return decoder
}

func newEncoder() *zstd.Encoder {
	enc, _ := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(2))
	return enc
}

// newRawEventFunc returns the raw_event(block_data, slot) SQL function. It
// keeps the last block it decoded: rows come in block order, so consecutive
// calls usually hit the same block.
func newRawEventFunc() func(data []byte, slot int64) (string, error) {
	var (
		mu      sync.Mutex
		last    []byte
		records [][]byte
	)
	return func(data []byte, slot int64) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		if records == nil || !bytes.Equal(last, data) {
			recs, err := decodeBlock(sharedDecoder(), data)
			if err != nil {
				return "", err
			}
			last, records = append(last[:0], data...), recs
		}
		if slot < 0 || slot >= int64(len(records)) {
			return "", fmt.Errorf("raw_event: slot %d out of range (block holds %d)", slot, len(records))
		}
		return string(records[slot]), nil
	}
}

type encoded struct {
	firstID, importID int64
	count             int
	data              []byte
}

// flushBlock hands the current block to a compressor and starts the next;
// compressed blocks are inserted a little later, and all of them by the
// time the transaction commits (wait).
func (w *Writer) flushBlock(wait bool) error {
	if len(w.block.records) > 0 {
		b := w.block
		ch := make(chan encoded, 1)
		go func() {
			ch <- encoded{firstID: b.firstID, count: len(b.records), importID: b.importID, data: b.encode(w.enc, nil)}
		}()
		w.pending = append(w.pending, ch)
		w.block = rawBlock{firstID: w.nextID, importID: b.importID}
	}
	keep := 2
	if wait {
		keep = 0
	}
	for len(w.pending) > keep {
		e := <-w.pending[0]
		w.pending = w.pending[1:]
		if _, err := w.exec(`INSERT INTO raw_blocks(first_id, count, codec, import_id, data) VALUES (?, ?, ?, ?, ?)`,
			e.firstID, int64(e.count), codecZstd, nullID(e.importID), e.data); err != nil {
			return fmt.Errorf("store raw block: %w", err)
		}
	}
	return nil
}
