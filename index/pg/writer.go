package pg

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	ddzstd "github.com/DataDog/zstd"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/analyze"
)

// Writer stores events, suppression entries, rejects and sync ranges. It
// holds one connection and works in explicit transactions: what Commit
// returns from is durable and consistent (events with their counts, the
// ranges they cover, the import's counts), so an interrupted run loses only
// the transaction in flight and a re-run stores nothing twice. One
// goroutine at a time may use it; any number of writers, in any number of
// processes, may write one index at once.
type Writer struct {
	db     *DB
	conn   *pgxpool.Conn
	tx     pgx.Tx
	locked bool           // the open transaction holds storeLock
	months map[int32]bool // months whose partitions are known to exist (committed)
	txNew  []int32        // months whose partitions the open transaction made

	// hold is how many events may wait in the staging table for one merge
	// (SetBatch); staged is how many do, of import importID.
	hold     int
	staged   int
	importID int64

	// The raw JSON of the staged events (rawblock.go): the open block, the
	// ids of the blocks opened since the last merge, and the compressor.
	block  openBlock
	blocks []int64
	zc     ddzstd.Ctx
	plain  []byte
	packed []byte

	// The ids of texts (texts.go) met before, valid while no transaction
	// that added texts is rolled back; the backfill's events waiting to
	// be written.
	texts map[textKey]int32
	fill  []textFill

	// The staged events' texts, by row number, their ids found for the
	// whole batch at the merge (stageTexts); each distinct text is held
	// once (batchTexts), not with the rest of its event.
	rowTexts   []eventTexts
	batchTexts map[string]string

	// The identities of the staged events (AddEvents).
	stagedKeys map[stagedKey]struct{}
}

// stagedKey is a staged event's identity: its UTC day, type, Mailgun id
// and recipient.
type stagedKey struct {
	day                int32
	typ, id, recipient string
}

// SetBatch lets the writer keep up to n events staged before merging them
// in one statement: a merge costs tens of milliseconds whatever its size,
// so an import's batches of a thousand events spent most of their time
// there. AddEvents then returns 0 for events it keeps; Flush (which
// Commit calls) merges them and says how many were new.
func (w *Writer) SetBatch(n int) { w.hold = n }

// NewWriter opens a writing connection, with its staging table.
func (db *DB) NewWriter(ctx context.Context) (*Writer, error) {
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("open index for writing: %w", redactErr(err, db.url))
	}
	// JIT compiling the merge costs about 100 ms a batch (its estimated
	// cost passes jit_above_cost) and saves nothing on a thousand rows.
	// A batch is tens of megabytes: the staging table lives in temporary
	// buffers (set before the session's first use of a temporary table),
	// and the merge's sorts and hashes in memory, not in files.
	// The staging table's statistics (ANALYZE stage, each merge) need
	// only a rough sample: the default read 30,000 rows of each batch,
	// 160 ms of a 2.5 s merge of 50,000 events.
	for _, q := range []string{`SET jit = off`, `SET temp_buffers = '256MB'`, `SET work_mem = '64MB'`, `SET default_statistics_target = 10`,
		createStage, createStageTexts, createStageNew, createStageRecips} {
		if _, err := conn.Exec(ctx, q); err != nil {
			conn.Release()
			return nil, fmt.Errorf("open index for writing: %w", err)
		}
	}
	return &Writer{db: db, conn: conn, months: map[int32]bool{}, texts: map[textKey]int32{}, batchTexts: map[string]string{},
		stagedKeys: map[stagedKey]struct{}{}}, nil
}

// Close rolls back anything not committed and releases the connection,
// and with it the import locks it held.
func (w *Writer) Close() error {
	w.Rollback()
	// A session holding advisory locks must not go back to the pool.
	w.conn.Hijack().Close(context.Background())
	return nil
}

// begin starts a transaction when none is open.
func (w *Writer) begin(ctx context.Context) error {
	if w.tx != nil {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	tx, err := w.conn.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", redactErr(err, w.db.url))
	}
	w.tx = tx
	return nil
}

