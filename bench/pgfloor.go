package main

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// copyFloor times the least work any import of the events in src must do
// on this server: the rows that import stored, copied with COPY (the
// server's fastest way in) into a fresh index dst of the same schema, with
// its indexes, trigger and partitions, in one transaction; no parsing,
// staging, merging, deduplication or rollups. It returns that time, and
// each table's part of it.
func (c *pgCluster) copyFloor(maildiag, src, dst, tmp string) (time.Duration, []floorPart, error) {
	ctx := context.Background()
	c.exec(`DROP DATABASE IF EXISTS ` + dst)
	if err := c.exec(`CREATE DATABASE ` + dst); err != nil {
		return 0, nil, err
	}
	defer c.exec(`DROP DATABASE IF EXISTS ` + dst)
	if out, err := exec.Command(maildiag, "migrate", "--db", c.dbURL(dst)).CombinedOutput(); err != nil {
		return 0, nil, fmt.Errorf("migrate %s: %v: %s", dst, err, lastLines(string(out), 3))
	}
	from, err := pgx.Connect(ctx, c.dbURL(src))
	if err != nil {
		return 0, nil, err
	}
	defer from.Close(ctx)
	to, err := pgx.Connect(ctx, c.dbURL(dst))
	if err != nil {
		return 0, nil, err
	}
	defer to.Close(ctx)

	// Every table but the bookkeeping, with its columns but the generated
	// ones (COPY cannot write those).
	rows, err := from.Query(ctx, `
		SELECT c.relname, string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum)
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
		WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
			AND c.relname NOT IN ('schema_migrations', 'meta', 'imports')
		GROUP BY c.relname ORDER BY c.relname`)
	if err != nil {
		return 0, nil, err
	}
	type table struct {
		name, cols, file string
		rows             int64
	}
	tables, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (table, error) {
		var t table
		return t, r.Scan(&t.name, &t.cols)
	})
	if err != nil {
		return 0, nil, err
	}
	var full []table
	for _, t := range tables {
		f, err := os.CreateTemp(tmp, "floor-*.copy")
		if err != nil {
			return 0, nil, err
		}
		t.file = f.Name()
		defer os.Remove(t.file)
		tag, err := from.PgConn().CopyTo(ctx, f, fmt.Sprintf(`COPY (SELECT %s FROM %s) TO STDOUT (FORMAT binary)`, t.cols, t.name))
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return 0, nil, fmt.Errorf("copy %s out: %w", t.name, err)
		}
		if t.rows = tag.RowsAffected(); t.rows > 0 {
			full = append(full, t)
		}
	}
	var days []int32
	if err := from.QueryRow(ctx, `SELECT COALESCE(array_agg(DISTINCT day), '{}') FROM (SELECT day FROM events UNION SELECT day FROM failures) d`).Scan(&days); err != nil {
		return 0, nil, err
	}
	if _, err := to.Exec(ctx, `SELECT maildiag_partitions($1)`, days); err != nil {
		return 0, nil, err
	}
	// Rows the migrations put in (event types) are replaced, not doubled.
	names := make([]string, len(full))
	for i, t := range full {
		names[i] = t.name
	}
	if _, err := to.Exec(ctx, `TRUNCATE `+strings.Join(names, ", ")); err != nil {
		return 0, nil, err
	}

	start := time.Now()
	tx, err := to.Begin(ctx)
	if err != nil {
		return 0, nil, err
	}
	defer tx.Rollback(ctx)
	parts := make([]floorPart, 0, len(full)+1)
	for _, t := range full {
		at := time.Now()
		f, err := os.Open(t.file)
		if err != nil {
			return 0, nil, err
		}
		_, err = tx.Conn().PgConn().CopyFrom(ctx, f, fmt.Sprintf(`COPY %s (%s) FROM STDIN (FORMAT binary)`, t.name, t.cols))
		f.Close()
		if err != nil {
			return 0, nil, fmt.Errorf("copy %s in: %w", t.name, err)
		}
		parts = append(parts, floorPart{t.name, t.rows, time.Since(at)})
	}
	at := time.Now()
	if err := tx.Commit(ctx); err != nil {
		return 0, nil, err
	}
	parts = append(parts, floorPart{"(commit)", 0, time.Since(at)})
	slices.SortFunc(parts, func(a, b floorPart) int { return cmp.Compare(b.took, a.took) })
	return time.Since(start), parts, nil
}

// floorPart is one table's COPY in copyFloor.
type floorPart struct {
	table string
	rows  int64
	took  time.Duration
}
