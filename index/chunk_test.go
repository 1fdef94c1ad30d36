package index

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/maildiag/maildiag"
)

// Rows inserted in chunks while the writer collects more (chunk.go) make
// the same index as rows inserted at the commit: with duplicates, repeated
// addresses and texts across chunks, recipients merged into the base
// tables meanwhile, and a second run that looks every address and text up
// while chunks are being inserted.
func TestChunkedFlushStoresTheSame(t *testing.T) {
	first, second := chunkEvents(0), chunkEvents(1)
	run := func(chunkMin int) (*DB, []int) {
		db, _ := mustOpen(t)
		var added []int
		for pass, evs := range [][]maildiag.Event{first, second} {
			w := mustWriter(t, db)
			w.chunks.min = chunkMin
			w.dict.recentMin = 300
			if pass == 1 {
				// Nothing cached: every address and text is looked up.
				w.dict.recipsTried, w.texts.tried = true, true
			}
			added = append(added, addInBatches(t, w, evs, 37, 20))
		}
		return db, added
	}
	whole, wantAdded := run(1 << 30)
	chunked, gotAdded := run(3)
	if fmt.Sprint(gotAdded) != fmt.Sprint(wantAdded) {
		t.Errorf("chunked writes stored %v new events, want %v", gotAdded, wantAdded)
	}
	for name, db := range map[string]*DB{"whole": whole, "chunked": chunked} {
		// Each domain counts its addresses (ids are numbered from 1 in it).
		if n := count(t, db, `SELECT COUNT(*) FROM domains d WHERE recipients !=
			(SELECT COUNT(*) FROM recipients WHERE id BETWEEN d.id << 32 AND (d.id << 32) + 4294967295)`); n != 0 {
			t.Errorf("%s: %d domains count their addresses wrong", name, n)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM domains WHERE recipients > 0"); n != 41 {
			t.Errorf("%s: %d domains count addresses, want 41", name, n)
		}
	}
	if n := count(t, chunked, "SELECT COUNT(*) FROM recipients_base"); n == 0 {
		t.Fatal("no recipients were merged into the base tables: the test misses merges during chunks")
	}
	for _, q := range []string{
		"SELECT * FROM events ORDER BY day, recipient_id, id_hash",
		"SELECT * FROM failures ORDER BY day, recipient_id, id_hash",
		"SELECT * FROM failure_texts ORDER BY day, recipient_id, id_hash",
		"SELECT * FROM messages ORDER BY day, message_key, recipient_id",
		// Merges come at other moments, so the halves differ; not their union.
		"SELECT id, address FROM recipients ORDER BY id",
		"SELECT hash, id, hash2 FROM recipient_keys_base UNION ALL SELECT hash, id, hash2 FROM recipient_keys_recent ORDER BY 1, 2",
		"SELECT * FROM texts ORDER BY id",
		"SELECT * FROM text_keys ORDER BY hash, id",
		"SELECT * FROM domains ORDER BY id",
		"SELECT * FROM daily_counts ORDER BY 1, 2, 3, 4, 5",
		"SELECT * FROM hourly_counts ORDER BY 1, 2, 3, 4",
		"SELECT * FROM split_counts ORDER BY 1, 2, 3, 4, 5",
		"SELECT first_seq, count FROM raw_blocks ORDER BY first_seq",
	} {
		want, got := dump(t, whole, q), dump(t, chunked, q)
		if got != want {
			t.Errorf("%s differs with chunks:\n got %.300s\nwant %.300s", q, got, want)
		}
	}
}

// A chunk's rows are in the open transaction before the commit; without
// chunks, none are.
func TestChunksGoInBeforeTheCommit(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct{ min, want int }{{3, 37}, {1 << 30, 0}} {
		db, _ := mustOpen(t)
		w := mustWriter(t, db)
		w.chunks.min = c.min
		if _, err := w.AddEvents(ctx, chunkEvents(0)[:37], 0); err != nil {
			t.Fatal(err)
		}
		if err := w.chunks.wait(); err != nil {
			t.Fatal(err)
		}
		n, err := w.queryInt(`SELECT COUNT(*) FROM events`)
		if err != nil || n != int64(c.want) {
			t.Errorf("chunks of %d: %d events in the transaction before the commit (%v), want %d", c.min, n, err, c.want)
		}
		if err := w.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM events"); n != 37 {
			t.Errorf("chunks of %d: %d events after the commit, want 37", c.min, n)
		}
	}
}

// chunkEvents is a run of events with addresses, subjects and domains
// that repeat, failures, and every seventh event a copy of one about 400
// before it; pass 1 repeats pass 0's addresses and some of its events.
func chunkEvents(pass int) []maildiag.Event {
	types := []string{maildiag.Accepted, maildiag.Delivered, maildiag.Failed, maildiag.Opened}
	var evs []maildiag.Event
	for i := range 3000 {
		n := i + pass*3000
		if i%7 == 6 && i > 400 {
			evs = append(evs, evs[i-400])
			continue
		}
		if pass == 1 && i%5 == 0 {
			n = i * 3 / 5 // an event of pass 0 again
		}
		rcpt := fmt.Sprintf("u%d@d%d.example", n%900, n%41)
		e := ev(types[n%len(types)], fmt.Sprintf("e%d", n), rcpt, at(time.Duration(n)*time.Minute))
		e.Subject = fmt.Sprintf("Order %d", n%250)
		if n%3 == 0 {
			e.Subject = fmt.Sprintf("Welcome %d", n)
		}
		e.Tags = []string{fmt.Sprintf("t%d", n%5)}
		evs = append(evs, e)
	}
	return evs
}

// addInBatches adds evs batch events at a time, committing every
// commitEvery batches, and returns how many were new.
func addInBatches(t *testing.T, w *Writer, evs []maildiag.Event, batch, commitEvery int) int {
	t.Helper()
	ctx := context.Background()
	added := 0
	for i, b := 0, 0; i < len(evs); i, b = i+batch, b+1 {
		n, err := w.AddEvents(ctx, evs[i:min(i+batch, len(evs))], 0)
		if err != nil {
			t.Fatal(err)
		}
		added += n
		if b%commitEvery == commitEvery-1 {
			if err := w.Commit(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	return added
}

// dump is every row a query yields, as text.
func dump(t *testing.T, db *DB, q string) string {
	t.Helper()
	rows, err := db.sql.Query(q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var b strings.Builder
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintln(&b, vals...)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}
