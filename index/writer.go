package index

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	sqlite3 "github.com/mattn/go-sqlite3"
)

// Writer stores events, suppression entries and rejects. It owns one
// connection and works in explicit transactions: what Commit returns from is
// durable and consistent (events with their raw JSON, counts, synced
// ranges, audit entries), so an interrupted run loses only the
// transaction in flight and a re-run stores nothing twice. One goroutine at
// a time may use it.
//
// Rows are collected in memory and inserted in chunks into the open
// transaction, on a goroutine of the writer's own, each table's rows sorted
// by its key: SQLite inserts keys in order several times faster than
// scattered ones (chunk.go).
type Writer struct {
	db   *DB
	conn *sqlite3.SQLiteConn
	// mu is held for each statement while a transaction collects rows:
	// the flusher inserts a chunk of them while the writer goes on
	// (chunk.go). BEGIN, COMMIT and ROLLBACK run with no chunk in flight.
	mu    sync.Mutex
	inTx  bool
	stmts map[string]driver.Stmt

	dict   dictionary
	texts  textDict
	tx     txRows
	blocks blockWriter
	dedup  dedup
	flight inFlight
	chunks chunker

	dataVersion int64
	others      bool // another connection has written since this writer started

	args []driver.NamedValue
	// spare holds PrepareEvents' slices once their events are stored, for
	// the next batches: they were 5% of what a 10M-event import allocated.
	spare freeList[[]preparedEvent]
	// gcCycles is the count of collections when the transaction began
	// (relieve): collections while no transaction was open are not its.
	gcCycles uint64

	importLock *os.File // holds the locks of this writer's imports (importlock.go)
	ckpt       *checkpointer
}

// NewWriter opens the index's writing connection.
func (db *DB) NewWriter(ctx context.Context) (*Writer, error) {
	// One goroutine at a time uses the writer: SQLite's own locking of the
	// connection on every call is not needed.
	c, err := openConn(db.dsn + "&_mutex=no")
	if err != nil {
		return nil, fmt.Errorf("open index for writing: %w", err)
	}
	if _, err := c.Exec(fmt.Sprintf("PRAGMA wal_autocheckpoint = %d", walAutoCheckpoint), nil); err != nil {
		c.Close()
		return nil, fmt.Errorf("open index for writing: %w", err)
	}
	k, err := newCheckpointer(db.dsn)
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("open index for writing: %w", err)
	}
	w := &Writer{db: db, conn: c, ckpt: k, stmts: map[string]driver.Stmt{}, spare: make(freeList[[]preparedEvent], 8)}
	w.dict.init()
	w.texts.init()
	w.tx.init()
	w.blocks.init()
	w.flight.init()
	w.chunks.min = chunkRows
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
	w.blocks.close()
	if w.importLock != nil {
		w.importLock.Close() // releases the imports' locks
	}
	var kerr error
	if w.ckpt != nil {
		kerr, w.ckpt = w.ckpt.close(), nil
	}
	if err := w.conn.Close(); err != nil {
		return err
	}
	return kerr
}

func (w *Writer) rollback() {
	w.chunks.wait() // its error is the transaction's, which goes
	w.blocks.abandon()
	w.conn.Exec("ROLLBACK", nil)
	w.inTx = false
	// Ids handed out in the rolled-back transaction are gone, and so are
	// the rows collected for it.
	w.dict.forget()
	w.texts.forget()
	w.tx.reset()
	w.chunks.c.clear()
	w.dedup.forgetTx()
	w.flight.forget()
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
	_, w.gcCycles = gcStats()
	if err := w.start(); err != nil {
		w.rollback()
		return err
	}
	return nil
}

// start reads, at the beginning of a transaction, what the writer's caches
// need, and drops them when another connection wrote since the last one.
func (w *Writer) start() error {
	v, err := w.queryInt("PRAGMA data_version")
	if err != nil {
		return err
	}
	if w.dataVersion != 0 && v != w.dataVersion {
		w.others = true
		w.dict.forget()
		w.texts.forget()
		w.flight.forget()
	}
	w.dataVersion = v
	if err := w.dict.load(w); err != nil {
		return err
	}
	if err := w.texts.load(w); err != nil {
		return err
	}
	if err := w.dedup.load(w); err != nil {
		return err
	}
	if err := w.blocks.start(w); err != nil {
		return err
	}
	return w.flight.load(w)
}

