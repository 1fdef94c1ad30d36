package pg

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
)

// ErrManyStatements is returned by Query for SQL holding more than one
// statement, which the server refuses to run as one query.
var ErrManyStatements = errors.New("more than one SQL statement")

// Rows is the result of a read-only query, read row by row.
type Rows struct {
	Columns []string
	rows    pgx.Rows
	tx      pgx.Tx
	first   bool // the first row is read, not yet returned
	done    bool
}

// Query runs one SQL statement in a read-only transaction: the server
// refuses any statement that would change the index (and a role made by
// CreateRoles for readers has no right to but SELECT).
func (db *DB) Query(ctx context.Context, query string, args ...any) (*Rows, error) {
	tx, err := db.pool.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, redactErr(err, db.url)
	}
	rows, err := tx.Query(ctx, query, args...)
	if err == nil {
		// Errors of the statement come with its first row.
		if rows.Next() {
			return &Rows{Columns: columns(rows), rows: rows, tx: tx, first: true}, nil
		}
		err = rows.Err()
		if err == nil {
			cols := columns(rows)
			rows.Close()
			return &Rows{Columns: cols, rows: rows, tx: tx, done: true}, nil
		}
	}
	tx.Rollback(context.Background())
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "42601" && strings.Contains(pe.Message, "multiple commands") {
		return nil, ErrManyStatements
	}
	return nil, err
}

func columns(rows pgx.Rows) []string {
	fds := rows.FieldDescriptions()
	cols := make([]string, len(fds))
	for i, f := range fds {
		cols[i] = f.Name
	}
	return cols
}

// Next returns the next row, or nil at the end: integers as int64, numbers
// with a fraction as float64, text and bytea as string, like the SQLite
// index's rows.
func (r *Rows) Next() ([]any, error) {
	if r.done {
		return nil, nil
	}
	if !r.first && !r.rows.Next() {
		r.done = true
		return nil, r.rows.Err()
	}
	r.first = false
	vals, err := r.rows.Values()
	if err != nil {
		return nil, fmt.Errorf("read row: %w", err)
	}
	for i, v := range vals {
		vals[i] = plain(v)
	}
	return vals, nil
}

// plain converts a value pgx decodes to one the output formats print.
func plain(v any) any {
	switch x := v.(type) {
	case []byte:
		return string(x)
	case int16:
		return int64(x)
	case int32:
		return int64(x)
	case float32:
		return float64(x)
	case pgtype.Numeric:
		if i, err := x.Int64Value(); err == nil && i.Valid && x.Exp >= 0 {
			return i.Int64
		}
		if f, err := x.Float64Value(); err == nil && f.Valid {
			return f.Float64
		}
		return nil
	}
	return v
}

// Close releases the rows and ends the read-only transaction.
func (r *Rows) Close() error {
	r.rows.Close()
	return r.tx.Rollback(context.Background())
}
