package index

import (
	"context"
	"fmt"
	"slices"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/analyze"
)

// Events stored before schema version 4 have no text ids (subject, From,
// sending IP, tags, route): migration 0009 marks such an index with
// meta texts_backfill = pending, and the backfill gives them their ids
// from their original JSON.

// metaTextsBackfill is the meta key saying events still lack text ids.
const metaTextsBackfill = "texts_backfill"

// noTexts selects the events with no text id. Not the route: reclassify
// gives a failure its route (with a new gateway) before the backfill runs
// when an import or sync opens the old index first.
const noTexts = `subject_id IS NULL AND from_id IS NULL AND ip_id IS NULL AND tags_id IS NULL`

// TextsPending tells whether events of the index still lack their text
// ids (see ForEachEventWithoutTexts).
func (db *DB) TextsPending(ctx context.Context) (bool, error) {
	v, err := db.Meta(ctx, metaTextsBackfill)
	return v == "pending", err
}

// ForEachEventWithoutTexts calls fn with every event that has no text id,
// with its original JSON, a day at a time and in storing order within it
// (each raw block read once per chunk). Events that have nothing to refer
// to (no subject, From, IP, tags or route) are read again on every run:
// they are few, and telling them apart would need a column.
func (db *DB) ForEachEventWithoutTexts(ctx context.Context, fn func(ref analyze.Ref, raw []byte) error) error {
	days, err := db.Days(ctx)
	if err != nil {
		return err
	}
	type item struct {
		ref analyze.Ref
		seq int64
	}
	for _, d := range days {
		items, err := queryAll(ctx, db, "read events", `SELECT day, recipient_id, id_hash, seq FROM events WHERE day = ? AND `+noTexts, []any{d},
			func(it *item) []any { return []any{&it.ref[0], &it.ref[1], &it.ref[2], &it.seq} })
		if err != nil {
			return err
		}
		slices.SortFunc(items, func(a, b item) int { return cmpInt(a.seq, b.seq) })
		for len(items) > 0 {
			part := items[:min(len(items), searchChunk)]
			items = items[len(part):]
			seqs := make([]int64, len(part))
			for i, it := range part {
				seqs[i] = it.seq
			}
			raws, err := db.rawEvents(ctx, seqs)
			if err != nil {
				return err
			}
			for _, it := range part {
				if raw, ok := raws[it.seq]; ok {
					if err := fn(it.ref, raw); err != nil {
						return err
					}
				}
			}
			if err := ctx.Err(); err != nil {
				return err
			}
		}
	}
	return nil
}

// SetEventTexts gives a stored event the ids of its texts (adding the
// texts new to the index), in the writer's open transaction.
func (w *Writer) SetEventTexts(ctx context.Context, ref analyze.Ref, ev *maildiag.Event) error {
	if err := w.begin(ctx); err != nil {
		return err
	}
	t, err := w.eventTextIDs(ev)
	if err != nil {
		return err
	}
	if t == (eventTexts{}) {
		return nil
	}
	if _, err := w.exec(`UPDATE events SET subject_id = ?, from_id = ?, ip_id = ?, tags_id = ?, route_id = ? WHERE day = ? AND recipient_id = ? AND id_hash = ?`,
		nullID(t.subject), nullID(t.from), nullID(t.ip), nullID(t.tags), nullID(t.route), ref[0], ref[1], ref[2]); err != nil {
		return fmt.Errorf("store event texts: %w", err)
	}
	// The failure's tag set and the IP and tag splits, as an import keeps them.
	if t.tags != 0 {
		if _, err := w.exec(`UPDATE failures SET tags_id = ? WHERE day = ? AND recipient_id = ? AND id_hash = ?`,
			t.tags, ref[0], ref[1], ref[2]); err != nil {
			return fmt.Errorf("store event texts: %w", err)
		}
	}
	for _, id := range []int64{t.ip, t.tags} {
		if id == 0 {
			continue
		}
		if _, err := w.exec(`INSERT INTO split_counts(day, sending_domain_id, text_id, type_id, outcome, n)
	SELECT e.day, e.sending_domain_id, ?, e.type_id, COALESCE(f.outcome, ''), 1
	FROM events e LEFT JOIN failures f ON f.day = e.day AND f.recipient_id = e.recipient_id AND f.id_hash = e.id_hash
	WHERE e.day = ? AND e.recipient_id = ? AND e.id_hash = ?
	ON CONFLICT(day, sending_domain_id, text_id, type_id, outcome) DO UPDATE SET n = n + 1`,
			id, ref[0], ref[1], ref[2]); err != nil {
			return fmt.Errorf("store event splits: %w", err)
		}
	}
	return nil
}

// TextsBackfilled records that no event lacks its text ids any more, in
// the writer's open transaction.
func (w *Writer) TextsBackfilled(ctx context.Context) error {
	if err := w.begin(ctx); err != nil {
		return err
	}
	if _, err := w.exec(`DELETE FROM meta WHERE key = ?`, metaTextsBackfill); err != nil {
		return fmt.Errorf("store meta: %w", err)
	}
	return nil
}
