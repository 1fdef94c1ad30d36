package index

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"strings"

	"github.com/klauspost/compress/zstd"
	sqlite3 "github.com/mattn/go-sqlite3"

	"github.com/maildiag/maildiag"
)

// Writer stores events, suppression entries and rejects. It owns one
// connection and works in explicit transactions: what Commit returns from is
// durable and consistent (events with their raw JSON, counts and whatever
// the caller wrote with Exec), so an interrupted run loses only the batch in
// flight and a re-run stores nothing twice.
type Writer struct {
	db    *DB
	conn  *sqlite3.SQLiteConn
	inTx  bool
	stmts map[string]driver.Stmt

	domains map[string]int64
	recips  map[string]int64

	block   rawBlock
	enc     *zstd.Encoder
	pending []chan encoded
	counts  map[countKey]int64
	args    []driver.NamedValue
	dest    []driver.Value
	types   map[string]int64

	// oldDays are the UTC days that had events when the writer started;
	// fresh holds eventKey of the events stored since on the other days.
	// fresh is nil once another connection has written: then every event
	// is looked up in the index.
	oldDays     map[int64]struct{}
	fresh       map[uint64]struct{}
	dataVersion int64
}

type countKey struct {
	day, sending, recipient, typ int64
}

type encoded struct {
	id, importID int64
	count        int
	data         []byte
}

// cacheLimit bounds the recipient and message caches; past it they restart
// empty and misses go to the index.
const cacheLimit = 1 << 21

// NewWriter opens the index's writing connection.
func (db *DB) NewWriter(ctx context.Context) (*Writer, error) {
	c, err := openConn(db.dsn)
	if err != nil {
		return nil, fmt.Errorf("open index for writing: %w", err)
	}
	// A transaction's dirty pages stay in memory until it commits.
	if _, err := c.Exec("PRAGMA cache_size = -1048576", nil); err != nil {
		c.Close()
		return nil, fmt.Errorf("open index for writing: %w", err)
	}
	w := &Writer{
		db:      db,
		conn:    c,
		stmts:   map[string]driver.Stmt{},
		domains: map[string]int64{},
		recips:  map[string]int64{},
		counts:  map[countKey]int64{},
		enc:     newEncoder(),
	}
	w.args = make([]driver.NamedValue, 0, 20)
	w.dest = make([]driver.Value, 4)
	w.types = map[string]int64{}
	return w, nil
}

// Close rolls back anything not committed and closes the connection.
func (w *Writer) Close() error {
	if w.inTx {
		w.rollback()
	}
	for _, s := range w.stmts {
		s.Close()
	}
	w.enc.Close()
	return w.conn.Close()
}

func (w *Writer) rollback() {
	for _, p := range w.pending {
		<-p
	}
	w.pending = nil
	w.conn.Exec("ROLLBACK", nil)
	w.inTx = false
	// Ids handed out in the rolled-back transaction are gone.
	clear(w.domains)
	clear(w.recips)
	clear(w.counts)
	clear(w.types)
	w.block = rawBlock{importID: w.block.importID}
}