// storeLock is the advisory lock a transaction that stores events,
// suppression entries or ranges holds until it ends: such transactions,
// of any writer in any process, take turns. A sync's transaction spans
// domains and windows and stores them page by page, so two syncs (or a
// sync and an import) storing the same events in different orders would
// each wait for a row the other inserted: a deadlock, which PostgreSQL
// ends by failing one of them (measured: two syncs of one account at once
// failed so). One lock cannot form a cycle, and transactions are short
// (a sync commits every second or 6000 events).
const storeLock = 0x6d6473746f726573 // "mdstores"

// beginStore starts a transaction when none is open and takes storeLock.
func (w *Writer) beginStore(ctx context.Context) error {
	if err := w.begin(ctx); err != nil {
		return err
	}
	if w.locked {
		return nil
	}
	if _, err := w.tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(storeLock)); err != nil {
		return fmt.Errorf("wait for other writers: %w", redactErr(err, w.db.url))
	}
	w.locked = true
	return nil
}

// Commit commits the open transaction, if any.
func (w *Writer) Commit(ctx context.Context) error {
	if w.tx == nil {
		return nil
	}
	if _, err := w.Flush(ctx); err != nil {
		return err
	}
	if err := w.flushFill(ctx); err != nil {
		return err
	}
	err := w.tx.Commit(ctx)
	w.tx, w.locked = nil, false
	if err != nil {
		w.txNew = nil
		clear(w.texts)
		return fmt.Errorf("commit: %w", redactErr(err, w.db.url))
	}
	for _, m := range w.txNew {
		w.months[m] = true
	}
	w.txNew = nil
	return nil
}

// Rollback abandons the open transaction, if any.
func (w *Writer) Rollback() {
	if w.tx != nil {
		w.tx.Rollback(context.Background())
		w.tx, w.locked = nil, false
	}
	w.staged = 0
	clear(w.stagedKeys)
	w.block, w.blocks = openBlock{}, nil
	// Partitions and texts made in it are gone with it.
	w.txNew = nil
	clear(w.texts)
	w.fill = w.fill[:0]
	w.rowTexts = nil
	clear(w.batchTexts)
}

