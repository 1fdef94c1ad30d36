package index

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/analyze"
	"github.com/maildiag/maildiag/index/readrows"
)

// eventRow is one events row.
type eventRow struct {
	day, rcpt, idHash, ts int64
	typ                   string
	sd, mk, seq           int64
}

func (e *eventRow) ref() analyze.Ref { return analyze.Ref{e.day, e.rcpt, e.idHash} }

const eventSelect = `SELECT e.day, e.recipient_id, e.id_hash, e.ts, t.name, e.sending_domain_id, e.message_key, e.seq
	FROM events e JOIN event_types t ON t.id = e.type_id`

func (db *DB) eventRowsWhere(ctx context.Context, cond string, args ...any) ([]eventRow, error) {
	return queryAll(ctx, db, "read events", eventSelect+` WHERE `+cond, args, func(e *eventRow) []any {
		return []any{&e.day, &e.rcpt, &e.idHash, &e.ts, &e.typ, &e.sd, &e.mk, &e.seq}
	})
}

// eventsOf reads the events of some recipients on every day with events,
// in time order.
func (db *DB) eventsOf(ctx context.Context, recipients []int64) ([]eventRow, error) {
	if len(recipients) == 0 {
		return nil, nil
	}
	days, err := db.Days(ctx)
	if err != nil {
		return nil, err
	}
	dl, args := dayList(days)
	rl, rargs := inList(recipients)
	return db.eventRowsWhere(ctx, `e.day IN `+dl+` AND e.recipient_id IN `+rl+` ORDER BY e.ts, e.seq`, append(args, rargs...)...)
}

// recipientsOfMessage returns the recipients a message-id was sent to.
func (db *DB) recipientsOfMessage(ctx context.Context, mk int64) ([]int64, error) {
	days, err := db.Days(ctx)
	if err != nil {
		return nil, err
	}
	dl, args := dayList(days)
	return queryAll(ctx, db, "read message", `SELECT DISTINCT recipient_id FROM messages WHERE day IN `+dl+` AND message_key = ?`,
		append(args, mk), func(id *int64) []any { return []any{id} })
}

// Events returns the events a query selects, oldest first, with the class,
// rule and gateway stored with each failure. A failure comes from its
// table, an accepted or delivered event from its original JSON; an
// engagement event is read from its JSON only when nothing else of its
// message tells the message-id, or with q.Full.
func (db *DB) Events(ctx context.Context, q analyze.EventQuery) ([]maildiag.Event, error) {
	var rcpts []int64
	for _, a := range q.Addresses {
		id, err := db.recipientID(ctx, strings.ToLower(a))
		if err != nil {
			return nil, err
		}
		if id != 0 {
			rcpts = append(rcpts, id)
		}
	}
	var rows []eventRow
	var err error
	switch {
	case q.EventID != "":
		// Events are keyed by a hash of type and id: look for each type's.
		rows, err = db.eventRowsWhere(ctx, `e.id_hash IN (SELECT event_hash(name, ?) FROM event_types) ORDER BY e.ts, e.seq`, q.EventID)
		if len(q.Addresses) > 0 {
			rows = slices.DeleteFunc(rows, func(e eventRow) bool { return !slices.Contains(rcpts, e.rcpt) })
		}
		q.Full = true // to check the id itself: hashes may collide
	case q.MessageID != "":
		mk := messageKey(q.MessageID)
		var of []int64
		if of, err = db.recipientsOfMessage(ctx, mk); err != nil {
			return nil, err
		}
		if len(q.Addresses) > 0 {
			of = slices.DeleteFunc(of, func(r int64) bool { return !slices.Contains(rcpts, r) })
		}
		rows, err = db.eventsOf(ctx, of)
		rows = slices.DeleteFunc(rows, func(e eventRow) bool { return e.mk != mk })
	default:
		rows, err = db.eventsOf(ctx, rcpts)
	}
	if err != nil || len(rows) == 0 {
		return nil, err
	}
	evs, err := db.eventsFromRows(ctx, rows, q.Full)
	if q.EventID != "" {
		evs = slices.DeleteFunc(evs, func(e maildiag.Event) bool { return e.ID != q.EventID })
	}
	return evs, err
}

