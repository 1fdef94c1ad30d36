package index

import (
	"database/sql/driver"
	"fmt"
	"strings"
)

// batchRows is how many rows one INSERT statement carries: one statement per
// row costs about as much again as the row itself.
const batchRows = 32

// rowBatch builds multi-row INSERTs for one table. Values are added column
// by column; zero values are bound as NULL, except through always. Every
// parameter is bound, NULLs too: the driver binds a statement's values in
// one call into SQLite only when they are numbered without a gap, and one
// call per value otherwise.
//
// A statement of many rows that could abort half-way (a plain INSERT, an
// upsert, INSERT OR REPLACE) makes SQLite copy each page it changes to a
// statement journal first, a temporary file past 64 KiB, so that the
// statement can be undone alone. The writer abandons the whole transaction
// on any error instead, so plain inserts are INSERT OR FAIL, which needs no
// journal on a WITHOUT ROWID table (1M transactional events: 14 GB of 64
// KiB page copies through temporary files; an INTEGER PRIMARY KEY keeps the
// journal whatever the clause, migration 0012), and upserts carry more rows
// a statement: the journal holds each page once a statement.
type rowBatch struct {
	verb    string // INSERT, INSERT OR IGNORE, ...
	table   string
	columns []string
	suffix  string // e.g. an ON CONFLICT clause
	vals    []driver.NamedValue
	rows    int
	col     int
	max     int // rows a statement
	sql     map[int]string
}

// upsertRows is how many rows an upsert statement carries.
const upsertRows = 1024

func newRowBatch(verb, table string, columns []string, suffix string) rowBatch {
	n := batchRows
	if suffix != "" || verb == "INSERT OR REPLACE" {
		n = upsertRows
	}
	return rowBatch{verb: verb, table: table, columns: columns, suffix: suffix, max: n, sql: map[int]string{}}
}

func (b *rowBatch) bind(v any) {
	b.vals = append(b.vals, driver.NamedValue{Ordinal: b.rows*len(b.columns) + b.col + 1, Value: v})
	b.col++
}

// int adds an integer column, NULL when 0.
func (b *rowBatch) int(v int64) {
	if v == 0 {
		b.bind(nil)
		return
	}
	b.bind(v)
}

// always adds an integer column, 0 included.
func (b *rowBatch) always(v int64) { b.bind(v) }

// str adds a text column, NULL when empty.
func (b *rowBatch) str(v string) {
	if v == "" {
		b.bind(nil)
		return
	}
	b.bind(v)
}

// text adds a text column, ” included.
func (b *rowBatch) text(v string) { b.bind(v) }

func (b *rowBatch) reset() {
	b.vals, b.rows, b.col = b.vals[:0], 0, 0
}

// insert returns the statement for n rows.
func (b *rowBatch) insert(n int) string {
	if s, ok := b.sql[n]; ok {
		return s
	}
	row := "(?" + strings.Repeat(", ?", len(b.columns)-1) + ")"
	s := b.verb + " INTO " + b.table + "(" + strings.Join(b.columns, ", ") + ") VALUES " +
		row + strings.Repeat(", "+row, n-1) + " " + b.suffix
	b.sql[n] = s
	return s
}

// end closes the row being added and inserts the batch when it is full.
func (b *rowBatch) end(w *Writer) error {
	if b.col != len(b.columns) {
		panic(fmt.Sprintf("index: %s row has %d of %d columns", b.table, b.col, len(b.columns)))
	}
	b.rows++
	b.col = 0
	if b.rows == b.max {
		return b.flush(w)
	}
	return nil
}

// flush inserts the rows waiting in the batch.
func (b *rowBatch) flush(w *Writer) error {
	if b.rows == 0 {
		return nil
	}
	err := w.insertArgs(b.insert(b.rows), b.vals)
	b.reset()
	if err != nil {
		return fmt.Errorf("store %s: %w", b.table, err)
	}
	return nil
}
