package index

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"time"

	"github.com/maildiag/maildiag"
)

// SyncedRanges returns the ranges of a sending domain's events a sync has
// read completely from a source, merged and in order.
func (db *DB) SyncedRanges(ctx context.Context, sendingDomain, source string) ([]maildiag.Range, error) {
	out, err := queryAll(ctx, db, "read synced ranges", `SELECT from_us, to_us FROM sync_ranges WHERE sending_domain = ? AND source = ? ORDER BY from_us`,
		[]any{sendingDomain, source}, func(r *maildiag.Range) []any { return []any{&r.FromUS, &r.ToUS} })
	return maildiag.MergeRanges(out), err
}

// CompleteUntil is the end of the last range of a sending domain's events
// any sync has read completely, from any source; zero when none has.
func (db *DB) CompleteUntil(ctx context.Context, sendingDomain string) (time.Time, error) {
	var to sql.NullInt64
	if err := db.queryRow(ctx, `SELECT MAX(to_us) FROM sync_ranges WHERE sending_domain = ?`, sendingDomain).Scan(&to); err != nil {
		return time.Time{}, fmt.Errorf("read synced ranges: %w", err)
	}
	return maildiag.TimeUS(to.Int64), nil
}

// AddSyncedRange records, in the writer's open transaction, that a range of
// a sending domain's events has been read completely from a source: it
// commits together with the events it covers. Overlapping and touching
// ranges are merged.
func (w *Writer) AddSyncedRange(ctx context.Context, sendingDomain, source string, r maildiag.Range, syncedUS int64) error {
	if r.ToUS <= r.FromUS {
		return nil
	}
	if err := w.begin(ctx); err != nil {
		return err
	}
	var touching []maildiag.Range
	err := w.each(`SELECT from_us, to_us FROM sync_ranges WHERE sending_domain = ? AND source = ? AND from_us <= ? AND to_us >= ?`,
		[]any{sendingDomain, source, r.ToUS, r.FromUS}, func(row []driver.Value) error {
			touching = append(touching, maildiag.Range{FromUS: row[0].(int64), ToUS: row[1].(int64)})
			return nil
		})
	if err != nil {
		return fmt.Errorf("record synced range: %w", err)
	}
	for _, t := range touching {
		r.FromUS, r.ToUS = min(r.FromUS, t.FromUS), max(r.ToUS, t.ToUS)
		if _, err := w.exec(`DELETE FROM sync_ranges WHERE sending_domain = ? AND source = ? AND from_us = ?`, sendingDomain, source, t.FromUS); err != nil {
			return fmt.Errorf("record synced range: %w", err)
		}
	}
	if _, err := w.exec(`INSERT INTO sync_ranges(sending_domain, source, from_us, to_us, synced_at) VALUES (?, ?, ?, ?, ?)`,
		sendingDomain, source, r.FromUS, r.ToUS, syncedUS); err != nil {
		return fmt.Errorf("record synced range: %w", err)
	}
	return nil
}

// FinishListSync ends a snapshot of one suppression list, whose entries
// were stored with AddSuppressions at startedUS: the entries of the list
// not seen since are marked removed at startedUS, and the list is recorded
// as synced. It returns how many entries were marked removed.
func (w *Writer) FinishListSync(ctx context.Context, sendingDomain, list string, startedUS int64) (int, error) {
	if err := w.begin(ctx); err != nil {
		return 0, err
	}
	sd, err := w.sendingDomainID(sendingDomain)
	if err != nil {
		return 0, err
	}
	res, err := w.exec(`UPDATE suppressions SET removed_at = ?
		WHERE sending_domain_id = ? AND list = ? AND removed_at IS NULL AND last_seen < ?`, startedUS, sd, list, startedUS)
	if err != nil {
		return 0, fmt.Errorf("record list sync: %w", err)
	}
	n, _ := res.RowsAffected()
	if _, err := w.exec(`INSERT INTO list_syncs(sending_domain_id, list, synced_at) VALUES (?, ?, ?)
		ON CONFLICT DO UPDATE SET synced_at = excluded.synced_at`, sd, list, startedUS); err != nil {
		return 0, fmt.Errorf("record list sync: %w", err)
	}
	return int(n), nil
}

// MarkSuppressionRemoved records that an address was removed from a list
// (by maildiag itself), so the index reflects it before the next sync.
func (w *Writer) MarkSuppressionRemoved(ctx context.Context, sendingDomain, list, address string, atUS int64) error {
	if err := w.begin(ctx); err != nil {
		return err
	}
	sd, err := w.domainID(sendingDomain)
	if err != nil {
		return err
	}
	if _, err := w.exec(`UPDATE suppressions SET removed_at = ? WHERE sending_domain_id = ? AND list = ? AND address = ? AND removed_at IS NULL`,
		atUS, sd, list, address); err != nil {
		return fmt.Errorf("record removal: %w", err)
	}
	return nil
}
