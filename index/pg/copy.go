package pg

import (
	"context"
	"encoding/json"
	"fmt"

	ddzstd "github.com/DataDog/zstd"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/index/copyrows"
)

// What maildiag copy reads of an index besides its events, and writes into
// another, as it is kept (the SQLite index's ../copy.go): suppression
// entries with their seen and removed times, synced ranges, list syncs,
// metrics, kept messages. The audit goes through Audit and AddAudit,
// events through the import path.

// ForEachSuppression calls fn with every suppression entry, removed ones
// too, with its original record.
func (db *DB) ForEachSuppression(ctx context.Context, fn func(s *maildiag.StoredSuppression) error) error {
	rows, err := collect(ctx, db, "read suppressions", copyrows.SuppressionsQuery, nil, (*copyrows.Suppression).Dest)
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

// sendingDomain makes sure a sending domain is in the dictionary and
// marked sending, in the open transaction.
func (w *Writer) sendingDomain(ctx context.Context, name string) error {
	if name == "" {
		return nil
	}
	_, err := w.tx.Exec(ctx, `INSERT INTO domains(name, sending) VALUES ($1, true)
		ON CONFLICT (name) DO UPDATE SET sending = true WHERE NOT domains.sending`, name)
	return mayNotWrite(err)
}

// CopySuppression stores an entry as another index kept it, with its seen
// and removed times; importID marks it imported (0: synced). An entry
// stored before (same sending domain, list, address and creation time)
// keeps the earliest first sighting and the latest last one, with the
// removal that goes with the latest. It returns whether the entry was new.
func (w *Writer) CopySuppression(ctx context.Context, s *maildiag.StoredSuppression, importID int64) (bool, error) {
	if err := w.beginStore(ctx); err != nil {
		return false, err
	}
	dom := s.Address
	if s.Kind != "domain" {
		dom = maildiag.DomainOf(s.Address)
	}
	if err := w.sendingDomain(ctx, s.SendingDomain); err != nil {
		return false, fmt.Errorf("store suppression %s: %w", s.Address, err)
	}
	if dom != "" {
		if _, err := w.tx.Exec(ctx, `INSERT INTO domains(name) VALUES ($1) ON CONFLICT DO NOTHING`, dom); err != nil {
			return false, fmt.Errorf("store suppression %s: %w", s.Address, err)
		}
	}
	var tags any
	if len(s.Tags) > 0 {
		b, _ := json.Marshal(s.Tags)
		tags = string(b)
	}
	var inserted bool
	err := w.tx.QueryRow(ctx, `
		INSERT INTO suppressions(sending_domain_id, list, address, domain_id, kind, code, error, tags, reason,
			created_at, first_seen, last_seen, removed_at, import_id, raw)
		VALUES ((SELECT id FROM domains WHERE name = $1), $2, $3, COALESCE((SELECT id FROM domains WHERE name = $4), 0),
			$5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
		ON CONFLICT (sending_domain_id, list, address, created_at) DO UPDATE SET
			first_seen = LEAST(suppressions.first_seen, excluded.first_seen),
			removed_at = CASE WHEN excluded.last_seen >= suppressions.last_seen THEN excluded.removed_at ELSE suppressions.removed_at END,
			last_seen = GREATEST(suppressions.last_seen, excluded.last_seen)
		RETURNING xmax = 0`,
		s.SendingDomain, s.List, pgText(s.Address), dom, nullStr(s.Kind), nullText(s.Code), nullText(s.Error), tags,
		nullText(s.Reason), s.CreatedUS, s.FirstSeenUS, s.LastSeenUS, nullID(s.RemovedUS), nullID(importID), nullText(string(s.Raw))).Scan(&inserted)
	if err != nil {
		return false, fmt.Errorf("store suppression %s: %w", s.Address, mayNotWrite(err))
	}
	return inserted, nil
}

// AllSyncedRanges returns every synced range as stored, by sending domain,
// source and start.
func (db *DB) AllSyncedRanges(ctx context.Context) ([]maildiag.SyncedRange, error) {
	return collect(ctx, db, "read synced ranges", `SELECT sending_domain, source, from_us, to_us, synced_at FROM sync_ranges
		ORDER BY sending_domain COLLATE "C", source COLLATE "C", from_us`, nil,
		func(r *maildiag.SyncedRange) []any {
			return []any{&r.SendingDomain, &r.Source, &r.FromUS, &r.ToUS, &r.SyncedUS}
		})
}

// SetListSync records, in the open transaction, that a suppression list
// was read whole at syncedUS, unless a later reading is recorded; unlike
// FinishListSync it marks nothing removed.
func (w *Writer) SetListSync(ctx context.Context, sendingDomain, list string, syncedUS int64) error {
	if err := w.beginStore(ctx); err != nil {
		return err
	}
	if err := w.sendingDomain(ctx, sendingDomain); err != nil {
		return fmt.Errorf("record list sync: %w", err)
	}
	if _, err := w.tx.Exec(ctx, `INSERT INTO list_syncs(sending_domain_id, list, synced_at)
		VALUES ((SELECT id FROM domains WHERE name = $1), $2, $3)
		ON CONFLICT (sending_domain_id, list) DO UPDATE SET synced_at = GREATEST(list_syncs.synced_at, excluded.synced_at)`,
		sendingDomain, list, syncedUS); err != nil {
		return fmt.Errorf("record list sync: %w", mayNotWrite(err))
	}
	return nil
}

// AllMetrics returns every stored period of the Metrics API with when it
// was synced.
func (db *DB) AllMetrics(ctx context.Context) ([]maildiag.StoredMetric, error) {
	return collect(ctx, db, "read metrics", `SELECT sending_domain, resolution, start_us, accepted, delivered, temporary_failed,
		permanent_failed, hard_bounces, soft_bounces, suppressed, complained, unsubscribed, opened, clicked, synced_us
		FROM metrics ORDER BY sending_domain COLLATE "C", resolution, start_us`, nil, func(s *maildiag.StoredMetric) []any {
		m := &s.Metric
		return []any{&m.SendingDomain, &m.Resolution, &m.StartUS, &m.Accepted, &m.Delivered, &m.TemporaryFailed,
			&m.PermanentFailed, &m.HardBounces, &m.SoftBounces, &m.Suppressed, &m.Complained, &m.Unsubscribed, &m.Opened,
			&m.Clicked, &s.SyncedUS}
	})
}

// ForEachKeptMessage calls fn with every kept message, decompressed.
func (db *DB) ForEachKeptMessage(ctx context.Context, fn func(m *maildiag.KeptMessage) error) error {
	type row struct {
		m     maildiag.KeptMessage
		codec string
		data  []byte
	}
	rows, err := collect(ctx, db, "read kept messages", `SELECT message_id, storage_key, fetched_at, codec, data FROM kept_messages
		ORDER BY message_id COLLATE "C", storage_key COLLATE "C"`, nil,
		func(r *row) []any { return []any{&r.m.MessageID, &r.m.StorageKey, &r.m.FetchedUS, &r.codec, &r.data} })
	if err != nil {
		return err
	}
	for i := range rows {
		r := &rows[i]
		if r.codec != "zstd" {
			return fmt.Errorf("read kept message: unknown codec %q", r.codec)
		}
		if r.m.Doc, err = ddzstd.Decompress(nil, r.data); err != nil {
			return fmt.Errorf("read kept message: %w", err)
		}
		if err := fn(&r.m); err != nil {
			return err
		}
	}
	return nil
}