// begin starts a transaction when none is open.
func (w *Writer) begin(ctx context.Context) error {
	if w.inTx {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if _, err := w.conn.Exec("BEGIN IMMEDIATE", nil); err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	w.inTx = true
	if err := w.checkOthers(); err != nil {
		w.rollback()
		return err
	}
	next, err := w.queryInt("SELECT COALESCE(MAX(id), 0) + 1 FROM raw_blocks")
	if err != nil {
		w.rollback()
		return err
	}
	w.block = rawBlock{id: next, importID: w.block.importID}
	return nil
}

// checkOthers notices a commit by another connection since ours, after
// which the days this writer took for fresh may not be.
func (w *Writer) checkOthers() error {
	v, err := w.queryInt("PRAGMA data_version")
	if err != nil {
		return err
	}
	if w.oldDays == nil {
		w.oldDays = map[int64]struct{}{}
		days, err := w.queryInts("SELECT DISTINCT day FROM event_counts")
		if err != nil {
			return err
		}
		for _, d := range days {
			w.oldDays[d] = struct{}{}
		}
		w.fresh = map[uint64]struct{}{}
	} else if v != w.dataVersion {
		w.fresh = nil
	}
	w.dataVersion = v
	return nil
}

// eventKey hashes the identity of an event: its UTC day and Mailgun id.
func eventKey(ev *maildiag.Event) uint64 {
	h := fnv.New64a()
	h.Write([]byte(ev.ID))
	return h.Sum64() ^ uint64(maildiag.DayOf(ev.TimeUS))*0x9E3779B97F4A7C15
}

// Commit makes everything written since the last Commit durable.
func (w *Writer) Commit(ctx context.Context) error {
	if !w.inTx {
		return nil
	}
	if err := w.flushBlock(true); err != nil {
		w.rollback()
		return err
	}
	if err := w.flushCounts(); err != nil {
		w.rollback()
		return err
	}
	if _, err := w.conn.Exec("COMMIT", nil); err != nil {
		w.rollback()
		return fmt.Errorf("commit: %w", err)
	}
	w.inTx = false
	v, err := w.queryInt("PRAGMA data_version")
	if err != nil {
		return err
	}
	w.dataVersion = v
	return nil
}

// Rollback abandons everything written since the last Commit.
func (w *Writer) Rollback() {
	if w.inTx {
		w.rollback()
	}
}

// Exec runs a statement inside the writer's current transaction, so that
// for example a sync cursor commits together with the events it covers.
func (w *Writer) Exec(ctx context.Context, query string, args ...any) error {
	if err := w.begin(ctx); err != nil {
		return err
	}
	vals := make([]driver.Value, len(args))
	for i, a := range args {
		vals[i] = a
	}
	_, err := w.conn.Exec(query, vals)
	return err
}

func (w *Writer) stmt(query string) (driver.Stmt, error) {
	if s, ok := w.stmts[query]; ok {
		return s, nil
	}
	s, err := w.conn.Prepare(query)
	if err != nil {
		return nil, fmt.Errorf("prepare %q: %w", firstLine(query), err)
	}
	w.stmts[query] = s
	return s, nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// exec runs a prepared statement; a background context keeps the driver
// from starting a goroutine per call.
func (w *Writer) exec(query string, args ...any) (driver.Result, error) {
	s, err := w.stmt(query)
	if err != nil {
		return nil, err
	}
	nv := make([]driver.NamedValue, len(args))
	for i, a := range args {
		nv[i] = driver.NamedValue{Ordinal: i + 1, Value: a}
	}
	return s.(driver.StmtExecContext).ExecContext(context.Background(), nv)
}

// queryInt returns the single integer a query yields, or 0 for no row.
func (w *Writer) queryInt(query string, args ...any) (int64, error) {
	s, err := w.stmt(query)
	if err != nil {
		return 0, err
	}
	nv := make([]driver.NamedValue, len(args))
	for i, a := range args {
		nv[i] = driver.NamedValue{Ordinal: i + 1, Value: a}
	}
	rows, err := s.(driver.StmtQueryContext).QueryContext(context.Background(), nv)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	dest := make([]driver.Value, len(rows.Columns()))
	if err := rows.Next(dest); err != nil {
		if errors.Is(err, io.EOF) {
			return 0, nil
		}
		return 0, err
	}
	v, _ := dest[0].(int64)
	return v, nil
}

// queryInts returns the first column of every row a query yields.
func (w *Writer) queryInts(query string) ([]int64, error) {
	s, err := w.stmt(query)
	if err != nil {
		return nil, err
	}
	rows, err := s.(driver.StmtQueryContext).QueryContext(context.Background(), nil)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	dest := make([]driver.Value, len(rows.Columns()))
	for {
		if err := rows.Next(dest); err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return nil, err
		}
		v, _ := dest[0].(int64)
		out = append(out, v)
	}
}

// idFor inserts a dictionary row unless present and returns its id.
func (w *Writer) idFor(insert, lookup string, key any, args ...any) (int64, error) {
	res, err := w.exec(insert, args...)
	if err != nil {
		return 0, err
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return res.LastInsertId()
	}
	return w.queryInt(lookup, key)
}

// Event type ids fixed by the first migration.
const (
	typeRejected = 2
	typeFailed   = 4
)

func (w *Writer) typeID(name string) (int64, error) {
	if id, ok := w.types[name]; ok {
		return id, nil
	}
	id, err := w.idFor(`INSERT OR IGNORE INTO event_types(name) VALUES (?)`, `SELECT id FROM event_types WHERE name = ?`, name, name)
	if err != nil {
		return 0, fmt.Errorf("store event type: %w", err)
	}
	w.types[name] = id
	return id, nil
}

func (w *Writer) domainID(name string) (int64, error) {
	if name == "" {
		return 0, nil
	}
	if id, ok := w.domains[name]; ok {
		return id, nil
	}
	id, err := w.idFor(`INSERT OR IGNORE INTO domains(name, rname) VALUES (?, ?)`,
		`SELECT id FROM domains WHERE name = ?`, name, name, Reverse(name))
	if err != nil {
		return 0, fmt.Errorf("store domain: %w", err)
	}
	w.domains[name] = id
	return id, nil
}

func (w *Writer) recipientID(addr string) (int64, error) {
	if addr == "" {
		return 0, nil
	}
	if id, ok := w.recips[addr]; ok {
		return id, nil
	}
	did, err := w.domainID(maildiag.DomainOf(addr))
	if err != nil {
		return 0, err
	}
	id, err := w.idFor(`INSERT OR IGNORE INTO recipients(address, domain_id) VALUES (?, ?)`,
		`SELECT id FROM recipients WHERE address = ?`, addr, addr, did)
	if err != nil {
		return 0, fmt.Errorf("store recipient: %w", err)
	}
	if len(w.recips) >= cacheLimit {
		clear(w.recips)
	}
	w.recips[addr] = id
	return id, nil
}

const insertEvent = `INSERT INTO events(ts, type_id, event_id, sending_domain_id, recipient_id,
	message_key, raw_block, raw_slot) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`

// findEvent finds an event stored before: the same recipient within a
// millisecond either side (Logs API times have milliseconds, Events API
// times microseconds), then the same Mailgun event id.
const findEvent = `SELECT event_id FROM events
	WHERE ts / 86400000000 IN (?1 / 86400000000, ?2 / 86400000000) AND recipient_id IS ?3 AND ts BETWEEN ?1 AND ?2`

const insertFailure = `INSERT INTO failures(id, ts, type_id, sending_domain_id, recipient_domain_id, provider,
	severity, reason, code, enhanced, reply, description, mx_host, attempt, retry_seconds, bounce_type,
	delayed_bounce, subject, from_addr) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// AddEvents stores the events not stored before and returns how many were new.
func (w *Writer) AddEvents(ctx context.Context, evs []maildiag.Event, importID int64) (int, error) {
	if err := w.begin(ctx); err != nil {
		return 0, err
	}
	if w.block.importID != importID {
		if err := w.flushBlock(false); err != nil {
			return 0, err
		}
		w.block.importID = importID
	}
	es, err := w.stmt(insertEvent)
	if err != nil {
		return 0, err
	}
	fs, err := w.stmt(insertFailure)
	if err != nil {
		return 0, err
	}
	find, err := w.stmt(findEvent)
	if err != nil {
		return 0, err
	}
	insEvent, insFailure, findQ := es.(driver.StmtExecContext), fs.(driver.StmtExecContext), find.(driver.StmtQueryContext)
	added := 0
	for i := range evs {
		ev := &evs[i]
		rcpt, err := w.recipientID(ev.Recipient)
		if err != nil {
			return added, err
		}
		seen, err := w.stored(findQ, rcpt, ev)
		if err != nil || seen {
			if err != nil {
				return added, err
			}
			continue
		}
		typ, err := w.typeID(ev.Type)
		if err != nil {
			return added, err
		}
		sd, err := w.domainID(ev.SendingDomain)
		if err != nil {
			return added, err
		}
		// Unset parameters bind as NULL, so only the values present are bound.
		a := w.args[:0]
		a = bindInt(a, 1, ev.TimeUS)
		a = bindInt(a, 2, typ)
		a = append(a, driver.NamedValue{Ordinal: 3, Value: ev.ID})
		a = bindInt(a, 4, sd)
		a = bindInt(a, 5, rcpt)
		a = bindInt(a, 6, MessageKey(ev.MessageID))
		a = append(a, driver.NamedValue{Ordinal: 7, Value: w.block.id}, driver.NamedValue{Ordinal: 8, Value: int64(len(w.block.records))})
		res, err := insEvent.ExecContext(context.Background(), a)
		if err != nil {
			return added, fmt.Errorf("store event %s: %w", ev.ID, err)
		}
		added++
		var rd int64
		if ev.RecipientDomain != "" {
			if rd, err = w.domainID(ev.RecipientDomain); err != nil {
				return added, err
			}
		}
		if typ == typeFailed || typ == typeRejected {
			id, _ := res.LastInsertId()
			a = w.args[:0]
			a = bindInt(a, 1, id)
			a = bindInt(a, 2, ev.TimeUS)
			a = bindInt(a, 3, typ)
			a = bindInt(a, 4, sd)
			a = bindInt(a, 5, rd)
			a = bindStr(a, 6, ev.Provider)
			a = bindStr(a, 7, ev.Severity)
			a = bindStr(a, 8, ev.Reason)
			a = bindInt(a, 9, int64(ev.Code))
			a = bindStr(a, 10, ev.EnhancedCode)
			a = bindStr(a, 11, ev.Reply)
			a = bindStr(a, 12, ev.Description)
			a = bindStr(a, 13, ev.MXHost)
			a = bindInt(a, 14, int64(ev.Attempt))
			a = bindInt(a, 15, int64(ev.RetrySeconds))
			a = bindStr(a, 16, ev.BounceType)
			if ev.DelayedBounce {
				a = bindInt(a, 17, 1)
			}
			a = bindStr(a, 18, ev.Subject)
			a = bindStr(a, 19, ev.From)
			if _, err := insFailure.ExecContext(context.Background(), a); err != nil {
				return added, fmt.Errorf("store failure %s: %w", ev.ID, err)
			}
		}
		w.block.add(ev.Raw)
		w.counts[countKey{maildiag.DayOf(ev.TimeUS), sd, rd, typ}]++
		if w.block.full() {
			if err := w.flushBlock(false); err != nil {
				return added, err
			}
		}
	}
	return added, nil
}

// stored tells whether the event is in the index already. Days that had no
// events when the writer started are checked against the events this writer
// stored (a hash set) and go to the index only on a hash match, so a first
// import does no lookups at all.
func (w *Writer) stored(q driver.StmtQueryContext, rcpt int64, ev *maildiag.Event) (bool, error) {
	if w.fresh != nil {
		lo, hi := maildiag.DayOf(ev.TimeUS-1000), maildiag.DayOf(ev.TimeUS+1000)
		_, oldLo := w.oldDays[lo]
		_, oldHi := w.oldDays[hi]
		if !oldLo && !oldHi {
			k := eventKey(ev)
			if _, ok := w.fresh[k]; !ok {
				w.fresh[k] = struct{}{}
				return false, nil
			}
		}
	}
	a := w.args[:0]
	a = append(a, driver.NamedValue{Ordinal: 1, Value: ev.TimeUS - 1000},
		driver.NamedValue{Ordinal: 2, Value: ev.TimeUS + 1000}, driver.NamedValue{Ordinal: 3, Value: nullID(rcpt)})
	rows, err := q.QueryContext(context.Background(), a)
	if err != nil {
		return false, fmt.Errorf("look up event %s: %w", ev.ID, err)
	}
	defer rows.Close()
	dest := w.dest[:1]
	for {
		if err := rows.Next(dest); err != nil {
			if errors.Is(err, io.EOF) {
				return false, nil
			}
			return false, fmt.Errorf("look up event %s: %w", ev.ID, err)
		}
		if id, _ := dest[0].(string); id == ev.ID {
			return true, nil
		}
	}
}

func bindInt(a []driver.NamedValue, ord int, v int64) []driver.NamedValue {
	if v == 0 {
		return a
	}
	return append(a, driver.NamedValue{Ordinal: ord, Value: v})
}

func bindStr(a []driver.NamedValue, ord int, v string) []driver.NamedValue {
	if v == "" {
		return a
	}
	return append(a, driver.NamedValue{Ordinal: ord, Value: v})
}

// flushBlock hands the current block to a compressor and starts the next;
// compressed blocks are inserted a little later, and all of them by the
// time the transaction commits (wait).
func (w *Writer) flushBlock(wait bool) error {
	if len(w.block.records) > 0 {
		b := w.block
		ch := make(chan encoded, 1)
		go func() {
			ch <- encoded{id: b.id, count: len(b.records), importID: b.importID, data: b.encode(w.enc, nil)}
		}()
		w.pending = append(w.pending, ch)
		w.block = rawBlock{id: b.id + 1, importID: b.importID}
	}
	keep := 2
	if wait {
		keep = 0
	}
	for len(w.pending) > keep {
		e := <-w.pending[0]
		w.pending = w.pending[1:]
		if _, err := w.exec(`INSERT INTO raw_blocks(id, codec, count, import_id, data) VALUES (?, ?, ?, ?, ?)`,
			e.id, codecZstd, int64(e.count), nullID(e.importID), e.data); err != nil {
			return fmt.Errorf("store raw block: %w", err)
		}
	}
	return nil
}

func (w *Writer) flushCounts() error {
	for k, n := range w.counts {
		if _, err := w.exec(`INSERT INTO event_counts(day, sending_domain_id, recipient_domain_id, type_id, n) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT DO UPDATE SET n = n + excluded.n`, k.day, k.sending, k.recipient, k.typ, n); err != nil {
			return fmt.Errorf("store counts: %w", err)
		}
	}
	clear(w.counts)
	return nil
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
	return int64(n)
}

func nullID(n int64) any {
	if n == 0 {
		return nil
	}
	return n
}

func tagsJSON(tags []string) any {
	if len(tags) == 0 {
		return nil
	}
	b, _ := json.Marshal(tags)
	return string(b)
}

// Reverse returns s reversed byte by byte: the domains.rname form.
func Reverse(s string) string {
	b := []byte(s)
	for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
	return string(b)
}
