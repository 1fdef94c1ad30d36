package pg_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"slices"
	"testing"

	ddzstd "github.com/DataDog/zstd"
	"github.com/jackc/pgx/v5"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/analyze"
	"github.com/maildiag/maildiag/index/pg"
	"github.com/maildiag/maildiag/internal/pgtest"
)

// unblock turns an index back into one made before migration 0006: every
// event's JSON inline in events.raw (decoded here, independently of the
// reader), the blocks gone, the migration unrecorded.
func unblock(t *testing.T, u string) {
	t.Helper()
	ctx := context.Background()
	conn := pgtest.Conn(t, u)
	blocks := map[int64][][]byte{}
	rows, _ := conn.Query(ctx, `SELECT id, data FROM raw_blocks`)
	var id int64
	var data []byte
	if _, err := pgx.ForEachRow(rows, []any{&id, &data}, func() error {
		plain, err := ddzstd.Decompress(nil, data)
		if err != nil {
			return err
		}
		n, k := binary.Uvarint(plain)
		lens := make([]int, n)
		for i := range lens {
			l, kk := binary.Uvarint(plain[k:])
			lens[i], k = int(l), k+kk
		}
		recs := make([][]byte, n)
		for i, l := range lens {
			recs[i], k = bytes.Clone(plain[k:k+l]), k+l
		}
		blocks[id] = recs
		return nil
	}); err != nil {
		t.Fatalf("read blocks: %v", err)
	}
	if len(blocks) == 0 {
		t.Fatal("the writer stored no raw block")
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	type ref struct {
		day, at int32
		rcpt    int64
		typ     int16
		id      string
		block   int64
	}
	var refs []ref
	rows, _ = tx.Query(ctx, `SELECT day, recipient_id, type_id, event_id, raw_block, raw_at FROM events`)
	var r ref
	if _, err := pgx.ForEachRow(rows, []any{&r.day, &r.rcpt, &r.typ, &r.id, &r.block, &r.at}, func() error {
		refs = append(refs, r)
		return nil
	}); err != nil {
		t.Fatalf("read events: %v", err)
	}
	for _, r := range refs {
		if _, err := tx.Exec(ctx, `UPDATE events SET raw = $5 WHERE day = $1 AND recipient_id = $2 AND type_id = $3 AND event_id = $4`,
			r.day, r.rcpt, r.typ, r.id, blocks[r.block][r.at]); err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range []string{`ALTER TABLE events DROP COLUMN raw_block, DROP COLUMN raw_at`, `ALTER TABLE events ALTER COLUMN raw SET NOT NULL`,
		`DROP TABLE raw_blocks`, `DROP SEQUENCE raw_block_seq`, `DELETE FROM schema_migrations WHERE version = 6`} {
		if _, err := tx.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
}

// rawOf is every stored event's JSON, in the time order, and the JSON of
// one address's events as trace reads them.
func rawOf(t *testing.T, db *pg.DB, addr string) (all []string, one []string) {
	t.Helper()
	ctx := context.Background()
	_, err := db.SearchEvents(ctx, analyze.EventFilter{RawOnly: true, Asc: true}, func(e *maildiag.Event) error {
		all = append(all, string(e.Raw))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	evs, err := db.Events(ctx, analyze.EventQuery{Addresses: []string{addr}})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		one = append(one, string(e.Raw))
	}
	return all, one
}

// An index made before migration 0006 keeps its events' JSON inline and
// reads the same after the migration; events stored after it go into
// blocks, and a file imported again leaves no block behind.
func TestRawBlocksMigration(t *testing.T) {
	ctx := context.Background()
	db, u := open(t)
	file := generated(t, 3000, 14)
	importFiles(t, db, file)
	var addr string
	if err := pgtest.Conn(t, u).QueryRow(ctx, `SELECT address FROM recipients ORDER BY id LIMIT 1`).Scan(&addr); err != nil {
		t.Fatal(err)
	}
	wantAll, wantOne := rawOf(t, db, addr)
	if len(wantAll) < 3000 || len(wantOne) == 0 || slices.Contains(wantAll, "") {
		t.Fatalf("read %d events' JSON, %d of %s, some empty: the test needs them all", len(wantAll), len(wantOne), addr)
	}
	db.Close()

	unblock(t, u)
	again, err := pg.Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if n := one(t, u, `SELECT COUNT(*) FROM events WHERE raw_block IS NULL AND length(raw) > 0`); n != int64(len(wantAll)) {
		t.Fatalf("after the migration %d events keep their JSON inline, want %d", n, len(wantAll))
	}
	gotAll, gotOne := rawOf(t, again, addr)
	if !slices.Equal(gotAll, wantAll) || !slices.Equal(gotOne, wantOne) {
		t.Fatalf("after the migration: %d events' JSON (%d of %s), want %d (%d); equal: %v, %v",
			len(gotAll), len(gotOne), addr, len(wantAll), len(wantOne), slices.Equal(gotAll, wantAll), slices.Equal(gotOne, wantOne))
	}

	// New events (another account's) go into blocks beside the inline ones.
	importFiles(t, again, samples+"/events.jsonl")
	inBlocks := one(t, u, `SELECT COUNT(*) FROM events WHERE raw_block IS NOT NULL`)
	if inBlocks == 0 {
		t.Fatal("events stored after the migration have no block")
	}
	blocks := one(t, u, `SELECT COUNT(*) FROM raw_blocks`)
	mixed, _ := rawOf(t, again, addr)
	if len(mixed) != len(wantAll)+int(inBlocks) || slices.Contains(mixed, "") {
		t.Fatalf("read %d events' JSON, want %d inline and %d in blocks, none empty", len(mixed), len(wantAll), inBlocks)
	}

	// The same files again: nothing new, and no block for nothing.
	importFiles(t, again, samples+"/events.jsonl", file)
	if n := one(t, u, `SELECT COUNT(*) FROM raw_blocks`); n != blocks {
		t.Errorf("importing stored events again left %d blocks, want %d", n, blocks)
	}
}

// Older builds left a domain first seen as a sending domain in one batch
// (of events or of a suppression list) marked as not sending; migration
// 0010 marks it again from the daily counts and the lists.
func TestSendingDomainsMigration(t *testing.T) {
	ctx := context.Background()
	db, u := open(t)
	importFiles(t, db, samples+"/events.jsonl")
	want, err := db.SendingDomains(ctx)
	if err != nil || len(want) == 0 {
		t.Fatalf("sending domains: %v %v", want, err)
	}
	db.Close()
	c := pgtest.Conn(t, u)
	if _, err := c.Exec(ctx, `UPDATE domains SET sending = false`); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(ctx, `DELETE FROM schema_migrations WHERE version = 10`); err != nil {
		t.Fatal(err)
	}
	again, err := pg.Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if got, err := again.SendingDomains(ctx); err != nil || !slices.Equal(got, want) {
		t.Errorf("after the migration: %v %v, want %v", got, err, want)
	}
}

// A block is decompressed only up to the last record a read wants, and
// kept so: a later read of a record past it reads the block again. Each
// event is read alone, by its id, from the block's last record to its
// first and back, and compared with the block decoded here.
func TestRawBlocksPartly(t *testing.T) {
	ctx := context.Background()
	db, u := open(t)
	importFiles(t, db, generated(t, 3000, 14))
	var block int64
	if err := pgtest.Conn(t, u).QueryRow(ctx, `SELECT raw_block FROM events GROUP BY 1 ORDER BY COUNT(*) DESC LIMIT 1`).Scan(&block); err != nil {
		t.Fatal(err)
	}
	conn := pgtest.Conn(t, u)
	var data []byte
	if err := conn.QueryRow(ctx, `SELECT data FROM raw_blocks WHERE id = $1`, block).Scan(&data); err != nil {
		t.Fatal(err)
	}
	plain, err := ddzstd.Decompress(nil, data)
	if err != nil {
		t.Fatal(err)
	}
	n, k := binary.Uvarint(plain)
	lens := make([]int, n)
	for i := range lens {
		l, kk := binary.Uvarint(plain[k:])
		lens[i], k = int(l), k+kk
	}
	recs := make([]string, n)
	for i, l := range lens {
		recs[i], k = string(plain[k:k+l]), k+l
	}
	rows, _ := conn.Query(ctx, `SELECT event_id FROM events WHERE raw_block = $1 ORDER BY raw_at`, block)
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(ids) < 3 || len(ids) != len(recs) {
		t.Fatalf("%d events in the largest block of %d records (%v): the test needs a few", len(ids), len(recs), err)
	}
	want := map[string]string{}
	for i, id := range ids {
		want[id] = recs[i]
	}
	fresh, err := pg.Open(ctx, u) // a cache of its own
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	order := append(slices.Clone(ids[len(ids)/2:]), ids...)
	for _, id := range order {
		evs, err := fresh.Events(ctx, analyze.EventQuery{EventID: id})
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != 1 || string(evs[0].Raw) != want[id] {
			t.Fatalf("event %s read alone: %d events (%v), want one with JSON %.80q", id, len(evs), evs, want[id])
		}
	}
}
