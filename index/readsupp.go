package index

import (
	"context"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/analyze"
	"github.com/maildiag/maildiag/index/readrows"
)

// Suppressions returns the entries the filter selects, removed ones too,
// by address.
func (db *DB) Suppressions(ctx context.Context, f analyze.SuppressionFilter) ([]analyze.ListEntry, error) {
	q := readrows.SuppressionsSelect + ` WHERE 1`
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
	rows, err := queryAll(ctx, db, "read suppressions", q+" ORDER BY s.address, sd.name, s.list, s.created_at", args,
		(*readrows.ListRow).Dest)
	return readrows.ListEntries(rows, f.AddressGlob), err
}

// ListSyncs returns when each suppression list was last synced.
func (db *DB) ListSyncs(ctx context.Context) ([]maildiag.ListSync, error) {
	// CROSS JOIN keeps the few list syncs outside: SQLite's plan was to
	// scan every domain, to look each up in list_syncs (1 ms a trace or a
	// suppressed on the 1M-event index's 6,559 domains, for no row).
	return queryAll(ctx, db, "read list syncs", `SELECT d.name, s.list, s.synced_at FROM list_syncs s CROSS JOIN domains d ON d.id = s.sending_domain_id ORDER BY 1, 2`,
		nil, func(s *maildiag.ListSync) []any { return []any{&s.SendingDomain, &s.List, &s.SyncedUS} })
}
