package index

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/klauspost/compress/zstd"
	sqlite3 "github.com/mattn/go-sqlite3"
)

// Writer stores events, suppression entries and rejects. It owns one
// connection and works in explicit transactions: what Commit returns from is
// durable and consistent (events with their raw JSON, counts and whatever
// the caller wrote with Exec), so an interrupted run loses only the batch in
// flight and a re-run stores nothing twice. One goroutine at a time may use it.
type Writer struct {
	db    *DB
	conn  *sqlite3.SQLiteConn
	inTx  bool
	stmts map[string]driver.Stmt

	types   map[string]int64
	domains map[string]int64
	recips  map[string]int64

	// recipsComplete: every recipient in the index is in recips, so an
	// address missing there is new. recipsTried: the preload was attempted.
	recipsComplete, recipsTried bool
	nextRecipient               int64
	newRecips                   rowBatch

	nextID   int64 // id of the next event stored
	events   rowBatch
	failures rowBatch
	counts   map[countKey]int64

	block   rawBlock
	enc     *zstd.Encoder
	pending []chan encoded

	// oldDays are the UTC days that had events when the writer started;
	// fresh holds the keys of the events stored since on the other days.
	// fresh is nil once another connection has written: then every event
	// is looked up in the index.
	oldDays     map[int64]struct{}
	fresh       map[uint64]struct{}
	dataVersion int64

	args []driver.NamedValue
	dest []driver.Value
}

// cacheLimit bounds the recipient cache; past it the cache restarts empty
// and misses go to the index.
const cacheLimit = 1 << 21

// NewWriter opens the index's writing connection.
func (db *DB) NewWriter(ctx context.Context) (*Writer, error) {
	// One goroutine at a time uses the writer: SQLite's own locking of the
	// connection on every call is not needed.
	c, err := openConn(db.dsn + "&_mutex=no")
	if err != nil {
		return nil, fmt.Errorf("open index for writing: %w", err)
	}
	// A transaction's dirty pages stay in memory until it commits.
	if _, err := c.Exec("PRAGMA cache_size = -1048576", nil); err != nil {
		c.Close()
		return nil, fmt.Errorf("open index for writing: %w", err)
	}
	return &Writer{
		db:        db,
		conn:      c,
		stmts:     map[string]driver.Stmt{},
		types:     map[string]int64{},
		domains:   map[string]int64{},
		recips:    map[string]int64{},
		counts:    map[countKey]int64{},
		events:    rowBatch{table: "events", columns: eventColumns},
		newRecips: rowBatch{table: "recipients", columns: []string{"id", "domain_id", "address"}},
		failures:  rowBatch{table: "failures", columns: failureColumns},
		enc:       newEncoder(),
		args:      make([]driver.NamedValue, 0, 20),
		dest:      make([]driver.Value, 4),
	}, nil
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
	clear(w.types)
	clear(w.domains)
	clear(w.recips)
	w.recipsComplete = false
	clear(w.counts)
	w.newRecips.reset()
	w.events.reset()
	w.failures.reset()
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
	next, err := w.queryInt("SELECT COALESCE(MAX(id), 0) + 1 FROM events")
	if err != nil {
		w.rollback()
		return err
	}
	w.nextID = next
	w.block = rawBlock{firstID: next, importID: w.block.importID}
	if err := w.loadRecipients(); err != nil {
		w.rollback()
		return err
	}
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
		// Recipients another writer added are not in the cache.
		clear(w.recips)
		w.recipsComplete = false
	}
	w.dataVersion = v
	return nil
}

// Commit makes everything written since the last Commit durable.
func (w *Writer) Commit(ctx context.Context) error {
	if !w.inTx {
		return nil
	}
	err := w.flushRows()
	if err == nil {
		err = w.flushBlock(true)
	}
	if err == nil {
		err = w.flushCounts()
	}
	if err != nil {
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

// execArgs runs a prepared statement with values already numbered; a
// background context keeps the driver from starting a goroutine per call.
func (w *Writer) execArgs(query string, args []driver.NamedValue) (driver.Result, error) {
	s, err := w.stmt(query)
	if err != nil {
		return nil, err
	}
	return s.(driver.StmtExecContext).ExecContext(context.Background(), args)
}

// exec runs a prepared statement with positional values.
func (w *Writer) exec(query string, args ...any) (driver.Result, error) {
	return w.execArgs(query, numbered(args))
}

func numbered(args []any) []driver.NamedValue {
	nv := make([]driver.NamedValue, len(args))
	for i, a := range args {
		nv[i] = driver.NamedValue{Ordinal: i + 1, Value: a}
	}
	return nv
}

// query runs a prepared query; the caller closes the rows.
func (w *Writer) query(query string, args []driver.NamedValue) (driver.Rows, error) {
	s, err := w.stmt(query)
	if err != nil {
		return nil, err
	}
	return s.(driver.StmtQueryContext).QueryContext(context.Background(), args)
}

// queryInt returns the single integer a query yields, or 0 for no row.
func (w *Writer) queryInt(query string, args ...any) (int64, error) {
	vs, err := w.queryInts(query, args...)
	if err != nil || len(vs) == 0 {
		return 0, err
	}
	return vs[0], nil
}

// queryInts returns the first column of every row a query yields.
func (w *Writer) queryInts(query string, args ...any) ([]int64, error) {
	rows, err := w.query(query, numbered(args))
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
