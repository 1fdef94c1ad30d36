package pg

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Partition is one month of events (and of their failure details).
type Partition struct {
	Month   string `json:"month"`            // YYYY-MM
	Events  string `json:"events"`           // its events partition, events_YYYY_MM
	FromDay int32  `json:"-"`                // the month's first UTC day number
	ToDay   int32  `json:"-"`                // the next month's
	Rows    int64  `json:"events_estimated"` // the planner's estimate: counting would read the month
	Bytes   int64  `json:"bytes"`            // events and failures, with indexes and TOAST
}

// Partitions lists the monthly partitions of events, oldest first.
func (db *DB) Partitions(ctx context.Context) ([]Partition, error) {
	return collect(ctx, db, "list partitions", `
		SELECT substr(c.relname, 8, 4) || '-' || substr(c.relname, 13, 2), c.relname,
			GREATEST(c.reltuples, 0)::bigint,
			pg_total_relation_size(c.oid) + COALESCE(pg_total_relation_size(to_regclass('failures' || substr(c.relname, 7))), 0)
		FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = 'events'::regclass AND c.relname ~ '^events_[0-9]{4}_[0-9]{2}$'
		ORDER BY c.relname`, nil,
		func(p *Partition) []any { return []any{&p.Month, &p.Events, &p.Rows, &p.Bytes} })
}

// Expired is the partitions wholly before the first day of the month
// keep-1 months before now's: keep 1 keeps the current month only.
func Expired(parts []Partition, keep int, now time.Time) ([]Partition, time.Time) {
	now = now.UTC()
	cut := time.Date(now.Year(), now.Month()-time.Month(keep-1), 1, 0, 0, 0, 0, time.UTC)
	var out []Partition
	for _, p := range parts {
		t, err := time.Parse("2006-01", p.Month)
		if err != nil {
			continue
		}
		if !t.AddDate(0, 1, 0).After(cut) {
			p.FromDay = int32(t.Unix() / 86400)
			p.ToDay = int32(t.AddDate(0, 1, 0).Unix() / 86400)
			out = append(out, p)
		}
	}
	return out, cut
}

// DropPartitions takes months of events out of the index in one
// transaction: each month's events and failures partitions are detached,
// and dropped unless keepTables (they stay as plain tables, to archive
// with pg_dump -t), and the month's rows of daily_counts,
// split_counts, hourly_counts and deliveries are deleted, so that counts and events keep agreeing,
// and, with the tables dropped, the blocks of their events' JSON.
// It needs the tables' owner.
func (db *DB) DropPartitions(ctx context.Context, parts []Partition, keepTables bool) error {
	if len(parts) == 0 {
		return nil
	}
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("retention: %w", redactErr(err, db.url))
	}
	defer tx.Rollback(context.Background())
	for _, p := range parts {
		fail := "failures" + p.Events[len("events"):]
		stmts := []string{
			fmt.Sprintf(`ALTER TABLE events DETACH PARTITION %s`, pgx.Identifier{p.Events}.Sanitize()),
			fmt.Sprintf(`ALTER TABLE failures DETACH PARTITION %s`, pgx.Identifier{fail}.Sanitize()),
		}
		if !keepTables {
			stmts = append(stmts, fmt.Sprintf(`DROP TABLE %s, %s`, pgx.Identifier{p.Events}.Sanitize(), pgx.Identifier{fail}.Sanitize()))
		}
		for _, q := range stmts {
			if _, err := tx.Exec(ctx, q); err != nil {
				return fmt.Errorf("retention: %s: %w", p.Month, ownerNeeded(err))
			}
		}
		for _, q := range []string{`DELETE FROM daily_counts WHERE day >= $1 AND day < $2`, `DELETE FROM split_counts WHERE day >= $1 AND day < $2`,
			// A delivery belongs to the month it was accepted in (or ended in, unaccepted).
			`DELETE FROM deliveries WHERE COALESCE(accepted_at, final_at) >= $1::bigint * 86400000000 AND COALESCE(accepted_at, final_at) < $2::bigint * 86400000000`} {
			if _, err := tx.Exec(ctx, q, p.FromDay, p.ToDay); err != nil {
				return fmt.Errorf("retention: %s: %w", p.Month, err)
			}
		}
		if _, err := tx.Exec(ctx, `DELETE FROM hourly_counts WHERE hour >= $1 AND hour < $2`, p.FromDay*24, p.ToDay*24); err != nil {
			return fmt.Errorf("retention: %s: %w", p.Month, err)
		}
	}
	if !keepTables {
		// The JSON blocks whose every event was in the months dropped (a
		// block spanning a kept month stays with it). Archived tables keep
		// theirs.
		last := parts[0].ToDay
		for _, p := range parts {
			last = max(last, p.ToDay)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM raw_blocks WHERE last_day < $1`, last); err != nil {
			return fmt.Errorf("retention: %w", err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("retention: %w", redactErr(err, db.url))
	}
	return nil
}

// ownerNeeded adds to a permission error who may detach partitions.
func ownerNeeded(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "42501" { // insufficient_privilege
		return fmt.Errorf("%w: detaching and dropping months needs the tables' owner (who ran maildiag migrate)", err)
	}
	return err
}
