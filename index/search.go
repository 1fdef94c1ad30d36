package index

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/analyze"
)

// A search lists events in time order (ts, then seq: a total order that
// no later insert changes, so a cursor is a position in it). It reads the
// index's days newest first (or oldest), one at a time: a filter most
// events match fills its page from the first day, and a selective one (a
// recipient, a message) reads all days at once through the primary keys. Filters on texts (subject, From, IP, tags, route) are
// resolved against the small texts dictionary first, so that no per-event
// index is needed for them.

// searchChunk is how many events are read from their JSON at a time.
const searchChunk = 20000

// searchPlan is a filter resolved against the index.
type searchPlan struct {
	failures  bool   // drive from the failures table
	join      string // FROM clause
	conds     []string
	args      []any
	allDays   bool // selective: all days in one query
	days      []int64
	none      bool // nothing can match
	post      bool // events are filtered again after reading
	typeNames map[int64]string
	arena     rawArena
	rawOnly   bool // only the time, type and original JSON are read (an export)
}

func (p *searchPlan) add(cond string, a ...any) {
	p.conds = append(p.conds, cond)
	p.args = append(p.args, a...)
}

// jsonIDs renders ids as a JSON array for json_each: any number of them
// in one bound value.
func jsonIDs(ids []int64) string {
	b := make([]byte, 0, len(ids)*8+2)
	b = append(b, '[')
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, id, 10)
	}
	return string(append(b, ']'))
}

// texts returns the ids of the texts of a kind a test accepts, reading
// the kind whole (the small kinds: IPs, tag sets, routes).
func (db *DB) textsWhere(ctx context.Context, kind int, cond string, args []any, keep func(string) bool) ([]int64, error) {
	type idText struct {
		id   int64
		text string
	}
	q := `SELECT id, text FROM texts WHERE kind = ?`
	if cond != "" {
		q += ` AND ` + cond
	}
	rows, err := queryAll(ctx, db, "read texts", q, append([]any{kind}, args...), func(t *idText) []any { return []any{&t.id, &t.text} })
	if err != nil {
		return nil, err
	}
	var ids []int64
	for _, r := range rows {
		if keep == nil || keep(r.text) {
			ids = append(ids, r.id)
		}
	}
	return ids, nil
}

// textIDs finds texts of a kind by their hash in text_keys: the texts
// table holds every subject, and reading it whole for an IP took 120 ms at
// 10M events.
func (db *DB) textIDs(ctx context.Context, kind uint8, texts []string) ([]int64, error) {
	var ids []int64
	for _, t := range texts {
		got, err := queryAll(ctx, db, "read texts", `SELECT t.id FROM text_keys k JOIN texts t ON t.id = k.id
			WHERE k.hash = ? AND t.kind = ? AND t.text = ?`, []any{textHash(kind, t), int64(kind), t},
			func(id *int64) []any { return []any{id} })
		if err != nil {
			return nil, err
		}
		ids = append(ids, got...)
	}
	return ids, nil
}

// likeContains is a LIKE pattern for "contains s", escaped with \.
func likeContains(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(s) + "%"
}

