package pg

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/analyze"
)

// Suppressions returns the entries the filter selects, removed ones too,
// by address.
func (db *DB) Suppressions(ctx context.Context, f analyze.SuppressionFilter) ([]analyze.ListEntry, error) {
	var a args
	var q strings.Builder
	q.WriteString(`SELECT sd.name, s.list, s.address, COALESCE(s.kind, ''), COALESCE(s.code, ''), COALESCE(s.error, ''),
		COALESCE(s.tags, ''), COALESCE(s.reason, ''), s.created_at, s.first_seen, s.last_seen, COALESCE(s.removed_at, 0), COALESCE(s.import_id, 0)
		FROM suppressions s JOIN domains sd ON sd.id = s.sending_domain_id WHERE true`)
	for _, in := range []struct {
		col   string
		names []string
	}{{"s.domain_id", f.Domains}, {"s.sending_domain_id", f.SendingDomains}} {
		ids, err := db.domainIDs(ctx, in.names)
		if err != nil {
			return nil, err
		}
		inIDs(&q, &a, in.col, ids)
	}
	if len(f.Lists) > 0 {
		q.WriteString(` AND s.list = ANY(` + a.add(f.Lists) + `)`)
	}
	if lit := globPrefix(f.AddressGlob); f.AddressGlob != "" && lit != "" {
		q.WriteString(` AND s.address LIKE ` + a.add(likeEscape(lit)+"%") + ` ESCAPE '\'`)
	}
	if !f.CreatedFrom.IsZero() {
		q.WriteString(` AND s.created_at >= ` + a.add(f.CreatedFrom.UnixMicro()))
	}
	if !f.CreatedUntil.IsZero() {
		q.WriteString(` AND s.created_at < ` + a.add(f.CreatedUntil.UnixMicro()))
	}
	q.WriteString(` ORDER BY s.address COLLATE "C", sd.name COLLATE "C", s.list COLLATE "C", s.created_at`)
	type row struct {
		e                             analyze.ListEntry
		tags                          string
		first, last, removed, imports int64
	}
	rows, err := collect(ctx, db, "read suppressions", q.String(), a, func(r *row) []any {
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
