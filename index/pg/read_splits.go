package pg

import (
	"context"
	"strings"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/analyze"
)

// SplitCounts sums the split counts kept at ingest (split_counts) for the
// days of [q.From, q.Until): events by sending IP and by tag, type and
// outcome.
func (db *DB) SplitCounts(ctx context.Context, q analyze.SplitQuery) ([]analyze.SplitCount, error) {
	first, last := dayRange(q.From, q.Until)
	var a args
	var b strings.Builder
	// Summed by the type's id, and named after, as Counts does: 0.47 s
	// grouped by its name, 0.32 s so, for a week of 10M events.
	b.WriteString(`SELECT g.kind, g.name, t.name, g.outcome, g.n FROM (SELECT c.kind, c.name, c.type_id, c.outcome, SUM(c.n)::bigint AS n
		FROM split_counts c WHERE c.day BETWEEN ` + a.add(first) + ` AND ` + a.add(last))
	for _, f := range []struct {
		col   string
		names []string
	}{{"c.sending_domain_id", q.SendingDomains}, {"c.recipient_domain_id", q.RecipientDomains}} {
		ids, err := db.domainIDs(ctx, f.names)
		if err != nil {
			return nil, err
		}
		inIDs(&b, &a, f.col, ids)
	}
	b.WriteString(` GROUP BY 1, 2, 3, 4) g JOIN event_types t ON t.id = g.type_id`)
	type row struct {
		by, name, typ, outcome string
		n                      int64
	}
	rows, err := collect(ctx, db, "read split counts", b.String(), a, func(r *row) []any {
		return []any{&r.by, &r.name, &r.typ, &r.outcome, &r.n}
	})
	out := make([]analyze.SplitCount, len(rows))
	for i, r := range rows {
		out[i] = analyze.SplitCount{By: r.by, Name: r.name, Type: r.typ, Outcome: maildiag.Outcome(r.outcome), N: r.n}
	}
	return out, err
}

// tagSets splits the tag sets of failures (one tag a line), each distinct
// set once: failures share the slice, as the SQLite index's do.
type tagSets map[string][]string

func (t tagSets) of(s *string) []string {
	if s == nil || *s == "" {
		return nil
	}
	if tags, ok := t[*s]; ok {
		return tags
	}
	tags := strings.Split(strings.TrimSuffix(*s, "\n"), "\n")
	t[*s] = tags
	return tags
}
