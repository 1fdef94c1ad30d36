package index

import (
	"context"
	"encoding/json"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/analyze"
)

// Suppressions returns the entries the filter selects, removed ones too,
// by address.
func (db *DB) Suppressions(ctx context.Context, f analyze.SuppressionFilter) ([]analyze.ListEntry, error) {
	q := `SELECT sd.name, s.list, s.address, COALESCE(s.kind, ''), COALESCE(s.code, ''), COALESCE(s.error, ''),
		COALESCE(s.tags, ''), COALESCE(s.reason, ''), s.created_at, s.first_seen, s.last_seen, COALESCE(s.removed_at, 0), COALESCE(s.import_id, 0)
		FROM suppressions s JOIN domains sd ON sd.id = s.sending_domain_id WHERE 1`
	var args []any
	for _, in := range []struct {
		col   string
		names []string
	}{{"s.domain_id", f.Domains}, {"s.sending_domain_id", f.SendingDomains}} {
		ids, err := db.domainIDs(ctx, in.names)
		if err != nil {
			return nil, err
		}
		if len(ids) > 0 {
			l, a := inList(ids)
			q += " AND " + in.col + " IN " + l
			args = append(args, a...)
		}
	}
	if len(f.Lists) > 0 {
		l, a := inList(f.Lists)
		q += " AND s.list IN " + l
		args = append(args, a...)
	}
	if !f.CreatedFrom.IsZero() {
		q += " AND s.created_at >= ?"
		args = append(args, f.CreatedFrom.UnixMicro())
	}
	if !f.CreatedUntil.IsZero() {
		q += " AND s.created_at < ?"
		args = append(args, f.CreatedUntil.UnixMicro())
	}
	type row struct {
		e                             analyze.ListEntry
		tags                          string
		first, last, removed, imports int64
	}
	rows, err := queryAll(ctx, db, "read suppressions", q+" ORDER BY s.address, sd.name, s.list, s.created_at", args, func(r *row) []any {
		e := &r.e
		return []any{&e.SendingDomain, &e.List, &e.Address, &e.Kind, &e.Code, &e.Error, &r.tags,
			&e.Reason, &e.CreatedUS, &r.first, &r.last, &r.removed, &r.imports}
	})
	out := make([]analyze.ListEntry, 0, len(rows))
	for _, r := range rows {
		if f.AddressGlob != "" && !maildiag.MatchGlob(f.AddressGlob, r.e.Address) {
			continue
		}
		e := r.e
		if r.tags != "" {
			json.Unmarshal([]byte(r.tags), &e.Tags)
		}
		e.FirstSeen, e.LastSeen, e.Removed, e.Imported = maildiag.TimeUS(r.first), maildiag.TimeUS(r.last), maildiag.TimeUS(r.removed), r.imports != 0
		out = append(out, e)
	}
	return out, err
}

// ListSyncs returns when each suppression list was last synced.
func (db *DB) ListSyncs(ctx context.Context) ([]maildiag.ListSync, error) {
	// CROSS JOIN keeps the few list syncs outside: SQLite's plan was to
	// scan every domain, to look each up in list_syncs (1 ms a trace or a
	// suppressed on the 1M-event index's 6,559 domains, for no row).
	return queryAll(ctx, db, "read list syncs", `SELECT d.name, s.list, s.synced_at FROM list_syncs s CROSS JOIN domains d ON d.id = s.sending_domain_id ORDER BY 1, 2`,
		nil, func(s *maildiag.ListSync) []any { return []any{&s.SendingDomain, &s.List, &s.SyncedUS} })
}
