package pg

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/analyze"
)

// A search lists events in time order (ts, then seq: a total order that
// no later insert changes, so a cursor is a position in it), as the SQLite
// index's (index.DB.SearchEvents) and with its cursors' form. The
// filters the events rows hold (type, failure details, sending domain,
// recipient, message, time, and the ids of texts: subject, From, IP, tags,
// route) are SQL; those on what only the original JSON holds (variables,
// a delivered event's code) are tested on each event read.

// searchChunk is how many rows are turned into events at a time.
const searchChunk = 2000

type searchPlan struct {
	from  string
	conds []string
	args  args
	none  bool
	post  bool // events are tested again after reading
}

func (p *searchPlan) add(cond string) { p.conds = append(p.conds, cond) }

// asciiContains is whether s contains sub, ASCII letters compared without
// case (as SQLite's LIKE).
func asciiContains(s, sub string) bool {
	return strings.Contains(asciiLower(s), asciiLower(sub))
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func (db *DB) plan(ctx context.Context, f *analyze.EventFilter) (*searchPlan, error) {
	p := &searchPlan{from: `events e`}
	onlyFailures := len(f.Types) > 0
	for _, t := range f.Types {
		onlyFailures = onlyFailures && (t == maildiag.Failed || t == maildiag.Rejected)
	}
	failures := f.Failure() || len(f.Severities) > 0 && onlyFailures
	switch {
	case failures:
		p.from += ` JOIN failures fl ON fl.day = e.day AND fl.recipient_id = e.recipient_id AND fl.type_id = e.type_id AND fl.event_id = e.event_id`
	case len(f.Severities) > 0:
		p.from += ` LEFT JOIN failures fl ON fl.day = e.day AND fl.recipient_id = e.recipient_id AND fl.type_id = e.type_id AND fl.event_id = e.event_id`
	}
	if len(f.Types) > 0 {
		ids, err := collect(ctx, db, "read event types", `SELECT id FROM event_types WHERE name = ANY($1)`, []any{f.Types},
			func(id *int16) []any { return []any{id} })
		if err != nil {
			return nil, err
		}
		if len(ids) == 0 {
			p.none = true
		}
		p.add(`e.type_id = ANY(` + p.args.add(ids) + `)`)
	}
	if len(f.Severities) > 0 {
		p.add(`(e.type_id <> 4 OR fl.severity = ANY(` + p.args.add(f.Severities) + `))`)
	}
	if failures {
		if len(f.Codes) > 0 {
			codes := make([]int32, len(f.Codes))
			for i, c := range f.Codes {
				codes[i] = int32(c)
			}
			p.add(`fl.code = ANY(` + p.args.add(codes) + `)`)
		}
		if len(f.Classes) > 0 {
			p.add(`fl.class = ANY(` + p.args.add(f.Classes) + `)`)
		}
		if len(f.Enhanced) > 0 {
			var ors []string
			for _, x := range f.Enhanced {
				if strings.HasSuffix(x, ".") {
					ors = append(ors, `fl.enhanced LIKE `+p.args.add(strings.ReplaceAll(x, "_", `\_`)+"%")+` ESCAPE '\'`)
				} else {
					ors = append(ors, `fl.enhanced = `+p.args.add(x))
				}
			}
			p.add(`(` + strings.Join(ors, " OR ") + `)`)
		}
	} else if len(f.Codes) > 0 {
		p.post = true // a delivered event's code is in its JSON
	}
	if len(f.Vars) > 0 {
		p.post = true
	}
	if err := db.planTexts(ctx, f, p); err != nil {
		return nil, err
	}
	if len(f.SendingDomains) > 0 {
		names := make([]string, len(f.SendingDomains))
		for i, d := range f.SendingDomains {
			names[i] = strings.ToLower(strings.TrimSpace(d))
		}
		ids, err := db.domainIDs(ctx, names)
		if err != nil {
			return nil, err
		}
		p.add(`e.sending_domain_id = ANY(` + p.args.add(ids) + `)`)
	}
	if err := db.planRecipients(ctx, f, p); err != nil {
		return nil, err
	}
	if f.MessageID != "" {
		mid := strings.Trim(strings.TrimSpace(f.MessageID), "<>")
		n := p.args.add(mid)
		p.add(`e.message_id IS NOT NULL AND hashtext(e.message_id) = hashtext(` + n + `) AND e.message_id = ` + n)
	}
	if !f.Since.IsZero() {
		us := f.Since.UnixMicro()
		p.add(`e.ts >= ` + p.args.add(us) + ` AND e.day >= ` + p.args.add(floorDiv(us, usPerDay)))
	}
	if !f.Until.IsZero() {
		us := f.Until.UnixMicro()
		p.add(`e.ts < ` + p.args.add(us) + ` AND e.day <= ` + p.args.add(floorDiv(us-1, usPerDay)))
	}
	return p, nil
}

// planTexts adds the filters on texts (texts.go): the ids of the texts
// that match, read from the texts table, as the SQLite index does.
func (db *DB) planTexts(ctx context.Context, f *analyze.EventFilter, p *searchPlan) error {
	filter := func(kind int, cond string, a []any, keep func(string) bool) error {
		ids, err := db.textsWhere(ctx, kind, cond, a, keep)
		if err != nil {
			return err
		}
		if len(ids) == 0 {
			p.none = true
			return nil
		}
		p.add(`e.` + eventTextCols[kind-1] + ` = ANY(` + p.args.add(ids) + `)`)
		return nil
	}
	// Contains, ASCII letters without case: the trigram index finds the
	// candidates, tested again here as the SQLite index's LIKE tests.
	for _, c := range []struct {
		kind int
		s    string
	}{{textSubject, f.Subject}, {textFrom, f.From}} {
		if c.s == "" {
			continue
		}
		s := c.s
		if err := filter(c.kind, `text ILIKE $1 ESCAPE '\'`, []any{"%" + likeEscape(s) + "%"},
			func(t string) bool { return asciiContains(t, s) }); err != nil {
			return err
		}
	}
	if len(f.SendingIPs) > 0 {
		if err := filter(textIP, `text = ANY($1)`, []any{f.SendingIPs}, nil); err != nil {
			return err
		}
	}
	if len(f.Tags) > 0 {
		err := filter(textTags, "", nil, func(s string) bool {
			for _, t := range strings.Split(strings.TrimSuffix(s, "\n"), "\n") {
				if slices.Contains(f.Tags, t) {
					return true
				}
			}
			return false
		})
		if err != nil {
			return err
		}
	}
	if f.Routed() {
		err := filter(textRoute, "", nil, f.MatchRoute)
		if err != nil {
			return err
		}
	}
	return nil
}

// planRecipients adds the recipient filters.
func (db *DB) planRecipients(ctx context.Context, f *analyze.EventFilter, p *searchPlan) error {
	var ids, doms []int64
	filtered := false
	if f.To != nil && f.To.Exact() {
		filtered = true
		id, err := db.FindRecipient(ctx, f.To.String())
		if err != nil {
			return err
		}
		if id != 0 {
			ids = append(ids, int64(id))
		}
	} else if f.To != nil {
		filtered = true
		domIDs, ds, err := db.matchDomains(ctx, f.To.Domain)
		if err != nil {
			return err
		}
		for i, d := range ds {
			if f.To.AllOfDomain() {
				doms = append(doms, domIDs[i])
				continue
			}
			rs, err := db.Recipients(ctx, d.Name, f.To.String())
			if err != nil {
				return err
			}
			for _, r := range rs {
				ids = append(ids, int64(r.ID))
			}
		}
	}
	if c := strings.ToLower(f.ToContains); c != "" {
		if filtered {
			return fmt.Errorf("give --to or --to-contains, not both")
		}
		filtered = true
		// An address holds c in its local part, in its domain or across
		// the @: the trigram index finds them all.
		rs, err := collect(ctx, db, "read recipients", `SELECT id FROM recipients WHERE address LIKE $1 ESCAPE '\'`,
			[]any{"%" + likeEscape(c) + "%"}, func(id *int64) []any { return []any{id} })
		if err != nil {
			return err
		}
		ids = append(ids, rs...)
	}
	if !filtered {
		return nil
	}
	if len(ids) == 0 && len(doms) == 0 {
		p.none = true
		return nil
	}
	var ors []string
	if len(ids) > 0 {
		ors = append(ors, `e.recipient_id = ANY(`+p.args.add(ids)+`)`)
	}
	if len(doms) > 0 {
		ors = append(ors, `e.recipient_id IN (SELECT id FROM recipients WHERE domain_id = ANY(`+p.args.add(doms)+`))`)
	}
	p.add(`(` + strings.Join(ors, " OR ") + `)`)
	return nil
}

// match tests an event read against the filters SQL did not apply.
func match(e *maildiag.Event, f *analyze.EventFilter) bool {
	return (len(f.Codes) == 0 || f.Failure() || slices.Contains(f.Codes, e.Code)) && analyze.MatchVars(e.Raw, f.Vars)
}

// SearchEvents calls fn with the events a filter selects, in time order
// (newest first unless f.Asc), at most f.Limit of them (0: all), and
// returns the cursor of the next page ("" when this was the last).
func (db *DB) SearchEvents(ctx context.Context, f analyze.EventFilter, fn func(ev *maildiag.Event) error) (next string, err error) {
	p, err := db.plan(ctx, &f)
	if err != nil || p.none {
		return "", err
	}
	dir, cmp := "DESC", "<"
	if f.Asc {
		dir, cmp = "ASC", ">"
	}
	if f.Cursor != "" {
		c, err := analyze.ParseCursor(f.Cursor)
		if err != nil {
			return "", err
		}
		p.add(`(e.ts ` + cmp + ` ` + p.args.add(c.TS) + ` OR e.ts = ` + p.args.add(c.TS) + ` AND e.seq ` + cmp + ` ` + p.args.add(c.Seq) + `)`)
	}
	q := eventSelect(true)
	q = strings.Replace(q, `FROM events e`, `FROM `+p.from, 1)
	if len(p.conds) > 0 {
		q += ` WHERE ` + strings.Join(p.conds, " AND ")
	}
	q += ` ORDER BY e.ts ` + dir + `, e.seq ` + dir
	if f.Limit > 0 && !p.post {
		// One more than the page: whether a next page exists.
		q += ` LIMIT ` + p.args.add(f.Limit+1)
	}
	// The rows stream on a connection of their own while each chunk's
	// failures are read on others.
	rows, err := db.pool.Query(ctx, q, p.args...)
	if err != nil {
		return "", fmt.Errorf("search events: %w", err)
	}
	defer rows.Close()
	emitted := 0
	var last analyze.Cursor
	chunk := make([]eventRow, 0, searchChunk)
	flush := func() (bool, error) {
		if err := db.fillRows(ctx, chunk); err != nil {
			return false, err
		}
		evs, err := db.searchEvents(ctx, chunk, &f, p)
		if err != nil {
			return false, err
		}
		for i := range evs {
			if evs[i] == nil {
				continue
			}
			if f.Limit > 0 && emitted == f.Limit {
				next = last.String()
				return true, nil
			}
			if err := fn(evs[i]); err != nil {
				return false, err
			}
			emitted++
			last = analyze.Cursor{TS: chunk[i].ts, Seq: chunk[i].seq}
		}
		chunk = chunk[:0]
		return false, nil
	}
	for rows.Next() {
		var e eventRow
		if err := rows.Scan(&e.day, &e.rcpt, &e.seq, &e.ts, &e.mk, &e.typ, &e.sd, &e.addr, &e.rdGW, &e.raw, &e.block, &e.at); err != nil {
			return "", fmt.Errorf("search events: %w", err)
		}
		chunk = append(chunk, e)
		// A page's worth first: its first rows come before the rest.
		if len(chunk) == searchChunk || f.Limit > 0 && !p.post && len(chunk) > f.Limit {
			done, err := flush()
			if done || err != nil {
				return next, err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return "", fmt.Errorf("search events: %w", err)
	}
	if len(chunk) > 0 {
		if _, err := flush(); err != nil {
			return "", err
		}
	}
	return next, ctx.Err()
}

// searchEvents reads the events of rows: only the original JSON for an
// export, else every field; nil for those the filters tested here leave
// out.
func (db *DB) searchEvents(ctx context.Context, rows []eventRow, f *analyze.EventFilter, p *searchPlan) ([]*maildiag.Event, error) {
	out := make([]*maildiag.Event, len(rows))
	if f.RawOnly && !p.post {
		for i, r := range rows {
			out[i] = &maildiag.Event{TimeUS: r.ts, Type: r.typ, Raw: r.raw}
		}
		return out, nil
	}
	evs, err := db.eventsFromRows(ctx, rows, true)
	if err != nil {
		return nil, err
	}
	for i := range evs {
		if p.post && !match(&evs[i], f) {
			continue
		}
		out[i] = &evs[i]
	}
	return out, nil
}