const usPerDay = 86400 * 1_000_000
const usPerHour = 3600 * 1_000_000

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// monthOf is the first day (a UTC day number) of the month of a day.
func monthOf(day int32) int32 {
	t := time.Unix(int64(day)*86400, 0).UTC()
	return int32(time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

// createStage is the staging table a batch of events is copied into
// before one merge moves what is new into the index.
const createStage = `CREATE TEMP TABLE IF NOT EXISTS stage (
	n integer, day integer, ts bigint, hour integer, type text, event_id text, sending_domain text, recipient text,
	recipient_domain text, message_id text, failure boolean, outcome text, severity text, reason text, code integer,
	enhanced text, class text, rule text, gateway text, provider text, mx_host text, reply text, description text,
	attempt integer, retry_seconds integer, bounce_type text, delayed_bounce boolean, sending_ip text,
	subject text, from_addr text, tags text, raw_block bigint, raw_at integer
)`

// createStageTexts holds the ids of the staged events' texts, by row
// number: found for the whole batch at once, after the rows are copied.
const createStageTexts = `CREATE TEMP TABLE IF NOT EXISTS stage_texts (
	n integer, subject_id integer, from_id integer, ip_id integer, tags_id integer, route_id integer
)`

var stageColumns = []string{"n", "day", "ts", "hour", "type", "event_id", "sending_domain", "recipient", "recipient_domain",
	"message_id", "failure", "outcome", "severity", "reason", "code", "enhanced", "class", "rule", "gateway",
	"provider", "mx_host", "reply", "description", "attempt", "retry_seconds", "bounce_type", "delayed_bounce",
	"sending_ip", "subject", "from_addr", "tags", "raw_block", "raw_at"}

// merge moves the staged events into the index in one statement: names
// into their dictionaries first (merge_names), then the events not stored
// before (the primary key is their identity; ON CONFLICT skips the others,
// also those another writer is storing at the same moment, once it
// commits), their failure details, and the counts of exactly the events
// inserted. It returns how many events were new.
const mergeNames = `
WITH names AS (
	SELECT name, bool_or(sending) AS sending FROM (
		SELECT sending_domain AS name, true AS sending FROM stage WHERE sending_domain <> ''
		UNION ALL SELECT recipient_domain, false FROM stage WHERE recipient_domain <> ''
	) n GROUP BY name
), d AS (
	-- New names take their sending flag here: the UPDATE below does not
	-- see rows this statement inserts.
	INSERT INTO domains(name, sending)
	SELECT name, sending FROM names WHERE NOT EXISTS (SELECT 1 FROM domains x WHERE x.name = names.name)
	ORDER BY name
	ON CONFLICT (name) DO UPDATE SET sending = true WHERE excluded.sending AND NOT domains.sending
), t AS (
	INSERT INTO event_types(name)
	SELECT DISTINCT type FROM stage WHERE NOT EXISTS (SELECT 1 FROM event_types x WHERE x.name = stage.type)
	ORDER BY 1
	ON CONFLICT DO NOTHING
)
UPDATE domains SET sending = true
WHERE NOT sending AND name IN (SELECT DISTINCT sending_domain FROM stage WHERE sending_domain <> '')`

const mergeRecipients = `
WITH rs AS (
	-- Each address once, whatever recipient domain its events claimed.
	SELECT DISTINCT ON (recipient) recipient, recipient_domain FROM stage WHERE recipient <> ''
	ORDER BY recipient, recipient_domain
), known AS (
	-- One lookup in the address index each (LIMIT keeps the planner from
	-- hashing the whole table): 25k addresses against the 2.2M of a 10M
	-- event index took 0.14-0.49 s so, 0.77-0.95 s hashed.
	SELECT r.address, r.id, r.domain_id FROM rs
	CROSS JOIN LATERAL (SELECT x.address, x.id, x.domain_id FROM recipients x WHERE x.address = rs.recipient LIMIT 1) r
), added AS (
	-- ON CONFLICT returns the row another writer stored meanwhile too.
	INSERT INTO recipients(address, domain_id)
	SELECT rs.recipient, COALESCE(d.id, 0)
	FROM rs LEFT JOIN domains d ON d.name = rs.recipient_domain
	WHERE NOT EXISTS (SELECT 1 FROM known k WHERE k.address = rs.recipient)
	ORDER BY 1
	ON CONFLICT (address) DO UPDATE SET address = excluded.address
	RETURNING address, id, domain_id
)
INSERT INTO stage_recips SELECT * FROM known UNION ALL SELECT * FROM added`

// createStageRecips holds the ids of the staged events' recipients, old
// and new, found once a batch: joining the events to all recipients read
// the whole table (2.2M addresses, 0.45 s a batch at 10M events) for
// each of two statements.
const createStageRecips = `CREATE TEMP TABLE IF NOT EXISTS stage_recips (address text, id bigint, domain_id integer)`

var mergeEvents = `
WITH base AS (
	-- Narrow rows: the failure details stay in stage, found by n.
	SELECT s.n, s.day, s.ts, s.hour, s.event_id, s.message_id, s.failure, s.outcome, s.raw_block, s.raw_at,
		st.subject_id, st.from_id, st.ip_id, st.tags_id, st.route_id,
		COALESCE(r.id, 0) AS r_id, COALESCE(r.domain_id, 0) AS r_domain, t.id AS type_id, COALESCE(sd.id, 0) AS sd_id, COALESCE(rd.id, 0) AS rd_id,
		s.ts - s.day::bigint * 86400000000 AS into_day
	FROM stage s
	JOIN stage_texts st ON st.n = s.n
	JOIN event_types t ON t.name = s.type
	LEFT JOIN stage_recips r ON r.address = s.recipient
	LEFT JOIN domains sd ON sd.name = s.sending_domain
	LEFT JOIN domains rd ON rd.name = s.recipient_domain
), src AS (
	-- The Logs API gives times in milliseconds, the Events API in
	-- microseconds: an event within a millisecond of midnight is the same
	-- as one on the neighbouring day (as in the SQLite index).
	SELECT b.*
	FROM base b
	WHERE NOT (b.into_day < 1000 AND (
			EXISTS (SELECT 1 FROM events e WHERE e.day = b.day - 1 AND e.recipient_id = b.r_id AND e.type_id = b.type_id AND e.event_id = b.event_id)
			OR EXISTS (SELECT 1 FROM base p WHERE p.day = b.day - 1 AND p.r_id = b.r_id AND p.type_id = b.type_id AND p.event_id = b.event_id)))
		AND NOT (b.into_day >= 86400000000 - 1000 AND
			EXISTS (SELECT 1 FROM events e WHERE e.day = b.day + 1 AND e.recipient_id = b.r_id AND e.type_id = b.type_id AND e.event_id = b.event_id))
), ins AS (
	-- Inserted in the order of their identity key, which took a quarter
	-- less time than the order they came in (50k events into 1M).
	INSERT INTO events(day, recipient_id, type_id, event_id, ts, sending_domain_id, message_id, seq, import_id, raw_block, raw_at,
		subject_id, from_id, ip_id, tags_id, route_id)
	SELECT q.day, q.r_id, q.type_id, q.event_id, q.ts, q.sd_id, NULLIF(q.message_id, ''), q.seq, $1,
		q.raw_block, q.raw_at, q.subject_id, q.from_id, q.ip_id, q.tags_id, q.route_id
	FROM (
		-- seq in the order the events came, as SQLite's: it breaks ties of time
		SELECT src.*, nextval('event_seq') AS seq FROM src ORDER BY src.n
	) q
	ORDER BY q.day, q.r_id, q.type_id, q.event_id
	ON CONFLICT DO NOTHING
	RETURNING day, recipient_id, type_id, event_id, seq, raw_block
), fresh AS (
	SELECT src.*, ins.seq FROM ins JOIN src ON src.day = ins.day AND src.r_id = ins.recipient_id
		AND src.type_id = ins.type_id AND src.event_id = ins.event_id
), f AS (
	INSERT INTO failures(day, recipient_id, type_id, event_id, ts, sending_domain_id, seq, outcome, severity, reason,
		code, enhanced, class, rule, gateway, provider, mx_host, reply, description, attempt, retry_seconds,
		bounce_type, delayed_bounce, sending_ip, subject, from_addr, tags, message_key, recipient_domain_id)
	SELECT x.day, x.r_id, x.type_id, x.event_id, x.ts, x.sd_id, x.seq, x.outcome, s.severity, s.reason, s.code, s.enhanced,
		s.class, s.rule, s.gateway, s.provider, s.mx_host, s.reply, s.description, s.attempt, s.retry_seconds,
		s.bounce_type, s.delayed_bounce, s.sending_ip, s.subject, s.from_addr, s.tags, ` + strings.ReplaceAll(messageKeySQL, "message_id", "x.message_id") + `, x.r_domain
	FROM fresh x JOIN stage s ON s.n = x.n WHERE x.failure
	ON CONFLICT DO NOTHING
), nw AS (
	-- For the read side's rollups (mergeRead).
	INSERT INTO stage_new SELECT x.day, x.ts, x.seq, x.type_id, x.r_id, x.sd_id, x.rd_id, x.message_id, x.outcome,
		s.provider, s.gateway, s.mx_host
	FROM fresh x JOIN stage s ON s.n = x.n
), sc AS (
	-- Events grouped by IP and tag set first: unnesting each event's tags
	-- and sorting them took 0.2 s of a 2 s merge of 50k events.
	INSERT INTO split_counts(day, sending_domain_id, kind, name, type_id, outcome, n)
	SELECT g.day, g.sd_id, v.kind, v.name, g.type_id, g.outcome, SUM(g.n)
	FROM (
		SELECT x.day, x.sd_id, x.type_id, x.outcome, s.sending_ip, s.tags, COUNT(*) AS n
		FROM fresh x JOIN stage s ON s.n = x.n GROUP BY 1, 2, 3, 4, 5, 6
	) g
	CROSS JOIN LATERAL (
		SELECT 'ip', g.sending_ip WHERE COALESCE(g.sending_ip, '') <> ''
		UNION ALL SELECT 'tag', t FROM unnest(string_to_array(rtrim(g.tags, E'\n'), E'\n')) t WHERE t <> ''
	) v(kind, name)
	GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6
	ON CONFLICT (day, sending_domain_id, kind, name, type_id, outcome) DO UPDATE SET n = split_counts.n + excluded.n
), dc AS (
	INSERT INTO daily_counts(day, sending_domain_id, recipient_domain_id, type_id, outcome, n)
	SELECT day, sd_id, rd_id, type_id, outcome, COUNT(*) FROM fresh GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
	ON CONFLICT (day, sending_domain_id, recipient_domain_id, type_id, outcome) DO UPDATE SET n = daily_counts.n + excluded.n
), hc AS (
	INSERT INTO hourly_counts(hour, sending_domain_id, type_id, outcome, n)
	SELECT hour, sd_id, type_id, outcome, COUNT(*) FROM fresh GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
	ON CONFLICT (hour, sending_domain_id, type_id, outcome) DO UPDATE SET n = hourly_counts.n + excluded.n
)
SELECT (SELECT COUNT(*) FROM fresh), ARRAY(SELECT DISTINCT raw_block FROM ins)`

// AddEvents stores, in the open transaction, the events not stored before
// and returns how many were new: the same event twice (same type, Mailgun
// id, recipient and UTC day) is stored once, in this batch, across
// batches, and across writers.
func (w *Writer) AddEvents(ctx context.Context, evs []maildiag.Event, importID int64) (int, error) {
	if len(evs) == 0 {
		return 0, nil
	}
	if err := w.beginStore(ctx); err != nil {
		return 0, err
	}
	// Staged events of another import are merged first: a merge names
	// its import, and takes the blocks opened before it.
	if w.staged > 0 && importID != w.importID {
		if _, err := w.flush(ctx); err != nil {
			return 0, err
		}
	}
	rows := make([][]any, 0, len(evs))
	texts := make([]eventTexts, 0, len(evs))
	var months []int32
	seen := map[int32]bool{}
	for i := range evs {
		ev := &evs[i]
		day := int32(floorDiv(ev.TimeUS, usPerDay))
		// An event the batch holds already is not staged again: each
		// staged identity is then one row, and the merge needs no sort
		// to keep one of each (0.1 s of a 2 s merge of 50k events).
		k := stagedKey{day, ev.Type, ev.ID, ev.Recipient}
		if _, ok := w.stagedKeys[k]; ok {
			continue
		}
		k.typ, k.id, k.recipient = strings.Clone(k.typ), strings.Clone(k.id), strings.Clone(k.recipient)
		w.stagedKeys[k] = struct{}{}
		if m := monthOf(day); !w.months[m] && !seen[m] {
			seen[m] = true
			months = append(months, m)
		}
		raw := ev.Raw
		if raw == nil {
			raw = []byte{}
		}
		block, at, err := w.addRaw(ctx, raw, day)
		if err != nil {
			return 0, err
		}
		rows = append(rows, stageRow(ev, day, block, at))
		var et eventTexts
		for k, t := range textsOf(ev) {
			if t == "" {
				continue
			}
			if c, ok := w.batchTexts[t]; ok {
				et[k] = c
			} else {
				t = strings.Clone(t)
				w.batchTexts[t], et[k] = t, t
			}
		}
		texts = append(texts, et)
		if len(w.block.data) >= blockTarget {
			if err := w.closeBlock(ctx); err != nil {
				return 0, err
			}
		}
	}
	if len(months) > 0 {
		if _, err := w.tx.Exec(ctx, `SELECT maildiag_partitions($1)`, months); err != nil {
			return 0, fmt.Errorf("create partitions: %w", mayNotWrite(err))
		}
		w.txNew = append(w.txNew, months...)
	}
	for i, r := range rows {
		r[0] = int32(w.staged + i) // the row's number, to find its details by
	}
	if _, err := w.tx.CopyFrom(ctx, pgx.Identifier{"stage"}, stageColumns, pgx.CopyFromRows(rows)); err != nil {
		return 0, fmt.Errorf("store events: copy: %w", err)
	}
	w.rowTexts = append(w.rowTexts, texts...)
	w.staged += len(rows)
	w.importID = importID
	if w.staged < w.hold {
		return 0, nil
	}
	return w.flush(ctx)
}

// Flush merges the events staged in the open transaction and returns how
// many were new.
func (w *Writer) Flush(ctx context.Context) (int, error) {
	if w.staged == 0 || w.tx == nil {
		return 0, nil
	}
	return w.flush(ctx)
}

func (w *Writer) flush(ctx context.Context) (int, error) {
	if err := w.closeBlock(ctx); err != nil {
		return 0, err
	}
	if err := w.stageTexts(ctx); err != nil {
		return 0, err
	}
	for _, q := range []string{`ANALYZE stage, stage_texts`, mergeNames, mergeRecipients} {
		if _, err := w.tx.Exec(ctx, q); err != nil {
			return 0, fmt.Errorf("store events: names: %w", mayNotWrite(err))
		}
	}
	var n int
	var used []int64
	if err := w.tx.QueryRow(ctx, mergeEvents, nullID(w.importID)).Scan(&n, &used); err != nil {
		return 0, fmt.Errorf("store events: %w", err)
	}
	// Blocks of events all stored before (a file imported again) hold
	// nothing the index needs.
	var unused []int64
	for _, id := range w.blocks {
		if !slices.Contains(used, id) {
			unused = append(unused, id)
		}
	}
	if len(unused) > 0 {
		if _, err := w.tx.Exec(ctx, `DELETE FROM raw_blocks WHERE id = ANY($1)`, unused); err != nil {
			return 0, fmt.Errorf("store events: %w", err)
		}
	}
	w.blocks = w.blocks[:0]
	if err := w.mergeReadRollups(ctx); err != nil {
		return 0, err
	}
	if _, err := w.tx.Exec(ctx, `TRUNCATE stage, stage_texts, stage_new, stage_recips`); err != nil {
		return 0, fmt.Errorf("store events: %w", err)
	}
	w.staged = 0
	clear(w.stagedKeys)
	return n, nil
}

// stageTexts copies the ids of the staged events' texts, found for the
// whole batch in one statement (a statement per AddEvents took a quarter
// of an import's time), beside the staged rows.
func (w *Writer) stageTexts(ctx context.Context) error {
	ids, err := w.textIDs(ctx, w.rowTexts)
	if err != nil {
		return err
	}
	rows := make([][]any, len(ids))
	for i, t := range ids {
		rows[i] = []any{int32(i), t[0], t[1], t[2], t[3], t[4]}
	}
	if _, err := w.tx.CopyFrom(ctx, pgx.Identifier{"stage_texts"}, []string{"n", "subject_id", "from_id", "ip_id", "tags_id", "route_id"},
		pgx.CopyFromRows(rows)); err != nil {
		return fmt.Errorf("store events: copy texts: %w", err)
	}
	clear(w.rowTexts)
	w.rowTexts = w.rowTexts[:0]
	clear(w.batchTexts)
	return nil
}

func stageRow(ev *maildiag.Event, day int32, block int64, at int32) []any {
	rdom := ev.RecipientDomain
	if rdom == "" {
		rdom = maildiag.DomainOf(ev.Recipient)
	}
	failure := ev.Type == maildiag.Failed || ev.Type == maildiag.Rejected
	outcome := ""
	if ev.Type == maildiag.Failed {
		switch ev.Outcome() {
		case maildiag.OutcomeSuppressed, maildiag.OutcomePermanent:
			outcome = string(ev.Outcome())
		default:
			outcome = string(maildiag.OutcomeTemporary)
		}
	}
	row := []any{int32(0), day, ev.TimeUS, int32(floorDiv(ev.TimeUS, usPerHour)), ev.Type, ev.ID, ev.SendingDomain, ev.Recipient,
		rdom, ev.MessageID, failure, outcome}
	if !failure {
		// The route of a delivery, for the domains' details and delays
		// (mergeRead); failures store it in their table.
		// Its IP and tags, for the splits (split_counts).
		return append(row, nil, nil, nil, nil, nil, nil, nullStr(ev.Gateway), nullStr(ev.Provider), nullStr(ev.MXHost),
			nil, nil, nil, nil, nil, nil, nullStr(ev.SendingIP), nil, nil, tagLines(ev.Tags), block, at)
	}
	return append(row, nullStr(ev.Severity), nullStr(ev.Reason), nullInt(ev.Code), nullStr(ev.EnhancedCode),
		nullStr(ev.Class), nullStr(ev.Rule), nullStr(ev.Gateway), nullStr(ev.Provider), nullStr(ev.MXHost),
		nullStr(ev.Reply), nullStr(ev.Description), nullInt(ev.Attempt), nullInt(ev.RetrySeconds),
		nullStr(ev.BounceType), ev.DelayedBounce, nullStr(ev.SendingIP), nullStr(ev.Subject), nullStr(ev.From), tagLines(ev.Tags), block, at)
}

// tagLines is a tag set as the failures table keeps it: one tag a line,
// as the SQLite index's texts; nil for none.
func tagLines(tags []string) any {
	if len(tags) == 0 {
		return nil
	}
	return strings.Join(tags, "\n") + "\n"
}

func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullInt(n int) any {
	if n == 0 {
		return nil
	}
	return int32(n)
}

func nullID(n int64) any {
	if n == 0 {
		return nil
	}
	return n
}

// AddSuppressions stores suppression-list entries seen at seenUS. An entry
// already stored (same sending domain, list, address and creation time)
// only has last_seen moved; it returns how many were new.
func (w *Writer) AddSuppressions(ctx context.Context, ss []maildiag.Suppression, importID, seenUS int64) (int, error) {
	if len(ss) == 0 {
		return 0, nil
	}
	if err := w.beginStore(ctx); err != nil {
		return 0, err
	}
	added := 0
	for i := range ss {
		s := &ss[i]
		dom := s.Address
		if s.Kind != "domain" {
			dom = maildiag.DomainOf(s.Address)
		}
		var tags any
		if len(s.Tags) > 0 {
			b, _ := json.Marshal(s.Tags)
			tags = string(b)
		}
		var inserted bool
		// One statement marks the list's domain sending: a data-modifying
		// CTE could not see the row its sibling inserted.
		_, err := w.tx.Exec(ctx, `
			INSERT INTO domains(name, sending) SELECT x, x = $1 FROM unnest(ARRAY[$1::text, $2::text]) x
			WHERE x <> '' GROUP BY x ORDER BY x
			ON CONFLICT (name) DO UPDATE SET sending = true WHERE excluded.sending AND NOT domains.sending`,
			s.SendingDomain, dom)
		if err != nil {
			return added, fmt.Errorf("store suppression %s: %w", s.Address, err)
		}
		err = w.tx.QueryRow(ctx, `
			INSERT INTO suppressions(sending_domain_id, list, address, domain_id, kind, code, error, tags, reason,
				created_at, first_seen, last_seen, import_id, raw)
			VALUES ((SELECT id FROM domains WHERE name = $1), $2, $3, COALESCE((SELECT id FROM domains WHERE name = $4), 0),
				$5, $6, $7, $8, $9, $10, $11, $11, $12, $13)
			ON CONFLICT (sending_domain_id, list, address, created_at)
				DO UPDATE SET last_seen = GREATEST(suppressions.last_seen, excluded.last_seen), removed_at = NULL
			RETURNING xmax = 0`,
			s.SendingDomain, s.List, s.Address, dom, nullStr(s.Kind), nullStr(s.Code), nullStr(s.Error), tags,
			nullStr(s.Reason), s.CreatedUS, seenUS, nullID(importID), nullStr(string(s.Raw))).Scan(&inserted)
		if err != nil {
			return added, fmt.Errorf("store suppression %s: %w", s.Address, err)
		}
		if inserted {
			added++
		}
	}
	return added, nil
}

// maxRejectRaw bounds the raw text kept of one rejected record.
const maxRejectRaw = 1 << 20

// AddRejects stores records that could not be loaded.
func (w *Writer) AddRejects(ctx context.Context, source string, importID int64, rs []maildiag.Reject) error {
	if len(rs) == 0 {
		return nil
	}
	if err := w.begin(ctx); err != nil {
		return err
	}
	rows := make([][]any, len(rs))
	for i, r := range rs {
		raw := r.Raw
		if len(raw) > maxRejectRaw {
			raw = raw[:maxRejectRaw]
		}
		rows[i] = []any{nullID(importID), source, nullID(r.Line), nullInt(r.Item), r.Offset, r.Reason, textOf(raw), int64(len(r.Raw))}
	}
	if _, err := w.tx.CopyFrom(ctx, pgx.Identifier{"rejects"}, []string{"import_id", "source", "line", "item", "offset", "reason", "raw", "raw_bytes"},
		pgx.CopyFromRows(rows)); err != nil {
		return fmt.Errorf("store rejects: %w", err)
	}
	return nil
}

// textOf is raw bytes as PostgreSQL text, which holds no NUL byte and only
// UTF-8: others are escaped as \xNN.
func textOf(b []byte) string {
	out := make([]byte, 0, len(b))
	for len(b) > 0 {
		r, size := rune(b[0]), 1
		if b[0] >= 0x80 {
			r, size = utf8.DecodeRune(b)
		}
		if r == 0 || r == 0xFFFD && size == 1 {
			out = fmt.Appendf(out, `\x%02x`, b[0])
		} else {
			out = append(out, b[:size]...)
		}
		b = b[size:]
	}
	return string(out)
}

// AddSyncedRange records, in the open transaction, that a range of a
// sending domain's events has been read completely from a source: it
// commits together with the events it covers. Overlapping and touching
// ranges are merged.
func (w *Writer) AddSyncedRange(ctx context.Context, sendingDomain, source string, r maildiag.Range, syncedUS int64) error {
	if r.ToUS <= r.FromUS {
		return nil
	}
	if err := w.beginStore(ctx); err != nil {
		return err
	}
	// Two writers recording ranges of one domain take turns.
	if _, err := w.tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('maildiag sync_ranges ' || $1 || ' ' || $2))`, sendingDomain, source); err != nil {
		return fmt.Errorf("record synced range: %w", err)
	}
	_, err := w.tx.Exec(ctx, `
		WITH gone AS (
			DELETE FROM sync_ranges WHERE sending_domain = $1 AND source = $2 AND from_us <= $4 AND to_us >= $3
			RETURNING from_us, to_us
		)
		INSERT INTO sync_ranges(sending_domain, source, from_us, to_us, synced_at)
		SELECT $1, $2, LEAST($3, MIN(from_us)), GREATEST($4, MAX(to_us)), $5 FROM (
			SELECT from_us, to_us FROM gone UNION ALL SELECT $3::bigint, $4::bigint
		) x`, sendingDomain, source, r.FromUS, r.ToUS, syncedUS)
	if err != nil {
		return fmt.Errorf("record synced range: %w", err)
	}
	return nil
}

// SetMeta sets a value of the meta table in the open transaction.
func (w *Writer) SetMeta(ctx context.Context, key, value string) error {
	if err := w.begin(ctx); err != nil {
		return err
	}
	if _, err := w.tx.Exec(ctx, `INSERT INTO meta(key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value); err != nil {
		return fmt.Errorf("store meta: %w", err)
	}
	return nil
}

// SetFailureClass replaces the derived fields of a stored failure.
func (w *Writer) SetFailureClass(ctx context.Context, ref analyze.Ref, class, rule, gateway string) error {
	if err := w.begin(ctx); err != nil {
		return err
	}
	if _, err := w.tx.Exec(ctx, `UPDATE failures SET class = $1, rule = $2, gateway = $3 WHERE day = $4 AND recipient_id = $5 AND seq = $6`,
		nullStr(class), nullStr(rule), nullStr(gateway), int32(ref[0]), ref[1], ref[2]); err != nil {
		return fmt.Errorf("store failure class: %w", err)
	}
	return w.setRoute(ctx, ref, gateway)
}
