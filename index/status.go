package index

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"github.com/maildiag/maildiag"
	"os"
)

// Status is what the index holds.
type Status struct {
	Path         string              `json:"path"`
	SizeBytes    int64               `json:"size_bytes"`
	Schema       int                 `json:"schema_version"`
	Events       int64               `json:"events"`
	FirstUS      int64               `json:"first_event_us,omitempty"`
	LastUS       int64               `json:"last_event_us,omitempty"`
	EventCounts  []EventCount        `json:"events_by_domain_and_type"`
	Coverage     []Coverage          `json:"coverage"`
	Suppressions []SuppressionCount  `json:"suppressions"`
	Rejects      int64               `json:"rejects"`
	Imports      []maildiag.Import   `json:"imports"`
	Syncs        []SyncStatus        `json:"syncs"`
	ListSyncs    []maildiag.ListSync `json:"list_syncs"`
}

// SyncStatus is what syncs have read of one sending domain from one
// source: up to when, and when they last ran.
type SyncStatus struct {
	SendingDomain string `json:"sending_domain"`
	Source        string `json:"source"`
	FromUS        int64  `json:"from_us"`
	ToUS          int64  `json:"to_us"` // events before this time are complete
	LastSyncUS    int64  `json:"last_sync_us"`
	Ranges        int    `json:"ranges"` // more than 1: holes a later sync fills
}

// EventCount is the number of events of one type from one sending domain.
type EventCount struct {
	SendingDomain string `json:"sending_domain"`
	Type          string `json:"type"`
	Events        int64  `json:"events"`
}

// Coverage is the span of days a sending domain has events for, and the
// days inside it without any: an export or sync that missed them.
type Coverage struct {
	SendingDomain string     `json:"sending_domain"`
	FirstDay      int64      `json:"first_day"`
	LastDay       int64      `json:"last_day"`
	DaysWithData  int64      `json:"days_with_events"`
	Gaps          []DayRange `json:"gaps"`
}

// DayRange is an inclusive range of UTC day numbers.
type DayRange struct {
	From int64 `json:"from_day"`
	To   int64 `json:"to_day"`
}

// SuppressionCount counts one list of one sending domain.
type SuppressionCount struct {
	SendingDomain string `json:"sending_domain"`
	List          string `json:"list"`
	Active        int64  `json:"active"`
	Removed       int64  `json:"removed"`
}

// maxImportsShown bounds the imports listed by Status.
const maxImportsShown = 20

// Status reports what the index holds; it reads the counts kept at ingest,
// so it costs the same for a thousand events as for ten million.
func (db *DB) Status(ctx context.Context) (*Status, error) {
	st := &Status{Path: db.Path, Schema: SchemaVersion()}
	for _, suffix := range []string{"", "-wal"} {
		if fi, err := os.Stat(db.Path + suffix); err == nil {
			st.SizeBytes += fi.Size()
		}
	}
	counts, err := queryAll(ctx, db, "status", `
		SELECT COALESCE(d.name, ''), t.name, SUM(c.n)
		FROM daily_counts c JOIN event_types t ON t.id = c.type_id
		LEFT JOIN domains d ON d.id = c.sending_domain_id
		GROUP BY 1, 2 ORDER BY 1, 3 DESC`, nil, func(c *EventCount) []any { return []any{&c.SendingDomain, &c.Type, &c.Events} })
	if err != nil {
		return nil, err
	}
	for _, c := range counts {
		st.Events += c.Events
		st.EventCounts = append(st.EventCounts, c)
	}
	if err := db.coverage(ctx, st); err != nil {
		return nil, err
	}
	if st.FirstUS, st.LastUS, err = db.span(ctx); err != nil {
		return nil, err
	}

	supp, err := queryAll(ctx, db, "status", `
		SELECT d.name, s.list, SUM(s.removed_at IS NULL), SUM(s.removed_at IS NOT NULL)
		FROM suppressions s JOIN domains d ON d.id = s.sending_domain_id
		GROUP BY 1, 2 ORDER BY 1, 2`, nil, func(c *SuppressionCount) []any { return []any{&c.SendingDomain, &c.List, &c.Active, &c.Removed} })
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
	st.Imports, err = db.Imports(ctx, maxImportsShown)
	return st, err
}

// coverage reads the days with events per sending domain and finds the gaps.
func (db *DB) coverage(ctx context.Context, st *Status) error {
	days, err := queryAll(ctx, db, "status", `
		SELECT c.day, COALESCE(d.name, '')
		FROM (SELECT DISTINCT sending_domain_id, day FROM daily_counts) c
		LEFT JOIN domains d ON d.id = c.sending_domain_id
		ORDER BY 2, 1`, nil, idName)
	if err != nil {
		return err
	}
	var cur *Coverage
	for _, r := range days {
		day, name := r.id, r.name
		if cur == nil || cur.SendingDomain != name {
			st.Coverage = append(st.Coverage, Coverage{SendingDomain: name, FirstDay: day, LastDay: day, Gaps: []DayRange{}})
			cur = &st.Coverage[len(st.Coverage)-1]
		} else if day > cur.LastDay+1 {
			cur.Gaps = append(cur.Gaps, DayRange{From: cur.LastDay + 1, To: day - 1})
		}
		cur.LastDay = day
		cur.DaysWithData++
	}
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

func (db *DB) syncStatus(ctx context.Context) ([]SyncStatus, error) {
	out, err := queryAll(ctx, db, "status", `SELECT sending_domain, source, MIN(from_us), MAX(to_us), MAX(synced_at), COUNT(*)
		FROM sync_ranges GROUP BY 1, 2 ORDER BY 1, 2`, nil, func(s *SyncStatus) []any {
		return []any{&s.SendingDomain, &s.Source, &s.FromUS, &s.ToUS, &s.LastSyncUS, &s.Ranges}
	})
	if out == nil {
		out = []SyncStatus{}
	}
	return out, err
}
