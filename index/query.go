package index

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// Rows is the result of a read-only query, read row by row.
type Rows struct {
	Columns []string
	rows    *sql.Rows
	vals    []any
}

// ErrManyStatements is returned by Query for SQL holding more than one
// statement: the driver would run them all and return the last one's rows.
var ErrManyStatements = errors.New("more than one SQL statement")

// Query runs one SQL statement on a read-only index (see OpenReadOnly):
// any statement that would change it is refused by SQLite itself, and SQL
// with a second statement is refused (ErrManyStatements) before it runs.
func (db *DB) Query(ctx context.Context, query string, args ...any) (*Rows, error) {
	query, second := firstStatement(query)
	if second >= 0 {
		return nil, fmt.Errorf("%w: the second starts at byte %d", ErrManyStatements, second)
	}
	rows, err := db.sql.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	cols, err := rows.Columns()
	if err != nil {
		rows.Close()
		return nil, err
	}
	return &Rows{Columns: cols, rows: rows, vals: make([]any, len(cols))}, nil
}

// Next returns the next row, or nil at the end; text comes back as string.
func (r *Rows) Next() ([]any, error) {
	if !r.rows.Next() {
		return nil, r.rows.Err()
	}
	ptrs := make([]any, len(r.vals))
	for i := range r.vals {
		ptrs[i] = &r.vals[i]
	}
	if err := r.rows.Scan(ptrs...); err != nil {
		return nil, fmt.Errorf("read row: %w", err)
	}
	out := make([]any, len(r.vals))
	for i, v := range r.vals {
		if b, ok := v.([]byte); ok {
			v = string(b)
		}
		out[i] = v
	}
	return out, nil
}

// Close releases the rows.
func (r *Rows) Close() error { return r.rows.Close() }

// firstStatement splits query after its first statement: what follows the
// first semicolon outside quotes ('text', "name", `name`, [name]) and
// comments (-- and /* */) must be only space, semicolons and comments, or
// second is where another statement starts (-1 when none does). The driver
// would run a trailing comment as a statement of its own, and return its
// (no) rows: first leaves it out.
func firstStatement(query string) (first string, second int) {
	end := -1 // the first statement's semicolon
	for i := 0; i < len(query); i++ {
		c := query[i]
		var closer string
		switch {
		case c == '\'' || c == '"' || c == '`':
			closer = string(c)
		case c == '[':
			closer = "]"
		case c == '-' && strings.HasPrefix(query[i:], "--"):
			closer = "\n"
		case c == '/' && strings.HasPrefix(query[i:], "/*"):
			closer = "*/"
			i++ // "/*/" does not close itself
		case c == ';':
			if end < 0 {
				end = i
			}
			continue
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			continue
		}
		if end >= 0 && closer != "\n" && closer != "*/" {
			return query[:end+1], i
		}
		if closer == "" {
			continue
		}
		// A doubled quote inside a quoted text is the quote itself: skipping
		// to the next closer and on from there reads it as two texts, alike.
		j := strings.Index(query[i+1:], closer)
		if j < 0 {
			break // unterminated: SQLite says what is wrong with it
		}
		i += j + len(closer)
	}
	if end >= 0 {
		return query[:end+1], -1
	}
	return query, -1
}
