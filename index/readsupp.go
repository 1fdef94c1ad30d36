package index

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

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
	rows, err := db.sql.QueryContext(ctx, q+" ORDER BY s.address, sd.name, s.list, s.created_at", args...)
	if err != nil {
		return nil, fmt.Errorf("read suppressions: %w", err)
	}
	defer rows.Close()
	var out []analyze.ListEntry
	for rows.Next() {
		var e analyze.ListEntry
		var tags string
		var first, last, removed, imported int64
		if err := rows.Scan(&e.SendingDomain, &e.List, &e.Address, &e.Kind, &e.Code, &e.Error, &tags,
			&e.Reason, &e.CreatedUS, &first, &last, &removed, &imported); err != nil {
			return nil, fmt.Errorf("read suppressions: %w", err)
		}
		if f.AddressGlob != "" && !maildiag.MatchGlob(f.AddressGlob, e.Address) {
			continue
		}
		if tags != "" {
			json.Unmarshal([]byte(tags), &e.Tags)
		}
		e.FirstSeen, e.LastSeen, e.Imported = usTime(first), usTime(last), imported != 0
		if removed != 0 {
			e.Removed = usTime(removed)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// usTime is a time in microseconds as a UTC time; 0 is the zero time.
func usTime(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}

// ListSyncs returns when each suppression list was last synced.
func (db *DB) ListSyncs(ctx context.Context) ([]maildiag.ListSync, error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT d.name, s.list, s.synced_at FROM list_syncs s JOIN domains d ON d.id = s.sending_domain_id ORDER BY 1, 2`)
	if err != nil {
		return nil, fmt.Errorf("read list syncs: %w", err)
	}
	defer rows.Close()
	var out []maildiag.ListSync
	for rows.Next() {
		var s maildiag.ListSync
		if err := rows.Scan(&s.SendingDomain, &s.List, &s.SyncedUS); err != nil {
			return nil, fmt.Errorf("read list syncs: %w", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}
