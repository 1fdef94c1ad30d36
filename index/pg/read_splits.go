package pg

import (
	"context"
	"strings"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/analyze"
)

// SplitCounts sums the events of the days of [q.From, q.Until) by sending
// IP and by tag, type and outcome: from the split counts kept at ingest
// (split_counts); with recipient domains, from their events, which
// split_counts does not key by recipient domain (as the SQLite index).
func (db *DB) SplitCounts(ctx context.Context, q analyze.SplitQuery) ([]analyze.SplitCount, error) {
	first, last := dayRange(q.From, q.Until)
	var a args
	var b strings.Builder
	sds, err := db.domainIDs(ctx, q.SendingDomains)
	if err != nil {
		return nil, err
	}
	// Summed by the type's id, and named after, as Counts does: 0.47 s
	// grouped by its name, 0.32 s so, for a week of 10M events.
	if len(q.RecipientDomains) == 0 {
		b.WriteString(`SELECT g.kind, g.name, t.name, g.outcome, g.n FROM (SELECT c.kind, c.name, c.type_id, c.outcome, SUM(c.n)::bigint AS n
			FROM split_counts c WHERE c.day BETWEEN ` + a.add(first) + ` AND ` + a.add(last))
		inIDs(&b, &a, "c.sending_domain_id", sds)
		b.WriteString(` GROUP BY 1, 2, 3, 4) g JOIN event_types t ON t.id = g.type_id`)
	} else {
		rds, err := db.domainIDs(ctx, q.RecipientDomains)
		if err != nil {
			return nil, err
		}
		// The events of the domains' recipients, by their IP's and tag
		// set's texts; an event counts once under its IP and once under
		// each of its tags, as at ingest.
		b.WriteString(`SELECT v.kind, v.name, t.name, g.outcome, SUM(g.n)::bigint FROM (
			SELECT e.ip_id, e.tags_id, e.type_id, COALESCE(f.outcome, '') AS outcome, COUNT(*) AS n
			FROM recipients r JOIN events e ON e.recipient_id = r.id
			LEFT JOIN failures f ON f.day = e.day AND f.recipient_id = e.recipient_id AND f.type_id = e.type_id AND f.event_id = e.event_id
			WHERE r.domain_id = ANY(` + a.add(rds) + `) AND e.day BETWEEN ` + a.add(first) + ` AND ` + a.add(last))
		if !q.From.IsZero() {
			b.WriteString(` AND e.ts >= ` + a.add(first*usPerDay))
		}
		if !q.Until.IsZero() {
			b.WriteString(` AND e.ts < ` + a.add((last+1)*usPerDay))
		}
		inIDs(&b, &a, "e.sending_domain_id", sds)
		b.WriteString(` GROUP BY 1, 2, 3, 4) g
			JOIN event_types t ON t.id = g.type_id
			CROSS JOIN LATERAL (
				SELECT 'ip', x.text FROM texts x WHERE x.id = g.ip_id
				UNION ALL SELECT 'tag', tag FROM texts x, unnest(string_to_array(rtrim(x.text, E'\n'), E'\n')) tag
					WHERE x.id = g.tags_id AND tag <> ''
			) v(kind, name)
			GROUP BY 1, 2, 3, 4`)
	}
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
