package pg

import (
	"context"
	"fmt"

	"github.com/maildiag/maildiag"
)

// What sync writes besides events, suppressions and ranges (writer.go):
// the end of a suppression-list snapshot and Mailgun's Metrics API counts.
// Two syncs at once lose and double nothing: events by their identity (the
// primary key), and their transactions take turns (storeLock, writer.go).

// FinishListSync ends a snapshot of one suppression list, whose entries
// were stored with AddSuppressions at startedUS: the entries of the list
// not seen since are marked removed at startedUS, and the list is recorded
// as synced. It returns how many entries were marked removed.
func (w *Writer) FinishListSync(ctx context.Context, sendingDomain, list string, startedUS int64) (int, error) {
	if err := w.beginStore(ctx); err != nil {
		return 0, err
	}
	// Two syncs ending snapshots of one list take turns; the older
	// snapshot marks nothing the newer one saw (last_seen >= its start).
	if _, err := w.tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('maildiag list ' || $1 || ' ' || $2))`, sendingDomain, list); err != nil {
		return 0, fmt.Errorf("record list sync: %w", err)
	}
	if _, err := w.tx.Exec(ctx, `INSERT INTO domains(name, sending) VALUES ($1, true) ON CONFLICT (name) DO UPDATE SET sending = true WHERE NOT domains.sending`,
		sendingDomain); err != nil {
		return 0, fmt.Errorf("record list sync: %w", mayNotWrite(err))
	}
	tag, err := w.tx.Exec(ctx, `UPDATE suppressions SET removed_at = $1
		WHERE sending_domain_id = (SELECT id FROM domains WHERE name = $2) AND list = $3 AND removed_at IS NULL AND last_seen < $1`,
		startedUS, sendingDomain, list)
	if err != nil {
		return 0, fmt.Errorf("record list sync: %w", err)
	}
	if _, err := w.tx.Exec(ctx, `INSERT INTO list_syncs(sending_domain_id, list, synced_at)
		VALUES ((SELECT id FROM domains WHERE name = $1), $2, $3)
		ON CONFLICT (sending_domain_id, list) DO UPDATE SET synced_at = GREATEST(list_syncs.synced_at, excluded.synced_at)`,
		sendingDomain, list, startedUS); err != nil {
		return 0, fmt.Errorf("record list sync: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// AddMetrics stores periods of Mailgun's Metrics API in the open
// transaction, each replacing what an earlier sync stored for its domain,
// resolution and start (a period still running is read again).
func (w *Writer) AddMetrics(ctx context.Context, ms []maildiag.Metric, syncedUS int64) error {
	if len(ms) == 0 {
		return nil
	}
	if err := w.beginStore(ctx); err != nil {
		return err
	}
	for _, m := range ms {
		if m.Resolution != maildiag.ResolutionHour && m.Resolution != maildiag.ResolutionDay {
			return fmt.Errorf("store metrics of %s: resolution %q is not hour or day", m.SendingDomain, m.Resolution)
		}
		if _, err := w.tx.Exec(ctx, `INSERT INTO metrics(sending_domain, resolution, start_us, accepted, delivered,
			temporary_failed, permanent_failed, hard_bounces, soft_bounces, suppressed, complained, unsubscribed, opened, clicked,
			synced_us) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
			ON CONFLICT (sending_domain, resolution, start_us) DO UPDATE SET accepted = excluded.accepted,
				delivered = excluded.delivered, temporary_failed = excluded.temporary_failed,
				permanent_failed = excluded.permanent_failed, hard_bounces = excluded.hard_bounces,
				soft_bounces = excluded.soft_bounces, suppressed = excluded.suppressed, complained = excluded.complained,
				unsubscribed = excluded.unsubscribed, opened = excluded.opened, clicked = excluded.clicked,
				synced_us = excluded.synced_us`,
			m.SendingDomain, m.Resolution, m.StartUS, m.Accepted, m.Delivered, m.TemporaryFailed, m.PermanentFailed,
			m.HardBounces, m.SoftBounces, m.Suppressed, m.Complained, m.Unsubscribed, m.Opened, m.Clicked, syncedUS); err != nil {
			return fmt.Errorf("store metrics of %s: %w", m.SendingDomain, mayNotWrite(err))
		}
	}
	return nil
}

// Metrics returns the stored periods of one resolution that start in
// [fromUS, toUS), of the named sending domains (none: every domain),
// oldest first and by domain.
func (db *DB) Metrics(ctx context.Context, resolution string, domains []string, fromUS, toUS int64) ([]maildiag.Metric, error) {
	return collect(ctx, db, "read metrics", `
		SELECT sending_domain, resolution, start_us, accepted, delivered, temporary_failed, permanent_failed,
			hard_bounces, soft_bounces, suppressed, complained, unsubscribed, opened, clicked
		FROM metrics WHERE resolution = $1 AND start_us >= $2 AND start_us < $3
			AND (COALESCE(cardinality($4::text[]), 0) = 0 OR sending_domain = ANY($4))
		ORDER BY start_us, sending_domain`, []any{resolution, fromUS, toUS, domains},
		func(m *maildiag.Metric) []any {
			return []any{&m.SendingDomain, &m.Resolution, &m.StartUS, &m.Accepted, &m.Delivered, &m.TemporaryFailed,
				&m.PermanentFailed, &m.HardBounces, &m.SoftBounces, &m.Suppressed, &m.Complained, &m.Unsubscribed, &m.Opened, &m.Clicked}
		})
}
