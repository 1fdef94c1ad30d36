package index

import (
	"context"
	"database/sql"
	"fmt"
)

// Rows is the result of a read-only query, read row by row.
type Rows struct {
	Columns []string
	rows    *sql.Rows
	vals    []any
}

// Query runs SQL on a read-only index (see OpenReadOnly): any statement
// that would change it is refused by SQLite itself.
func (db *DB) Query(ctx context.Context, query string, args ...any) (*Rows, error) {
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
