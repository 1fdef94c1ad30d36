package pg

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	ddzstd "github.com/DataDog/zstd"
	"github.com/jackc/pgx/v5"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/analyze"
	"github.com/maildiag/maildiag/index/readrows"
)

// eventRow is one events row with the names it refers to.
type eventRow struct {
	day                 int32
	rcpt, seq, ts, mk   int64
	typ, sd, addr, rdGW string
	raw                 []byte
	block               int64 // the block of raw, 0 when inline (rawblock.go)
	at                  int32
}

func (e *eventRow) ref() analyze.Ref { return analyze.Ref{int64(e.day), e.rcpt, e.seq} }

// eventSelect reads events rows: the recipient's address and its domain's
// gateway, the sending domain's name; raw when withRaw.
func eventSelect(withRaw bool) string {
	raw := `NULL::bytea, 0::bigint, 0`
	if withRaw {
		raw = `e.raw, COALESCE(e.raw_block, 0), COALESCE(e.raw_at, 0)`
	}
	return `SELECT e.day, e.recipient_id, e.seq, e.ts, ` + messageKeySQL + `, t.name, COALESCE(sd.name, ''),
		COALESCE(r.address, ''), COALESCE(rd.gateway, ''), ` + raw + `
	FROM events e JOIN event_types t ON t.id = e.type_id
	LEFT JOIN domains sd ON sd.id = e.sending_domain_id
	LEFT JOIN recipients r ON r.id = e.recipient_id AND e.recipient_id <> 0
	LEFT JOIN domains rd ON rd.id = r.domain_id`
}

func (db *DB) eventRows(ctx context.Context, withRaw bool, cond string, a ...any) ([]eventRow, error) {
	rows, err := collect(ctx, db, "read events", eventSelect(withRaw)+` WHERE `+cond+` ORDER BY e.ts, e.seq`, a, func(e *eventRow) []any {
		return []any{&e.day, &e.rcpt, &e.seq, &e.ts, &e.mk, &e.typ, &e.sd, &e.addr, &e.rdGW, &e.raw, &e.block, &e.at}
	})
	if err != nil {
		return nil, err
	}
	return rows, db.fillRows(ctx, rows)
}

// fillRows sets the raw JSON of rows whose JSON is in a block.
func (db *DB) fillRows(ctx context.Context, rows []eventRow) error {
	return db.fillRaw(ctx, len(rows), func(i int) (int64, int32, *[]byte) { return rows[i].block, rows[i].at, &rows[i].raw })
}

// recipientIDs resolves addresses (lower-cased), leaving out unknown ones.
func (db *DB) recipientIDs(ctx context.Context, addrs []string) ([]int64, error) {
	lower := make([]string, len(addrs))
	for i, a := range addrs {
		lower[i] = strings.ToLower(a)
	}
	return collect(ctx, db, "find recipients", `SELECT id FROM recipients WHERE address = ANY($1) ORDER BY id`, []any{lower},
		func(id *int64) []any { return []any{id} })
}

// Events returns the events a query selects, oldest first, with the class,
// rule and gateway stored with each failure: the same fields as the SQLite
// index gives (index.DB.Events), failures from their table, accepted and
// delivered events from their original JSON, engagement events from it
// only when nothing else tells their message-id, or with q.Full.
func (db *DB) Events(ctx context.Context, q analyze.EventQuery) ([]maildiag.Event, error) {
	rcpts, err := db.recipientIDs(ctx, q.Addresses)
	if err != nil {
		return nil, err
	}
	var a args
	var cond string
	switch {
	case q.EventID != "":
		cond = `hashtext(e.event_id) = hashtext(` + a.add(q.EventID) + `) AND e.event_id = $1`
		q.Full = true
	case q.MessageID != "":
		cond = `e.message_id IS NOT NULL AND hashtext(e.message_id) = hashtext(` + a.add(q.MessageID) + `) AND e.message_id = $1`
	default:
		if len(rcpts) == 0 {
			return nil, nil
		}
		cond = `e.recipient_id = ANY(` + a.add(rcpts) + `)`
	}
	if len(q.Addresses) > 0 && (q.EventID != "" || q.MessageID != "") {
		cond += ` AND e.recipient_id = ANY(` + a.add(rcpts) + `)`
	}
	rows, err := db.eventRows(ctx, true, cond, a...)
	if err != nil || len(rows) == 0 {
		return nil, err
	}
	return db.eventsFromRows(ctx, rows, q.Full)
}