// Commit makes everything written since the last Commit durable.
func (w *Writer) Commit(ctx context.Context) error {
	if !w.inTx {
		return nil
	}
	events := len(w.tx.keys)
	if err := w.flush(); err != nil {
		w.rollback()
		return err
	}
	if _, err := w.conn.Exec("COMMIT", nil); err != nil {
		w.rollback()
		return fmt.Errorf("commit: %w", err)
	}
	w.inTx = false
	w.ckpt.committed()
	w.dict.committed()
	w.texts.committed()
	w.dedup.committed()
	w.flight.committed()
	v, err := w.queryInt("PRAGMA data_version")
	if err != nil {
		return err
	}
	w.dataVersion = v
	w.relieve(events)
	return nil
}

// flush inserts everything collected for the transaction.
func (w *Writer) flush() error {
	if err := w.blocks.finish(w); err != nil {
		return err
	}
	if err := w.tx.flush(w); err != nil {
		return err
	}
	if err := w.flight.flush(w); err != nil {
		return err
	}
	if err := w.dict.flushAttrs(w); err != nil {
		return err
	}
	return w.dict.settleRecent(w)
}

// Rollback abandons everything written since the last Commit.
func (w *Writer) Rollback() {
	if w.inTx {
		w.rollback()
	}
}

// stmt returns the prepared statement of query; w.mu is held.
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

// execLocked runs a prepared statement with values already numbered; w.mu
// is held. A background context keeps the driver from starting a goroutine
// per call.
func (w *Writer) execLocked(query string, args []driver.NamedValue) (driver.Result, error) {
	s, err := w.stmt(query)
	if err != nil {
		return nil, err
	}
	return s.(driver.StmtExecContext).ExecContext(context.Background(), args)
}

// insertArgs runs a prepared statement whose result is not needed. It goes
// through the driver's query path, which binds every value and steps in one
// call into SQLite; its exec path makes one call per value, and a bulk
// import binds millions.
func (w *Writer) insertArgs(query string, args []driver.NamedValue) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	s, err := w.stmt(query)
	if err != nil {
		return err
	}
	rows, err := s.(driver.StmtQueryContext).QueryContext(context.Background(), args)
	if err != nil {
		return err
	}
	// The driver steps at once; Next would step a driver that does not.
	if err := rows.Next(nil); err != nil && !errors.Is(err, io.EOF) {
		rows.Close()
		return err
	}
	return rows.Close()
}

// exec runs a prepared statement with positional values.
func (w *Writer) exec(query string, args ...any) (driver.Result, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.execLocked(query, w.numbered(args))
}

func (w *Writer) numbered(args []any) []driver.NamedValue {
	nv := w.args[:0]
	for i, a := range args {
		nv = append(nv, driver.NamedValue{Ordinal: i + 1, Value: a})
	}
	w.args = nv[:0]
	return nv
}

// query runs a prepared query; the caller holds w.mu and closes the rows.
func (w *Writer) query(query string, args ...any) (driver.Rows, error) {
	s, err := w.stmt(query)
	if err != nil {
		return nil, err
	}
	return s.(driver.StmtQueryContext).QueryContext(context.Background(), w.numbered(args))
}

// each calls fn with every row a query yields; fn must not use the writer.
func (w *Writer) each(query string, args []any, fn func(row []driver.Value) error) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	rows, err := w.query(query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	dest := make([]driver.Value, len(rows.Columns()))
	for {
		if err := rows.Next(dest); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		if err := fn(dest); err != nil {
			return err
		}
	}
}

// findByKey returns the id a key table (keys: a query of id and hash2 by
// hash) holds for a string with hashes h and h2: the row whose hash2 is h2,
// or, among rows stored without one, the row whose string same confirms.
// 0: none.
func (w *Writer) findByKey(keys string, h, h2 int64, same func(id int64) (bool, error)) (int64, error) {
	var id int64
	var unchecked []int64
	err := w.each(keys, []any{h}, func(r []driver.Value) error {
		if c, ok := r[1].(int64); !ok {
			unchecked = append(unchecked, r[0].(int64))
		} else if c == h2 {
			id = r[0].(int64)
		}
		return nil
	})
	if err != nil || id != 0 {
		return id, err
	}
	for _, c := range unchecked {
		ok, err := same(c)
		if err != nil {
			return 0, err
		}
		if ok {
			return c, nil
		}
	}
	return 0, nil
}

// queryInt returns the single integer a query yields, or 0 for no row or NULL.
func (w *Writer) queryInt(query string, args ...any) (int64, error) {
	return queryOne[int64](w, query, args...)
}

// queryOne returns the single value a query yields, or T's zero value for
// no row, NULL or another type.
func queryOne[T any](w *Writer, query string, args ...any) (T, error) {
	var v T
	err := w.each(query, args, func(row []driver.Value) error {
		v, _ = row[0].(T)
		return io.EOF
	})
	if errors.Is(err, io.EOF) {
		err = nil
	}
	return v, err
}