// plan resolves a filter. col names an events column in the query.
func (db *DB) plan(ctx context.Context, f *analyze.EventFilter) (*searchPlan, error) {
	p := &searchPlan{typeNames: map[int64]string{}}
	defer func() { p.rawOnly = f.RawOnly && !p.post }()
	types, err := queryAll(ctx, db, "read event types", `SELECT id, name FROM event_types`, nil, idName)
	if err != nil {
		return nil, err
	}
	for _, t := range types {
		p.typeNames[t.id] = t.name
	}
	onlyFailures := len(f.Types) > 0
	for _, t := range f.Types {
		onlyFailures = onlyFailures && (t == maildiag.Failed || t == maildiag.Rejected)
	}
	p.failures = f.Failure() || len(f.Severities) > 0 && onlyFailures
	ev := "e" // the events table's alias, for the text ids
	switch {
	case p.failures:
		p.join = `failures e`
		if f.Subject != "" || f.From != "" || len(f.SendingIPs) > 0 || len(f.Tags) > 0 || f.MX != "" || f.Provider != "" || f.Gateway != "" {
			p.join += ` JOIN events x ON x.day = e.day AND x.recipient_id = e.recipient_id AND x.id_hash = e.id_hash`
			ev = "x"
		}
	case len(f.Severities) > 0:
		p.join = `events e LEFT JOIN failures f ON f.day = e.day AND f.recipient_id = e.recipient_id AND f.id_hash = e.id_hash`
	default:
		p.join = `events e`
	}

	if len(f.Types) > 0 {
		var ids []int64
		for _, t := range f.Types {
			for id, name := range p.typeNames {
				if name == t {
					ids = append(ids, id)
				}
			}
		}
		if len(ids) == 0 {
			p.none = true
		}
		l, a := inList(slices.Compact(slices.Sorted(slices.Values(ids))))
		p.add(`e.type_id IN `+l, a...)
	}
	if len(f.Severities) > 0 {
		l, a := inList(f.Severities)
		if p.failures {
			p.add(`(e.type_id != `+strconv.Itoa(typeFailed)+` OR e.severity IN `+l+`)`, a...)
		} else {
			p.add(`(e.type_id != `+strconv.Itoa(typeFailed)+` OR f.severity IN `+l+`)`, a...)
		}
	}
	if p.failures {
		if len(f.Codes) > 0 {
			l, a := inList(f.Codes)
			p.add(`e.code IN `+l, a...)
		}
		if len(f.Classes) > 0 {
			l, a := inList(f.Classes)
			p.add(`e.class IN `+l, a...)
		}
		if len(f.Enhanced) > 0 {
			var ors []string
			for _, x := range f.Enhanced {
				if strings.HasSuffix(x, ".") {
					ors = append(ors, `e.enhanced LIKE ? ESCAPE '\'`)
					p.args = append(p.args, strings.ReplaceAll(x, "_", `\_`)+"%")
				} else {
					ors = append(ors, `e.enhanced = ?`)
					p.args = append(p.args, x)
				}
			}
			p.conds = append(p.conds, `(`+strings.Join(ors, " OR ")+`)`)
		}
	} else if len(f.Codes) > 0 {
		p.post = true // a delivered event's code is in its JSON
	}
	if len(f.Vars) > 0 {
		p.post = true
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
		l, a := inList(ids)
		p.add(`e.sending_domain_id IN `+l, a...)
	}

	// Text filters: the matching texts' ids.
	text := func(col string, ids []int64) {
		if len(ids) == 0 {
			p.none = true
			return
		}
		p.add(ev+`.`+col+` IN (SELECT value FROM json_each(?))`, jsonIDs(ids))
	}
	if f.Subject != "" {
		ids, err := db.textsWhere(ctx, textSubject, `text LIKE ? ESCAPE '\'`, []any{likeContains(f.Subject)}, nil)
		if err != nil {
			return nil, err
		}
		text("subject_id", ids)
	}
	if f.From != "" {
		ids, err := db.textsWhere(ctx, textFrom, `text LIKE ? ESCAPE '\'`, []any{likeContains(f.From)}, nil)
		if err != nil {
			return nil, err
		}
		text("from_id", ids)
	}
	if len(f.SendingIPs) > 0 {
		ids, err := db.textIDs(ctx, textIP, f.SendingIPs)
		if err != nil {
			return nil, err
		}
		text("ip_id", ids)
	}
	if len(f.Tags) > 0 {
		ids, err := db.textsWhere(ctx, textTags, "", nil, func(s string) bool {
			for _, t := range strings.Split(strings.TrimSuffix(s, "\n"), "\n") {
				if slices.Contains(f.Tags, t) {
					return true
				}
			}
			return false
		})
		if err != nil {
			return nil, err
		}
		text("tags_id", ids)
	}
	if f.Routed() {
		ids, err := db.textsWhere(ctx, textRoute, "", nil, f.MatchRoute)
		if err != nil {
			return nil, err
		}
		text("route_id", ids)
	}

	if err := db.planRecipients(ctx, f, p); err != nil {
		return nil, err
	}

	// Days, and the time bounds within them.
	days, err := db.Days(ctx)
	if err != nil {
		return nil, err
	}
	if f.MessageID != "" {
		mk := messageKey(strings.Trim(strings.TrimSpace(f.MessageID), "<>"))
		dl, a := dayList(days)
		pairs, err := queryAll(ctx, db, "read message", `SELECT DISTINCT day, recipient_id FROM messages WHERE day IN `+dl+` AND message_key = ?`,
			append(a, mk), func(r *[2]int64) []any { return []any{&r[0], &r[1]} })
		if err != nil {
			return nil, err
		}
		// A message's events come within days of its acceptance.
		var rcpts []int64
		keep := map[int64]bool{}
		for _, pr := range pairs {
			rcpts = append(rcpts, pr[1])
			for d := pr[0] - 1; d <= pr[0]+maxMessageDays; d++ {
				keep[d] = true
			}
		}
		days = slices.DeleteFunc(slices.Clone(days), func(d int64) bool { return !keep[d] })
		slices.Sort(rcpts)
		rcpts = slices.Compact(rcpts)
		if len(rcpts) == 0 {
			p.none = true
		}
		p.add(`e.message_key = ?`, mk)
		p.add(`e.recipient_id IN (SELECT value FROM json_each(?))`, jsonIDs(rcpts))
		p.allDays = true
	}
	if !f.Since.IsZero() {
		us := f.Since.UnixMicro()
		days = slices.DeleteFunc(slices.Clone(days), func(d int64) bool { return d < dayOf(us) })
		p.add(`e.ts >= ?`, us)
	}
	if !f.Until.IsZero() {
		us := f.Until.UnixMicro()
		days = slices.DeleteFunc(slices.Clone(days), func(d int64) bool { return d > dayOf(us-1) })
		p.add(`e.ts < ?`, us)
	}
	p.days = days
	return p, nil
}

