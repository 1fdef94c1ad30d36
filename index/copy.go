package index

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"

	ddzstd "github.com/DataDog/zstd"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/index/copyrows"
)

// What maildiag copy reads of an index besides its events, and writes into
// another, as it is kept: suppression entries with their seen and removed
// times, synced ranges, list syncs, metrics, kept messages (the audit
// goes through Audit and AddAudit, events through the import path).

// ForEachSuppression calls fn with every suppression entry, removed ones
// too, with its original record.
func (db *DB) ForEachSuppression(ctx context.Context, fn func(s *maildiag.StoredSuppression) error) error {
	rows, err := queryAll(ctx, db, "read suppressions", copyrows.SuppressionsQuery, nil, (*copyrows.Suppression).Dest)
	if err != nil {
		return err
	}
	for i := range rows {
		if err := fn(rows[i].Entry()); err != nil {
			return err
		}
	}
	return nil
}

// CopySuppression stores an entry as another index kept it, with its seen
// and removed times; importID marks it imported (0: synced). An entry
// stored before (same sending domain, list, address and creation time)
// keeps the earliest first sighting and the latest last one, with the
// removal that goes with the latest. It returns whether the entry was new.
func (w *Writer) CopySuppression(ctx context.Context, s *maildiag.StoredSuppression, importID int64) (bool, error) {
	if err := w.begin(ctx); err != nil {
		return false, err
	}
	sd, err := w.sendingDomainID(s.SendingDomain)
	if err != nil {
		return false, err
	}
	dom := s.Address
	if s.Kind != "domain" {
		dom = maildiag.DomainOf(s.Address)
	}
	did, err := w.domainID(dom)
	if err != nil {
		return false, err
	}
	known := false
	if err := w.each(`SELECT 1 FROM suppressions WHERE sending_domain_id = ? AND list = ? AND address = ? AND created_at = ?`,
		[]any{sd, s.List, s.Address, s.CreatedUS}, func([]driver.Value) error { known = true; return nil }); err != nil {
		return false, fmt.Errorf("store suppression %s: %w", s.Address, err)
	}
	if _, err := w.exec(`INSERT INTO suppressions(sending_domain_id, list, address, domain_id, kind, code, error, tags,
		reason, created_at, first_seen, last_seen, removed_at, import_id, raw) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (sending_domain_id, list, address, created_at) DO UPDATE SET
			first_seen = MIN(first_seen, excluded.first_seen),
			removed_at = CASE WHEN excluded.last_seen >= last_seen THEN excluded.removed_at ELSE removed_at END,
			last_seen = MAX(last_seen, excluded.last_seen)`,
		sd, s.List, s.Address, did, nullStr(s.Kind), nullStr(s.Code), nullStr(s.Error), tagsJSON(s.Tags), nullStr(s.Reason),
		s.CreatedUS, s.FirstSeenUS, s.LastSeenUS, nullID(s.RemovedUS), nullID(importID), nullStr(string(s.Raw))); err != nil {
		return false, fmt.Errorf("store suppression %s: %w", s.Address, err)
	}
	return !known, nil
}

// AllSyncedRanges returns every synced range as stored, by sending domain,
// source and start.
func (db *DB) AllSyncedRanges(ctx context.Context) ([]maildiag.SyncedRange, error) {
	return queryAll(ctx, db, "read synced ranges", `SELECT sending_domain, source, from_us, to_us, synced_at FROM sync_ranges ORDER BY 1, 2, 3`,
		nil, func(r *maildiag.SyncedRange) []any {
			return []any{&r.SendingDomain, &r.Source, &r.FromUS, &r.ToUS, &r.SyncedUS}
		})
}

// SetListSync records, in the open transaction, that a suppression list
// was read whole at syncedUS, unless a later reading is recorded; unlike
// FinishListSync it marks nothing removed.
func (w *Writer) SetListSync(ctx context.Context, sendingDomain, list string, syncedUS int64) error {
	if err := w.begin(ctx); err != nil {
		return err
	}
	sd, err := w.sendingDomainID(sendingDomain)
	if err != nil {
		return err
	}
	if _, err := w.exec(`INSERT INTO list_syncs(sending_domain_id, list, synced_at) VALUES (?, ?, ?)
		ON CONFLICT DO UPDATE SET synced_at = MAX(synced_at, excluded.synced_at)`, sd, list, syncedUS); err != nil {
		return fmt.Errorf("record list sync: %w", err)
	}
	return nil
}

// AllMetrics returns every stored period of the Metrics API with when it
// was synced.
func (db *DB) AllMetrics(ctx context.Context) ([]maildiag.StoredMetric, error) {
	return queryAll(ctx, db, "read metrics", `SELECT sending_domain, resolution, start_us, accepted, delivered, temporary_failed,
		permanent_failed, hard_bounces, soft_bounces, suppressed, complained, unsubscribed, opened, clicked, synced_us
		FROM metrics ORDER BY sending_domain, resolution, start_us`, nil, func(s *maildiag.StoredMetric) []any {
		m := &s.Metric
		return []any{&m.SendingDomain, &m.Resolution, &m.StartUS, &m.Accepted, &m.Delivered, &m.TemporaryFailed,
			&m.PermanentFailed, &m.HardBounces, &m.SoftBounces, &m.Suppressed, &m.Complained, &m.Unsubscribed, &m.Opened,
			&m.Clicked, &s.SyncedUS}
	})
}

// ForEachKeptMessage calls fn with every kept message, decompressed. The
// index keeps a hash of the message-id, not the id: MessageID is empty.
func (db *DB) ForEachKeptMessage(ctx context.Context, fn func(m *maildiag.KeptMessage) error) error {
	rows, err := db.sql.QueryContext(ctx, `SELECT storage_key, fetched_at, codec, data FROM kept_messages ORDER BY message_key, storage_key`)
	if err != nil {
		return fmt.Errorf("read kept messages: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var m maildiag.KeptMessage
		var codec string
		var data []byte
		if err := rows.Scan(&m.StorageKey, &m.FetchedUS, &codec, &data); err != nil {
			return fmt.Errorf("read kept messages: %w", err)
		}
		if codec != codecZstd {
			return fmt.Errorf("read kept message: unknown codec %q", codec)
		}
		if m.Doc, err = ddzstd.Decompress(nil, data); err != nil {
			return fmt.Errorf("read kept message: %w", err)
		}
		if err := fn(&m); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("read kept messages: %w", err)
	}
	return nil
}
