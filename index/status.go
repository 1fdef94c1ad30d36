package index

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"github.com/maildiag/maildiag"
	"os"
)

// maxImportsShown bounds the imports listed by Status.
const maxImportsShown = 20

// Status reports what the index holds; it reads the counts kept at ingest,
// so it costs the same for a thousand events as for ten million.
func (db *DB) Status(ctx context.Context) (*maildiag.IndexStatus, error) {
	st := &maildiag.IndexStatus{Path: db.Path, Schema: SchemaVersion()}
	for _, suffix := range []string{"", "-wal"} {
		if fi, err := os.Stat(db.Path + suffix); err == nil {
			st.SizeBytes += fi.Size()
		}
	}
	counts, err := queryAll(ctx, db, "status", `
		SELECT COALESCE(d.name, ''), t.name, SUM(c.n)
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

	supp, err := queryAll(ctx, db, "status", `
		SELECT d.name, s.list, SUM(s.removed_at IS NULL), SUM(s.removed_at IS NOT NULL)
		FROM suppressions s JOIN domains d ON d.id = s.sending_domain_id
		GROUP BY 1, 2 ORDER BY 1, 2`, nil, func(c *maildiag.SuppressionCount) []any {
		return []any{&c.SendingDomain, &c.List, &c.Active, &c.Removed}
	})
	if err != nil {
		return nil, err
	}
	st.Suppressions = append(st.Suppressions, supp...)
	if err := db.sql.QueryRowContext(ctx, `SELECT COUNT(*) FROM rejects`).Scan(&st.Rejects); err != nil {
		return nil, fmt.Errorf("status: %w", err)
	}
	if st.Syncs, err = db.syncStatus(ctx); err != nil {
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
	days, err := queryAll(ctx, db, "status", `
		SELECT COALESCE(d.name, ''), c.day
		FROM (SELECT DISTINCT sending_domain_id, day FROM daily_counts) c
		LEFT JOIN domains d ON d.id = c.sending_domain_id
		ORDER BY 1, 2`, nil, func(d *maildiag.DomainDay) []any { return []any{&d.SendingDomain, &d.Day} })
	if err != nil {
		return err
	}
	st.SetCoverage(days)
	return nil
}

// Imports lists the most recent imports, newest first; one recorded as
// running whose process has ended is reported interrupted.
func (db *DB) Imports(ctx context.Context, limit int) ([]maildiag.Import, error) {
	type row struct {
		im     maildiag.Import
		shapes string
	}
	rows, err := queryAll(ctx, db, "list imports", `
		SELECT id, source, COALESCE(sha256, ''), COALESCE(bytes, 0), gzip, COALESCE(shapes, ''), status,
			COALESCE(error, ''), started_at, COALESCE(finished_at, 0), events_read, events_new,
			suppressions_read, suppressions_new, rejects
		FROM imports ORDER BY id DESC LIMIT ?`, []any{limit}, func(r *row) []any {
		im := &r.im
		return []any{&im.ID, &im.Source, &im.SHA256, &im.Bytes, &im.Gzip, &r.shapes, &im.Status, &im.Error,
			&im.StartedUS, &im.FinishedUS, &im.EventsRead, &im.EventsNew, &im.SuppressionsRead, &im.SuppressionsNew, &im.Rejects}
	})
	if err != nil {
		return nil, err
	}
	out := make([]maildiag.Import, len(rows))
	var running []int64
	for i, r := range rows {
		out[i] = r.im
		if r.shapes != "" {
			json.Unmarshal([]byte(r.shapes), &out[i].Shapes)
		}
		if r.im.Status == maildiag.ImportRunning {
			running = append(running, r.im.ID)
		}
	}
	held, err := db.importsHeld(running)
	if err != nil {
		return nil, err
	}
	for i := range out {
		if out[i].Status == maildiag.ImportRunning && !held[out[i].ID] {
			out[i].Status, out[i].Error = maildiag.ImportInterrupted, interruptedError
		}
	}
	return out, nil
}

// Meta returns a value of the meta table, "" when it has none.
func (db *DB) Meta(ctx context.Context, key string) (string, error) {
	var v string
	err := db.sql.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = ?`, key).Scan(&v)
	if err == sql.ErrNoRows {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read index meta: %w", err)
	}
	return v, nil
}

func (db *DB) syncStatus(ctx context.Context) ([]maildiag.SyncStatus, error) {
	return queryAll(ctx, db, "status", `SELECT sending_domain, source, MIN(from_us), MAX(to_us), MAX(synced_at), COUNT(*)
		FROM sync_ranges GROUP BY 1, 2 ORDER BY 1, 2`, nil, func(s *maildiag.SyncStatus) []any {
		return []any{&s.SendingDomain, &s.Source, &s.FromUS, &s.ToUS, &s.LastSyncUS, &s.Ranges}
	})
}
