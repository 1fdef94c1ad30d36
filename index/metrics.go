package index

import (
	"context"
	"fmt"
	"strings"

	"github.com/maildiag/maildiag"
)

// AddMetrics stores periods of Mailgun's Metrics API in the open
// transaction, each replacing what an earlier sync stored for its domain,
// resolution and start (a period still running is read again).
func (w *Writer) AddMetrics(ctx context.Context, ms []maildiag.Metric, syncedUS int64) error {
	if len(ms) == 0 {
		return nil
	}
	if err := w.begin(ctx); err != nil {
		return err
	}
	for _, m := range ms {
		if m.Resolution != maildiag.ResolutionHour && m.Resolution != maildiag.ResolutionDay {
			return fmt.Errorf("store metrics of %s: resolution %q is not hour or day", m.SendingDomain, m.Resolution)
		}
		if _, err := w.exec(`INSERT OR REPLACE INTO metrics(sending_domain, resolution, start_us, accepted, delivered,
			temporary_failed, permanent_failed, hard_bounces, soft_bounces, suppressed, complained, unsubscribed, opened, clicked,
			synced_us) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			m.SendingDomain, m.Resolution, m.StartUS, m.Accepted, m.Delivered, m.TemporaryFailed, m.PermanentFailed,
			m.HardBounces, m.SoftBounces, m.Suppressed, m.Complained, m.Unsubscribed, m.Opened, m.Clicked, syncedUS); err != nil {
			return fmt.Errorf("store metrics of %s: %w", m.SendingDomain, err)
		}
	}
	return nil
}

// Metrics returns the stored periods of one resolution that start in
// [fromUS, toUS), of the named sending domains (none: every domain),
// oldest first and by domain.
func (db *DB) Metrics(ctx context.Context, resolution string, domains []string, fromUS, toUS int64) ([]maildiag.Metric, error) {
	q := `SELECT sending_domain, resolution, start_us, accepted, delivered, temporary_failed, permanent_failed,
		hard_bounces, soft_bounces, suppressed, complained, unsubscribed, opened, clicked
		FROM metrics WHERE resolution = ? AND start_us >= ? AND start_us < ?`
	args := []any{resolution, fromUS, toUS}
	if len(domains) > 0 {
		q += ` AND sending_domain IN (?` + strings.Repeat(`, ?`, len(domains)-1) + `)`
		for _, d := range domains {
			args = append(args, d)
		}
	}
	q += ` ORDER BY start_us, sending_domain`
	return queryAll(ctx, db, "read metrics", q, args, func(m *maildiag.Metric) []any {
		return []any{&m.SendingDomain, &m.Resolution, &m.StartUS, &m.Accepted, &m.Delivered, &m.TemporaryFailed,
			&m.PermanentFailed, &m.HardBounces, &m.SoftBounces, &m.Suppressed, &m.Complained, &m.Unsubscribed, &m.Opened, &m.Clicked}
	})
}
