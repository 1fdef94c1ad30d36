package pg

import (
	"context"
	"fmt"
	"sort"
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
	rows, err := db.pool.Query(ctx, `SELECT f.day, f.recipient_id, f.seq, COALESCE(f.class, ''), e.raw
		FROM failures f JOIN events e USING (day, recipient_id, type_id, event_id) ORDER BY f.seq`)
	if err != nil {
		return fmt.Errorf("read failures: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var day int32
		var ref analyze.Ref
		var class string
		var raw []byte
		if err := rows.Scan(&day, &ref[1], &ref[2], &class, &raw); err != nil {
			return fmt.Errorf("read failures: %w", err)
		}
		ref[0] = int64(day)
		if err := fn(ref, class, raw); err != nil {
			return err
		}
	}
	return rows.Err()
}

// SyncedRanges returns the ranges of a sending domain's events a sync has
// read completely from a source, merged and in order.
func (db *DB) SyncedRanges(ctx context.Context, sendingDomain, source string) ([]maildiag.Range, error) {
	out, err := collect(ctx, db, "read synced ranges", `SELECT from_us, to_us FROM sync_ranges WHERE sending_domain = $1 AND source = $2`,
		[]any{sendingDomain, source}, func(r *maildiag.Range) []any { return []any{&r.FromUS, &r.ToUS} })
	return mergeRanges(out), err
}

func mergeRanges(rs []maildiag.Range) []maildiag.Range {
	sort.Slice(rs, func(i, j int) bool { return rs[i].FromUS < rs[j].FromUS })
	var out []maildiag.Range
	for _, r := range rs {
		if r.ToUS <= r.FromUS {
			continue
		}
		if n := len(out); n > 0 && r.FromUS <= out[n-1].ToUS {
			out[n-1].ToUS = max(out[n-1].ToUS, r.ToUS)
			continue
		}
		out = append(out, r)
	}
	return out
}

// ListSyncs returns when each suppression list was last read whole.
func (db *DB) ListSyncs(ctx context.Context) ([]maildiag.ListSync, error) {
	return collect(ctx, db, "read list syncs", `SELECT d.name, l.list, l.synced_at FROM list_syncs l
		JOIN domains d ON d.id = l.sending_domain_id ORDER BY 1, 2`, nil,
		func(l *maildiag.ListSync) []any { return []any{&l.SendingDomain, &l.List, &l.SyncedUS} })
}