// maxMessageDays is how many days after its acceptance a message's events
// are looked for: Mailgun retries for up to 8 hours, and opens and clicks
// come later.
const maxMessageDays = 60

// planRecipients adds the recipient filters: exact addresses and small
// sets by id, whole domains by id range.
func (db *DB) planRecipients(ctx context.Context, f *analyze.EventFilter, p *searchPlan) error {
	var ranges [][2]int64
	var ids []int64
	filtered := false
	if f.To != nil && f.To.Exact() {
		filtered = true
		id, err := db.recipientID(ctx, f.To.String())
		if err != nil {
			return err
		}
		if id != 0 {
			ids = append(ids, id)
		}
	} else if f.To != nil {
		filtered = true
		domIDs, doms, err := db.matchDomains(ctx, f.To.Domain)
		if err != nil {
			return err
		}
		for i, d := range doms {
			if f.To.AllOfDomain() {
				lo, hi := RecipientRange(domIDs[i])
				ranges = append(ranges, [2]int64{lo, hi})
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
		// Every address of a domain whose name holds it, then the
		// addresses of other domains that hold it (in their local part,
		// or across the @).
		domIDs, _, err := db.domainsWhere(ctx, `name LIKE ? ESCAPE '\' AND recipients > 0`, likeContains(c))
		if err != nil {
			return err
		}
		whole := map[int64]bool{}
		for _, id := range domIDs {
			lo, hi := RecipientRange(id)
			ranges = append(ranges, [2]int64{lo, hi})
			whole[id] = true
		}
		if p.failures {
			// Driven by the failures (a code, a class): each candidate's
			// address is looked at, a day at a time, instead of every
			// address of the index first (2.2M of them at 10M events:
			// --to-contains gmail --code 550 took 973 ms that way).
			ors := []string{`(SELECT address FROM recipients WHERE id = e.recipient_id) LIKE ? ESCAPE '\'`}
			p.args = append(p.args, likeContains(c))
			for _, r := range ranges {
				ors = append(ors, `e.recipient_id BETWEEN ? AND ?`)
				p.args = append(p.args, r[0], r[1])
			}
			p.conds = append(p.conds, `(`+strings.Join(ors, " OR ")+`)`)
			return nil
		}
		rs, err := queryAll(ctx, db, "read recipients", `SELECT id FROM recipients WHERE address LIKE ? ESCAPE '\'`,
			[]any{likeContains(c)}, func(id *int64) []any { return []any{id} })
		if err != nil {
			return err
		}
		for _, id := range rs {
			if !whole[id>>domainShift] {
				ids = append(ids, id)
			}
		}
	}
	if !filtered {
		return nil
	}
	if len(ids) == 0 && len(ranges) == 0 {
		p.none = true
		return nil
	}
	var ors []string
	if len(ids) > 0 {
		ors = append(ors, `e.recipient_id IN (SELECT value FROM json_each(?))`)
		p.args = append(p.args, jsonIDs(ids))
	}
	for _, r := range ranges {
		ors = append(ors, `e.recipient_id BETWEEN ? AND ?`)
		p.args = append(p.args, r[0], r[1])
	}
	p.conds = append(p.conds, `(`+strings.Join(ors, " OR ")+`)`)
	// Few addresses or domains: each day is a few key lookups.
	p.allDays = len(ids) <= 10000 && len(ranges) <= 200
	return nil
}

// SearchEvents calls fn with the events a filter selects, in time order
// (newest first unless f.Asc), at most f.Limit of them (0: all), and
// returns the cursor of the next page ("" when this was the last).
func (db *DB) SearchEvents(ctx context.Context, f analyze.EventFilter, fn func(ev *maildiag.Event) error) (next string, err error) {
	p, err := db.plan(ctx, &f)
	if err != nil || p.none {
		return "", err
	}
	var after *analyze.Cursor
	if f.Cursor != "" {
		c, err := analyze.ParseCursor(f.Cursor)
		if err != nil {
			return "", err
		}
		after = &c
	}
	days := p.days
	if !f.Asc {
		days = slices.Clone(days)
		slices.Reverse(days)
	}
	if after != nil {
		cd := dayOf(after.TS)
		days = slices.DeleteFunc(days, func(d int64) bool { return f.Asc && d < cd || !f.Asc && d > cd })
	}
	dir, cmp := "DESC", "<"
	if f.Asc {
		dir, cmp = "ASC", ">"
	}
	where := ""
	if len(p.conds) > 0 {
		where = " AND " + strings.Join(p.conds, " AND ")
	}
	emitted := 0
	var last analyze.Cursor
	sizeHint := 64
	for len(days) > 0 {
		// One day at a time, or every day at once for a selective filter.
		n := 1
		if p.allDays {
			n = len(days)
		}
		dl, dargs := dayList(days[:n])
		days = days[n:]
		cols := `e.day, e.recipient_id, e.id_hash, e.ts, e.type_id, e.sending_domain_id, e.message_key, e.seq`
		if p.rawOnly {
			// An export needs the time, the type and where the JSON is:
			// scanning five columns fewer of a million rows saved 0.4 s.
			cols = `e.ts, e.type_id, e.seq`
		}
		q := `SELECT ` + cols + ` FROM ` + p.join + ` WHERE e.day IN ` + dl + where
		args := append(dargs, p.args...)
		if after != nil {
			q += ` AND (e.ts ` + cmp + ` ? OR e.ts = ? AND e.seq ` + cmp + ` ?)`
			args = append(args, after.TS, after.TS, after.Seq)
		}
		q += ` ORDER BY e.ts ` + dir + `, e.seq ` + dir
		if f.Limit > 0 && !p.post {
			// One more than the page: whether a next page exists.
			q += ` LIMIT ?`
			args = append(args, f.Limit-emitted+1)
		}
		rows, err := db.searchRows(ctx, q, args, p, sizeHint)
		if err != nil {
			return "", err
		}
		sizeHint = max(sizeHint, len(rows))
		// The row past the page only says that a next page exists: its
		// JSON is not read (a block decoded for nothing).
		more := false
		if f.Limit > 0 && !p.post && len(rows) > f.Limit-emitted {
			rows, more = rows[:f.Limit-emitted], true
		}
		// Events are read in chunks: a day of a large index does not sit
		// in memory with its JSON.
		for len(rows) > 0 {
			chunk := rows[:min(len(rows), searchChunk)]
			rows = rows[len(chunk):]
			evs, err := db.searchEvents(ctx, chunk, &f, p)
			if err != nil {
				return "", err
			}
			for i := range evs {
				if evs[i] == nil {
					continue
				}
				if f.Limit > 0 && emitted == f.Limit {
					return last.String(), nil
				}
				if err := fn(evs[i]); err != nil {
					return "", err
				}
				emitted++
				last = analyze.Cursor{TS: chunk[i].ts, Seq: chunk[i].seq}
			}
		}
		if more {
			return last.String(), nil
		}
		if err := ctx.Err(); err != nil {
			return "", err
		}
	}
	return "", nil
}

// searchEvents reads the events of rows: only the original
// JSON for an export, else every field; nil for those the filters that
// need the JSON leave out.
func (db *DB) searchEvents(ctx context.Context, rows []eventRow, f *analyze.EventFilter, p *searchPlan) ([]*maildiag.Event, error) {
	out := make([]*maildiag.Event, len(rows))
	if len(rows) == 0 {
		return out, nil
	}
	if f.RawOnly && !p.post {
		seqs := make([]int64, len(rows))
		for i, r := range rows {
			seqs[i] = r.seq
		}
		raws, err := db.rawInto(ctx, seqs, &p.arena)
		if err != nil {
			return nil, err
		}
		for i, r := range rows {
			out[i] = &maildiag.Event{TimeUS: r.ts, Type: r.typ, Raw: raws[r.seq]}
		}
		return out, nil
	}
	evs, err := db.eventsFromRows(ctx, rows, true)
	if err != nil {
		return nil, err
	}
	for i := range evs {
		e := &evs[i]
		if p.post && (len(f.Codes) > 0 && !slices.Contains(f.Codes, e.Code) || !analyze.MatchVars(e.Raw, f.Vars)) {
			continue
		}
		out[i] = e
	}
	return out, nil
}

// rawArena holds the decoded blocks of a chunk of exported events, reused
// from chunk to chunk: the events point into them, with no copy (copying a
// 1M-event export's JSON into one buffer took a tenth of its time, and an
// allocation per event a third before that).
type rawArena struct {
	blocks [][]byte // decompression buffers, one per block of the chunk
}

// rawInto returns the original JSON of events by seq, pointing into the
// arena until its next use. Blocks are read with one query for the range
// the seqs span when they are dense in it (an export), each decoded once,
// else one by one.
func (db *DB) rawInto(ctx context.Context, seqs []int64, a *rawArena) (map[int64][]byte, error) {
	seqs = slices.Clone(seqs)
	slices.Sort(seqs)
	seqs = slices.Compact(seqs)
	if len(seqs) == 0 || seqs[len(seqs)-1]-seqs[0] > 4*int64(len(seqs)) {
		return db.rawEvents(ctx, seqs)
	}
	lo, hi := seqs[0], seqs[len(seqs)-1]
	rows, err := db.sql.QueryContext(ctx, `SELECT first_seq, count, data FROM raw_blocks
		WHERE first_seq >= COALESCE((SELECT MAX(first_seq) FROM raw_blocks WHERE first_seq <= ?), 0) AND first_seq <= ? ORDER BY first_seq`, lo, hi)
	if err != nil {
		return nil, fmt.Errorf("read raw JSON: %w", err)
	}
	defer rows.Close()
	out := make(map[int64][]byte, len(seqs))
	nb := 0
	for rows.Next() {
		var first, count int64
		var data sql.RawBytes
		if err := rows.Scan(&first, &count, &data); err != nil {
			return nil, fmt.Errorf("read raw JSON: %w", err)
		}
		i, _ := slices.BinarySearch(seqs, first)
		if i == len(seqs) || seqs[i] >= first+count {
			continue
		}
		if nb == len(a.blocks) {
			a.blocks = append(a.blocks, nil)
		}
		recs, plain, err := decodeBlock(data, a.blocks[nb])
		a.blocks[nb] = plain
		nb++
		if err != nil {
			return nil, fmt.Errorf("read raw JSON: %w", err)
		}
		for ; i < len(seqs) && seqs[i] < first+count; i++ {
			k := seqs[i] - first
			if k >= int64(len(recs)) {
				return nil, fmt.Errorf("read raw JSON: %w: record %d of %d", errBadBlock, k, len(recs))
			}
			out[seqs[i]] = recs[k]
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read raw JSON: %w", err)
	}
	return out, nil
}

// searchRows runs a search query; sizeHint is how many rows it may return
// (the largest day so far): a day of 33,000 rows grown by doubling took a
// tenth of an export's time.
func (db *DB) searchRows(ctx context.Context, q string, args []any, p *searchPlan, sizeHint int) ([]eventRow, error) {
	rs, err := db.sql.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("search events: %w", err)
	}
	defer rs.Close()
	rows := make([]eventRow, 0, sizeHint)
	var typeID int64
	for rs.Next() {
		var e eventRow
		dest := []any{&e.day, &e.rcpt, &e.idHash, &e.ts, &typeID, &e.sd, &e.mk, &e.seq}
		if p.rawOnly {
			dest = []any{&e.ts, &typeID, &e.seq}
		}
		if err := rs.Scan(dest...); err != nil {
			return nil, fmt.Errorf("search events: %w", err)
		}
		e.typ = p.typeNames[typeID]
		rows = append(rows, e)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("search events: %w", err)
	}
	return rows, nil
}