// eventsFromRows turns events rows into events: failures from their table,
// the others from their original JSON where needed (see Events).
func (db *DB) eventsFromRows(ctx context.Context, rows []eventRow, full bool) ([]maildiag.Event, error) {
	keys := make([]readrows.Row, len(rows))
	var refs []analyze.Ref
	rcpts, sds := map[int64]bool{}, map[int64]bool{}
	for i, e := range rows {
		keys[i] = readrows.Row{Type: e.typ, MessageKey: e.mk, Recipient: e.rcpt}
		rcpts[e.rcpt], sds[e.sd] = true, true
		if e.typ == maildiag.Failed || e.typ == maildiag.Rejected {
			refs = append(refs, e.ref())
		}
	}
	parse := readrows.ToParse(keys, full)
	var seqs []int64
	for i, e := range rows {
		if parse[i] {
			seqs = append(seqs, e.seq)
		}
	}
	raws, err := db.rawEvents(ctx, seqs)
	if err != nil {
		return nil, err
	}
	failures, err := db.FailureDetails(ctx, refs)
	if err != nil {
		return nil, err
	}
	ids := make([]analyze.RecipientID, 0, len(rcpts))
	for id := range rcpts {
		ids = append(ids, analyze.RecipientID(id))
	}
	addrs, err := db.Addresses(ctx, ids)
	if err != nil {
		return nil, err
	}
	names, err := db.domainNames(ctx, slices.Sorted(maps.Keys(sds))...)
	if err != nil {
		return nil, err
	}
	// Who receives each recipient domain's mail, for the events read from
	// their JSON, whose own fields may not tell (an accepted event has no
	// MX host).
	rdoms := map[int64]bool{}
	for id := range rcpts {
		rdoms[id>>domainShift] = true
	}
	l, args := inList(slices.Sorted(maps.Keys(rdoms)))
	rdIDs, rds, err := db.domainsWhere(ctx, `id IN `+l, args...)
	if err != nil {
		return nil, err
	}
	gateways := map[int64]string{}
	for i, id := range rdIDs {
		gateways[id] = rds[i].Gateway
	}
	stored := make([]readrows.Stored, len(rows))
	for i, e := range rows {
		stored[i] = readrows.Stored{Row: keys[i], Parse: parse[i], Raw: raws[e.seq], Failure: failures[e.ref()],
			Gateway: gateways[e.rcpt>>domainShift], TimeUS: e.ts, SendingDomain: names[e.sd], Address: addrs[analyze.RecipientID(e.rcpt)]}
	}
	return readrows.Events(stored, full), nil
}

// Deliveries counts the delivered events of some recipients.
func (db *DB) Deliveries(ctx context.Context, recipients []analyze.RecipientID) (map[analyze.RecipientID]analyze.Deliveries, error) {
	ids := make([]int64, len(recipients))
	for i, r := range recipients {
		ids[i] = int64(r)
	}
	rows, err := db.eventsOf(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := map[analyze.RecipientID]analyze.Deliveries{}
	for _, e := range rows {
		if e.typ != maildiag.Delivered {
			continue
		}
		d := out[analyze.RecipientID(e.rcpt)]
		d.N++
		d.Last = time.UnixMicro(e.ts).UTC()
		out[analyze.RecipientID(e.rcpt)] = d
	}
	return out, nil
}

// Span returns the times of the first and last events, kept at ingest.
func (db *DB) Span(ctx context.Context) (analyze.Span, error) {
	first, last, err := db.span(ctx)
	if err != nil || first == 0 {
		return analyze.Span{}, err
	}
	return analyze.Span{First: time.UnixMicro(first).UTC(), Last: time.UnixMicro(last).UTC()}, nil
}

func (db *DB) span(ctx context.Context) (first, last int64, err error) {
	var f, l sql.NullInt64
	if err := db.queryRow(ctx, `SELECT (SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'first_ts'),
		(SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'last_ts')`).Scan(&f, &l); err != nil {
		return 0, 0, fmt.Errorf("read index span: %w", err)
	}
	return f.Int64, l.Int64, nil
}

// rawEvents returns the original JSON of events by seq.
func (db *DB) rawEvents(ctx context.Context, seqs []int64) (map[int64][]byte, error) {
	seqs = slices.Clone(seqs)
	slices.Sort(seqs)
	seqs = slices.Compact(seqs)
	out := make(map[int64][]byte, len(seqs))
	for len(seqs) > 0 {
		first, count, err := db.rawBlockOf(ctx, seqs[0], func(first, count int64, data []byte) error {
			// The seqs in this block, as record numbers.
			var want []int
			for _, s := range seqs {
				if s >= first+count {
					break
				}
				if s >= first {
					want = append(want, int(s-first))
				}
			}
			recs, err := blockRecords(data, want)
			if err != nil {
				return fmt.Errorf("read raw JSON: %w", err)
			}
			for i, r := range recs {
				out[first+int64(want[i])] = r
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		// Past this block (or past a seq no block holds).
		next := max(first+count, seqs[0]+1)
		for len(seqs) > 0 && seqs[0] < next {
			seqs = seqs[1:]
		}
	}
	return out, nil
}

// rawBlockOf calls fn with the block holding seq, its compressed data read
// straight from SQLite's memory; first is -1 when no block holds it.
func (db *DB) rawBlockOf(ctx context.Context, seq int64, fn func(first, count int64, data []byte) error) (first, count int64, err error) {
	rows, err := db.query(ctx, `SELECT first_seq, count, data FROM raw_blocks WHERE first_seq <= ? ORDER BY first_seq DESC LIMIT 1`, seq)
	if err != nil {
		return -1, 0, fmt.Errorf("read raw JSON: %w", err)
	}
	defer rows.Close()
	if !rows.Next() {
		return -1, 0, rows.Err()
	}
	var data sql.RawBytes
	if err := rows.Scan(&first, &count, &data); err != nil {
		return -1, 0, fmt.Errorf("read raw JSON: %w", err)
	}
	return first, count, fn(first, count, data)
}