// eventsFromRows turns events rows into events as the SQLite index does.
func (db *DB) eventsFromRows(ctx context.Context, rows []eventRow, full bool) ([]maildiag.Event, error) {
	keys := make([]readrows.Row, len(rows))
	var refs []analyze.Ref
	for i, e := range rows {
		keys[i] = readrows.Row{Type: e.typ, MessageKey: e.mk, Recipient: e.rcpt}
		if e.typ == maildiag.Failed || e.typ == maildiag.Rejected {
			refs = append(refs, e.ref())
		}
	}
	parse := readrows.ToParse(keys, full)
	failures, err := db.FailureDetails(ctx, refs)
	if err != nil {
		return nil, err
	}
	stored := make([]readrows.Stored, len(rows))
	for i, e := range rows {
		stored[i] = readrows.Stored{Row: keys[i], Parse: parse[i], Raw: e.raw, Failure: failures[e.ref()],
			Gateway: e.rdGW, TimeUS: e.ts, SendingDomain: e.sd, Address: e.addr}
	}
	return readrows.Events(stored, full), nil
}

// Deliveries counts the delivered events of some recipients.
func (db *DB) Deliveries(ctx context.Context, recipients []analyze.RecipientID) (map[analyze.RecipientID]analyze.Deliveries, error) {
	ids := make([]int64, len(recipients))
	for i, r := range recipients {
		ids[i] = int64(r)
	}
	type row struct {
		rcpt, n, last int64
	}
	rows, err := collect(ctx, db, "read deliveries", `SELECT recipient_id, COUNT(*), MAX(ts) FROM events
		WHERE recipient_id = ANY($1) AND type_id = 3 GROUP BY 1`, []any{ids}, func(r *row) []any { return []any{&r.rcpt, &r.n, &r.last} })
	if err != nil {
		return nil, err
	}
	out := map[analyze.RecipientID]analyze.Deliveries{}
	for _, r := range rows {
		out[analyze.RecipientID(r.rcpt)] = analyze.Deliveries{N: int(r.n), Last: time.UnixMicro(r.last).UTC()}
	}
	return out, nil
}

// CompleteUntil is the time up to which syncs have read a sending domain's
// events completely: zero when they never have.
func (db *DB) CompleteUntil(ctx context.Context, sendingDomain string) (time.Time, error) {
	var to *int64
	if err := db.pool.QueryRow(ctx, `SELECT MAX(to_us) FROM sync_ranges WHERE sending_domain = $1`, sendingDomain).Scan(&to); err != nil {
		return time.Time{}, fmt.Errorf("read synced ranges: %w", err)
	}
	if to == nil || *to == 0 {
		return time.Time{}, nil
	}
	return time.UnixMicro(*to).UTC(), nil
}

// KeptMessage returns what KeepMessage stored for a message-id (the newest
// fetch), or nil.
func (db *DB) KeptMessage(ctx context.Context, messageID string) (doc []byte, at time.Time, err error) {
	var data []byte
	var codec string
	var us int64
	err = db.pool.QueryRow(ctx, `SELECT codec, data, fetched_at FROM kept_messages WHERE message_id = $1 ORDER BY fetched_at DESC LIMIT 1`,
		messageID).Scan(&codec, &data, &us)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, time.Time{}, nil
	}
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("read kept message: %w", err)
	}
	if codec != "zstd" {
		return nil, time.Time{}, fmt.Errorf("read kept message: unknown codec %q", codec)
	}
	if doc, err = ddzstd.Decompress(nil, data); err != nil {
		return nil, time.Time{}, fmt.Errorf("read kept message: %w", err)
	}
	return doc, time.UnixMicro(us).UTC(), nil
}

// KeepMessage stores a fetched message's headers and text (as JSON),
// compressed, for the message-id: show --message --keep.
func (db *DB) KeepMessage(ctx context.Context, messageID, storageKey string, doc []byte, at time.Time) error {
	data, err := ddzstd.Compress(nil, doc)
	if err != nil {
		return fmt.Errorf("keep message: %w", err)
	}
	_, err = db.pool.Exec(ctx, `INSERT INTO kept_messages(message_id, storage_key, fetched_at, codec, data) VALUES ($1, $2, $3, 'zstd', $4)
		ON CONFLICT (message_id, storage_key) DO UPDATE SET fetched_at = excluded.fetched_at, codec = excluded.codec, data = excluded.data`,
		messageID, storageKey, at.UnixMicro(), data)
	if err != nil {
		return fmt.Errorf("keep message: %w", mayNotWrite(err))
	}
	return nil
}
