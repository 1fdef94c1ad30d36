package pg

import (
	"context"
	"strings"

	"github.com/maildiag/maildiag/analyze"
	"github.com/maildiag/maildiag/index/readrows"
)

// Suppressions returns the entries the filter selects, removed ones too,
// by address.
func (db *DB) Suppressions(ctx context.Context, f analyze.SuppressionFilter) ([]analyze.ListEntry, error) {
	var a args
	var q strings.Builder
	q.WriteString(readrows.SuppressionsSelect + ` WHERE true`)
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
	rows, err := collect(ctx, db, "read suppressions", q.String(), a, (*readrows.ListRow).Dest)
	return readrows.ListEntries(rows, f.AddressGlob), err
}
