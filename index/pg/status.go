package pg

import (
	"context"
	"fmt"

	"github.com/maildiag/maildiag"
)

// Status is what the index holds; its JSON is the same as the SQLite
// index's status (index.Status), with path the URL without its password.
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

// SyncStatus is what syncs have read of one sending domain from one source.
type SyncStatus struct {
	SendingDomain string `json:"sending_domain"`
	Source        string `json:"source"`
	FromUS        int64  `json:"from_us"`
	ToUS          int64  `json:"to_us"`
	LastSyncUS    int64  `json:"last_sync_us"`
	Ranges        int    `json:"ranges"`
}

// EventCount is the number of events of one type from one sending domain.
type EventCount struct {
	SendingDomain string `json:"sending_domain"`
	Type          string `json:"type"`
	Events        int64  `json:"events"`
}

// Coverage is the span of days a sending domain has events for, and the
// days inside it without any.
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

// Status reports what the index holds from the counts kept at ingest, so
// it costs the same at any size.
func (db *DB) Status(ctx context.Context) (*Status, error) {
	st := &Status{Path: db.Where(), Schema: SchemaVersion()}
	if err := db.pool.QueryRow(ctx, `SELECT pg_database_size(current_database())`).Scan(&st.SizeBytes); err != nil {
		return nil, fmt.Errorf("status: %w", err)
	}
	counts, err := collect(ctx, db, "status", `
		SELECT COALESCE(d.name, ''), t.name, SUM(c.n)::bigint
		FROM daily_counts c JOIN event_types t ON t.id = c.type_id
		LEFT JOIN domains d ON d.id = c.sending_domain_id
		GROUP BY 1, 2 ORDER BY 1, 3 DESC, 2`, nil, func(c *EventCount) []any { return []any{&c.SendingDomain, &c.Type, &c.Events} })
	if err != nil {
		return nil, err
	}
	for _, c := range counts {
		st.Events += c.Events
	}
	st.EventCounts = counts
	if err := db.coverage(ctx, st); err != nil {
		return nil, err
	}
	if st.FirstUS, st.LastUS, err = db.span(ctx); err != nil {
		return nil, err
	}
	if st.Suppressions, err = collect(ctx, db, "status", `
		SELECT d.name, s.list, COUNT(*) FILTER (WHERE s.removed_at IS NULL), COUNT(*) FILTER (WHERE s.removed_at IS NOT NULL)
		FROM suppressions s JOIN domains d ON d.id = s.sending_domain_id
		GROUP BY 1, 2 ORDER BY 1, 2`, nil, func(c *SuppressionCount) []any { return []any{&c.SendingDomain, &c.List, &c.Active, &c.Removed} }); err != nil {
		return nil, err
	}
	if err := db.pool.QueryRow(ctx, `SELECT COUNT(*) FROM rejects`).Scan(&st.Rejects); err != nil {
		return nil, fmt.Errorf("status: %w", err)
	}
	if st.Syncs, err = collect(ctx, db, "status", `SELECT sending_domain, source, MIN(from_us), MAX(to_us), MAX(synced_at), COUNT(*)
		FROM sync_ranges GROUP BY 1, 2 ORDER BY 1, 2`, nil, func(s *SyncStatus) []any {
		return []any{&s.SendingDomain, &s.Source, &s.FromUS, &s.ToUS, &s.LastSyncUS, &s.Ranges}
	}); err != nil {
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
	type dayName struct {
		day  int64
		name string
	}
	days, err := collect(ctx, db, "status", `
		SELECT c.day::bigint, COALESCE(d.name, '')
		FROM (SELECT DISTINCT sending_domain_id, day FROM daily_counts) c
		LEFT JOIN domains d ON d.id = c.sending_domain_id
		ORDER BY 2, 1`, nil, func(r *dayName) []any { return []any{&r.day, &r.name} })
	if err != nil {
		return err
	}
	st.Coverage = []Coverage{}
	var cur *Coverage
	for _, r := range days {
		if cur == nil || cur.SendingDomain != r.name {
			st.Coverage = append(st.Coverage, Coverage{SendingDomain: r.name, FirstDay: r.day, LastDay: r.day, Gaps: []DayRange{}})
			cur = &st.Coverage[len(st.Coverage)-1]
		} else if r.day > cur.LastDay+1 {
			cur.Gaps = append(cur.Gaps, DayRange{From: cur.LastDay + 1, To: r.day - 1})
		}
		cur.LastDay = r.day
		cur.DaysWithData++
	}
	return nil
}
