package index

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/analyze"
)

// splitRow is a count of one sending IP's or tag set's events (text_id),
// of one type and outcome.
type splitRow struct {
	text, typ int64
	outcome   maildiag.Outcome
	n         int64
}

func splitDest(r *splitRow) []any { return []any{&r.text, &r.typ, &r.outcome, &r.n} }

// SplitCounts sums the events of the days of [q.From, q.Until) by sending
// IP and by tag: from split_counts, kept at ingest; with recipient domains,
// from their events (split_counts has no recipient domain), one range of
// recipient ids per domain and day.
func (db *DB) SplitCounts(ctx context.Context, q analyze.SplitQuery) ([]analyze.SplitCount, error) {
	first, last := dayRange(q.From, q.Until)
	sds, err := db.domainIDs(ctx, q.SendingDomains)
	if err != nil {
		return nil, err
	}
	if len(q.SendingDomains) > 0 && len(sds) == 0 {
		return nil, nil
	}
	sdCond, sdArgs := "", []any(nil)
	if len(sds) > 0 {
		l, a := inList(sds)
		sdCond, sdArgs = " AND sending_domain_id IN "+l, a
	}
	var rows []splitRow
	if len(q.RecipientDomains) == 0 {
		rows, err = queryAll(ctx, db, "read split counts", `SELECT text_id, type_id, outcome, SUM(n) FROM split_counts
			WHERE day BETWEEN ? AND ?`+sdCond+` GROUP BY text_id, type_id, outcome`, append([]any{first, last}, sdArgs...), splitDest)
		if err != nil {
			return nil, err
		}
	} else {
		rds, err := db.domainIDs(ctx, q.RecipientDomains)
		if err != nil {
			return nil, err
		}
		sum := map[splitRow]int64{}
		for _, d := range rds {
			lo, hi := RecipientRange(d)
			for _, col := range []string{"ip_id", "tags_id"} {
				rs, err := queryAll(ctx, db, "read split counts", `SELECT e.`+col+`, e.type_id, COALESCE(f.outcome, ''), COUNT(*)
					FROM events e LEFT JOIN failures f ON f.day = e.day AND f.recipient_id = e.recipient_id AND f.id_hash = e.id_hash
					WHERE e.day BETWEEN ? AND ? AND e.recipient_id BETWEEN ? AND ? AND e.`+col+` IS NOT NULL`+strings.ReplaceAll(sdCond, "sending_domain_id", "e.sending_domain_id")+`
					GROUP BY 1, 2, 3`, append([]any{first, last, lo, hi}, sdArgs...), splitDest)
				if err != nil {
					return nil, err
				}
				for _, r := range rs {
					n := r.n
					r.n = 0
					sum[r] += n
				}
			}
		}
		for r, n := range sum {
			r.n = n
			rows = append(rows, r)
		}
	}
	return db.splitCounts(ctx, rows)
}

// splitCounts names the rows' texts and types, and counts a tag set's
// events under each of its tags.
func (db *DB) splitCounts(ctx context.Context, rows []splitRow) ([]analyze.SplitCount, error) {
	ids := map[int64]bool{}
	for _, r := range rows {
		ids[r.text] = true
	}
	texts, err := db.textsByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	types, err := db.typeNames(ctx)
	if err != nil {
		return nil, err
	}
	sum := map[analyze.SplitCount]int64{}
	for _, r := range rows {
		t, ok := texts[r.text]
		if !ok {
			continue
		}
		k := analyze.SplitCount{Type: types[r.typ], Outcome: r.outcome}
		switch t.kind {
		case textIP:
			k.By, k.Name = analyze.SplitByIP, t.text
			sum[k] += r.n
		case textTags:
			k.By = analyze.SplitByTag
			for _, tag := range strings.Split(strings.TrimSuffix(t.text, "\n"), "\n") {
				if tag != "" {
					k.Name = tag
					sum[k] += r.n
				}
			}
		}
	}
	out := make([]analyze.SplitCount, 0, len(sum))
	for k, n := range sum {
		k.N = n
		out = append(out, k)
	}
	return out, nil
}

// storedText is a texts row's kind and text.
type storedText struct {
	kind uint8
	text string
}

// textsByID reads some texts rows.
func (db *DB) textsByID(ctx context.Context, ids map[int64]bool) (map[int64]storedText, error) {
	out := make(map[int64]storedText, len(ids))
	list := make([]int64, 0, len(ids))
	for id := range ids {
		list = append(list, id)
	}
	for len(list) > 0 {
		part := list[:min(len(list), 500)]
		list = list[len(part):]
		l, a := inList(part)
		type row struct {
			id   int64
			kind uint8
			text string
		}
		rs, err := queryAll(ctx, db, "read texts", `SELECT id, kind, text FROM texts WHERE id IN `+l, a,
			func(r *row) []any { return []any{&r.id, &r.kind, &r.text} })
		if err != nil {
			return nil, err
		}
		for _, r := range rs {
			out[r.id] = storedText{r.kind, r.text}
		}
	}
	return out, nil
}

// typeNames are the event types by id.
func (db *DB) typeNames(ctx context.Context) (map[int64]string, error) {
	type row struct {
		id   int64
		name string
	}
	rs, err := queryAll(ctx, db, "read event types", `SELECT id, name FROM event_types`, nil,
		func(r *row) []any { return []any{&r.id, &r.name} })
	out := make(map[int64]string, len(rs))
	for _, r := range rs {
		out[r.id] = r.name
	}
	return out, err
}

// tagSet is the tag set of a texts id, split into its tags (nil for 0):
// read once and kept, since a text's id never changes meaning and an
// account has few tag sets. Reading them all per scan read the whole
// texts table, subjects included: most of a suppressed's time at 1M events.
func (db *DB) tagSet(ctx context.Context, id int64) ([]string, error) {
	if id == 0 {
		return nil, nil
	}
	db.tagsMu.Lock()
	tags, ok := db.tagSets[id]
	db.tagsMu.Unlock()
	if ok {
		return tags, nil
	}
	var text string
	err := db.queryRow(ctx, `SELECT text FROM texts WHERE id = ? AND kind = ?`, id, textTags).Scan(&text)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("read tags: %w", err)
	}
	if text != "" {
		tags = strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	}
	db.tagsMu.Lock()
	if db.tagSets == nil {
		db.tagSets = map[int64][]string{}
	}
	db.tagSets[id] = tags
	db.tagsMu.Unlock()
	return tags, nil
}
