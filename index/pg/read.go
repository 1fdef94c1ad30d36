package pg

import (
	"context"
	"fmt"
	"time"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/analyze"
)

// Span is the time range the index's events cover; zero when it is empty.
// The first and last days come from the primary keys' first column.
func (db *DB) Span(ctx context.Context) (analyze.Span, error) {
	first, last, err := db.span(ctx)
	if err != nil || first == 0 {
		return analyze.Span{}, err
	}
	return analyze.Span{First: time.UnixMicro(first).UTC(), Last: time.UnixMicro(last).UTC()}, nil
}

func (db *DB) span(ctx context.Context) (first, last int64, err error) {
	var f, l *int64
	if err := db.pool.QueryRow(ctx, `SELECT
		(SELECT MIN(ts) FROM events WHERE day = (SELECT MIN(day) FROM events)),
		(SELECT MAX(ts) FROM events WHERE day = (SELECT MAX(day) FROM events))`).Scan(&f, &l); err != nil {
		return 0, 0, fmt.Errorf("read index span: %w", err)
	}
	if f == nil || l == nil {
		return 0, 0, nil
	}
	return *f, *l, nil
}

// ForEachFailureJSON calls fn with every stored failure's reference, class
// and original JSON, in the order they were stored.
func (db *DB) ForEachFailureJSON(ctx context.Context, fn func(ref analyze.Ref, class string, raw []byte) error) error {
	rows, err := db.pool.Query(ctx, `SELECT f.day, f.recipient_id, f.seq, COALESCE(f.class, ''), e.raw,
			COALESCE(e.raw_block, 0), COALESCE(e.raw_at, 0)
		FROM failures f JOIN events e USING (day, recipient_id, type_id, event_id) ORDER BY f.seq`)
	if err != nil {
		return fmt.Errorf("read failures: %w", err)
	}
	defer rows.Close()
	type failureJSON struct {
		ref   analyze.Ref
		class string
		raw   []byte
		block int64
		at    int32
	}
	// In chunks, so that a chunk's blocks are read in one query.
	chunk := make([]failureJSON, 0, 1000)
	flush := func() error {
		if err := db.fillRaw(ctx, len(chunk), func(i int) (int64, int32, *[]byte) { return chunk[i].block, chunk[i].at, &chunk[i].raw }); err != nil {
			return err
		}
		for _, c := range chunk {
			if err := fn(c.ref, c.class, c.raw); err != nil {
				return err
			}
		}
		chunk = chunk[:0]
		return nil
	}
	for rows.Next() {
		var day int32
		var c failureJSON
		if err := rows.Scan(&day, &c.ref[1], &c.ref[2], &c.class, &c.raw, &c.block, &c.at); err != nil {
			return fmt.Errorf("read failures: %w", err)
		}
		c.ref[0] = int64(day)
		chunk = append(chunk, c)
		if len(chunk) == cap(chunk) {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read failures: %w", err)
	}
	return flush()
}

// SyncedRanges returns the ranges of a sending domain's events a sync has
// read completely from a source, merged and in order.
func (db *DB) SyncedRanges(ctx context.Context, sendingDomain, source string) ([]maildiag.Range, error) {
	out, err := collect(ctx, db, "read synced ranges", `SELECT from_us, to_us FROM sync_ranges WHERE sending_domain = $1 AND source = $2`,
		[]any{sendingDomain, source}, func(r *maildiag.Range) []any { return []any{&r.FromUS, &r.ToUS} })
	return maildiag.MergeRanges(out), err
}

// ListSyncs returns when each suppression list was last read whole.
func (db *DB) ListSyncs(ctx context.Context) ([]maildiag.ListSync, error) {
	return collect(ctx, db, "read list syncs", `SELECT d.name, l.list, l.synced_at FROM list_syncs l
		JOIN domains d ON d.id = l.sending_domain_id ORDER BY 1, 2`, nil,
		func(l *maildiag.ListSync) []any { return []any{&l.SendingDomain, &l.List, &l.SyncedUS} })
}
