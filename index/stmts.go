package index

import (
	"context"
	"database/sql"
	"sync"
)

// Read statements are prepared once and kept: the server asks the same
// few dozen questions thousands of times, and SQLite parsed and planned
// each again (7% of its CPU under the API bench). database/sql prepares a
// kept statement again on each pooled connection it runs on, once.

// maxStmts bounds the statements kept: texts with IN lists of varying
// length are many, and each holds a prepared statement per connection.
const maxStmts = 256

type stmtCache struct {
	mu    sync.Mutex
	stmts map[string]*sql.Stmt
}

// stmt returns the kept statement of query, preparing it the first time;
// nil when it cannot be prepared (the caller then runs the query as is,
// and gets the error from there).
func (db *DB) stmt(ctx context.Context, query string) *sql.Stmt {
	c := &db.stmtCache
	c.mu.Lock()
	s := c.stmts[query]
	c.mu.Unlock()
	if s != nil {
		return s
	}
	s, err := db.sql.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old := c.stmts[query]; old != nil {
		s.Close()
		return old
	}
	if c.stmts == nil {
		c.stmts = map[string]*sql.Stmt{}
	}
	for q, old := range c.stmts {
		if len(c.stmts) < maxStmts {
			break
		}
		// Closed once the rows reading it are: database/sql counts them.
		old.Close()
		delete(c.stmts, q)
	}
	c.stmts[query] = s
	return s
}

// query runs a read query through its kept statement.
func (db *DB) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if s := db.stmt(ctx, query); s != nil {
		return s.QueryContext(ctx, args...)
	}
	return db.sql.QueryContext(ctx, query, args...)
}

// queryRow runs a one-row read query through its kept statement.
func (db *DB) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	if s := db.stmt(ctx, query); s != nil {
		return s.QueryRowContext(ctx, args...)
	}
	return db.sql.QueryRowContext(ctx, query, args...)
}

// closeStmts closes the kept statements.
func (db *DB) closeStmts() {
	c := &db.stmtCache
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, s := range c.stmts {
		s.Close()
		delete(c.stmts, q)
	}
}
