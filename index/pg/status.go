package pg

import (
	"context"
	"fmt"

	"github.com/maildiag/maildiag"
)

// maxImportsShown bounds the imports listed by Status.
const maxImportsShown = 20

// Status reports what the index holds from the counts kept at ingest, so
// it costs the same at any size.
func (db *DB) Status(ctx context.Context) (*maildiag.IndexStatus, error) {
	st := &maildiag.IndexStatus{Path: db.Where(), Schema: SchemaVersion()}
	if err := db.pool.QueryRow(ctx, `SELECT pg_database_size(current_database())`).Scan(&st.SizeBytes); err != nil {
		return nil, fmt.Errorf("status: %w", err)
	}
	counts, err := collect(ctx, db, "status", `
		SELECT COALESCE(d.name, ''), t.name, SUM(c.n)::bigint
		FROM daily_counts c JOIN event_types t ON t.id = c.type_id
		LEFT JOIN domains d ON d.id = c.sending_domain_id
		GROUP BY 1, 2 ORDER BY 1, 3 DESC, 2`, nil, func(c *maildiag.EventCount) []any { return []any{&c.SendingDomain, &c.Type, &c.Events} })
	if err != nil {
		return nil, err
	}
	st.SetCounts(counts)
	if err := db.coverage(ctx, st); err != nil {
		return nil, err
	}
	if st.FirstUS, st.LastUS, err = db.span(ctx); err != nil {
		return nil, err
	}
	if st.Suppressions, err = collect(ctx, db, "status", `
		SELECT d.name, s.list, COUNT(*) FILTER (WHERE s.removed_at IS NULL), COUNT(*) FILTER (WHERE s.removed_at IS NOT NULL)
		FROM suppressions s JOIN domains d ON d.id = s.sending_domain_id
		GROUP BY 1, 2 ORDER BY 1, 2`, nil, func(c *maildiag.SuppressionCount) []any {
		return []any{&c.SendingDomain, &c.List, &c.Active, &c.Removed}
	}); err != nil {
		return nil, err
	}
	if err := db.pool.QueryRow(ctx, `SELECT COUNT(*) FROM rejects`).Scan(&st.Rejects); err != nil {
		return nil, fmt.Errorf("status: %w", err)
	}
	if st.Syncs, err = collect(ctx, db, "status", `SELECT sending_domain, source, MIN(from_us), MAX(to_us), MAX(synced_at), COUNT(*)
		FROM sync_ranges GROUP BY 1, 2 ORDER BY 1, 2`, nil, func(s *maildiag.SyncStatus) []any {
		return []any{&s.SendingDomain, &s.Source, &s.FromUS, &s.ToUS, &s.LastSyncUS, &s.Ranges}
	}); err != nil {
		return nil, err
	}
	if st.ListSyncs, err = db.ListSyncs(ctx); err != nil {
		return nil, err
	}
	if st.Imports, err = db.Imports(ctx, maxImportsShown); err != nil {
		return nil, err
	}
	st.Lists()
	return st, nil
}

// coverage reads the days with events per sending domain.
func (db *DB) coverage(ctx context.Context, st *maildiag.IndexStatus) error {
	days, err := collect(ctx, db, "status", `
		SELECT COALESCE(d.name, ''), c.day::bigint
		FROM (SELECT DISTINCT sending_domain_id, day FROM daily_counts) c
		LEFT JOIN domains d ON d.id = c.sending_domain_id
		ORDER BY 1, 2`, nil, func(d *maildiag.DomainDay) []any { return []any{&d.SendingDomain, &d.Day} })
	if err != nil {
		return err
	}
	st.SetCoverage(days)
	return nil
}
