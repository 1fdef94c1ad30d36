package pg

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/maildiag/maildiag"
)

// importLockClass is the first key of the advisory lock a writer's session
// holds on each import it runs (the second is the import's id): an import
// recorded as running whose lock nobody holds was interrupted.
const importLockClass = 0x6d64 // "md"

// StartImport records an import as running, committed at once so that
// status shows it while it runs.
func (w *Writer) StartImport(ctx context.Context, source string) (*maildiag.Import, error) {
	imp := &maildiag.Import{Source: source, Status: maildiag.ImportRunning, StartedUS: time.Now().UnixMicro()}
	if err := w.begin(ctx); err != nil {
		return nil, err
	}
	if err := w.tx.QueryRow(ctx, `INSERT INTO imports(source, started_at, status) VALUES ($1, $2, $3) RETURNING id`,
		source, imp.StartedUS, imp.Status).Scan(&imp.ID); err != nil {
		return nil, fmt.Errorf("record import: %w", mayNotWrite(err))
	}
	// Session-level: held until this writer's connection closes.
	if _, err := w.tx.Exec(ctx, `SELECT pg_advisory_lock($1, $2)`, int32(importLockClass), int32(imp.ID)); err != nil {
		return nil, fmt.Errorf("record import: %w", err)
	}
	return imp, w.Commit(ctx)
}

// mayNotWrite adds to a permission error what to do about it.
func mayNotWrite(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "42501" { // insufficient_privilege
		return fmt.Errorf("%w: this role may not write to the index; the commands that write (import, sync, copy, suppressions, resend, reclassify) need a member of the writer role (see maildiag migrate --help)", err)
	}
	return err
}

// SaveImport records an import's counts and status in the open
// transaction: they commit with what they count.
func (w *Writer) SaveImport(ctx context.Context, imp *maildiag.Import) error {
	if err := w.begin(ctx); err != nil {
		return err
	}
	var shapes any
	if len(imp.Shapes) > 0 {
		b, _ := json.Marshal(imp.Shapes)
		shapes = string(b)
	}
	_, err := w.tx.Exec(ctx, `UPDATE imports SET sha256 = $1, bytes = $2, gzip = $3, shapes = $4, finished_at = $5, status = $6,
		error = $7, events_read = $8, events_new = $9, suppressions_read = $10, suppressions_new = $11, rejects = $12 WHERE id = $13`,
		nullStr(imp.SHA256), imp.Bytes, imp.Gzip, shapes, nullID(imp.FinishedUS), imp.Status, nullStr(imp.Error),
		int64(imp.EventsRead), int64(imp.EventsNew), int64(imp.SuppressionsRead), int64(imp.SuppressionsNew), int64(imp.Rejects), imp.ID)
	if err != nil {
		return fmt.Errorf("record import: %w", err)
	}
	return nil
}

// interruptedError is the error shown for an import whose process ended
// before it finished.
const interruptedError = "its process ended before it finished; what it committed stays"

// Imports lists the most recent imports, newest first; one recorded as
// running whose writer's session has ended is reported interrupted.
func (db *DB) Imports(ctx context.Context, limit int) ([]maildiag.Import, error) {
	rows, err := db.pool.Query(ctx, `
		SELECT id, source, COALESCE(sha256, ''), COALESCE(bytes, 0), gzip, COALESCE(shapes, ''),
			CASE WHEN status = 'running' AND NOT EXISTS (
				SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory' AND l.classid = $2::oid AND l.objid = i.id::oid
					AND l.objsubid = 2 AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
			) THEN 'interrupted' ELSE status END,
			COALESCE(error, ''), started_at, COALESCE(finished_at, 0), events_read, events_new,
			suppressions_read, suppressions_new, rejects
		FROM imports i ORDER BY id DESC LIMIT $1`, limit, int32(importLockClass))
	if err != nil {
		return nil, fmt.Errorf("list imports: %w", err)
	}
	out := []maildiag.Import{}
	for rows.Next() {
		var im maildiag.Import
		var shapes string
		if err := rows.Scan(&im.ID, &im.Source, &im.SHA256, &im.Bytes, &im.Gzip, &shapes, &im.Status, &im.Error,
			&im.StartedUS, &im.FinishedUS, &im.EventsRead, &im.EventsNew, &im.SuppressionsRead, &im.SuppressionsNew, &im.Rejects); err != nil {
			return nil, fmt.Errorf("list imports: %w", err)
		}
		if shapes != "" {
			json.Unmarshal([]byte(shapes), &im.Shapes)
		}
		if im.Status == maildiag.ImportInterrupted && im.Error == "" {
			im.Error = interruptedError
		}
		out = append(out, im)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list imports: %w", err)
	}
	return out, nil
}

// collect reads every row of a query with scan.
func collect[T any](ctx context.Context, db *DB, what, q string, args []any, scan func(*T) []any) ([]T, error) {
	rows, err := db.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (T, error) {
		var v T
		return v, r.Scan(scan(&v)...)
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if out == nil {
		out = []T{}
	}
	return out, nil
}
