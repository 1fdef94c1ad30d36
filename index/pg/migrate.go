package pg

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// The PostgreSQL migrations, NNNN_name.sql like the SQLite index's: each
// applied once, in its own transaction, with its version recorded.
//
//go:embed migrations/*.sql
var migrations embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

var loadMigrations = sync.OnceValues(func() ([]migration, error) {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "migrations/"), ".sql")
		num, _, _ := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if err != nil {
			return nil, fmt.Errorf("migration %s: name must start with a number", n)
		}
		b, err := migrations.ReadFile(n)
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: base, sql: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	return out, nil
})

// SchemaVersion is the newest migration this build knows.
func SchemaVersion() int {
	ms, _ := loadMigrations()
	if len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].version
}

// migrateLock is the advisory lock two maildiag processes migrating one
// database at once take in turn.
const migrateLock = 0x6d61696c64696167 // "maildiag"

// Migrate applies the migrations not yet recorded, each in a transaction
// of its own; it returns the versions it applied.
func (db *DB) Migrate(ctx context.Context) error {
	_, err := db.MigrateReport(ctx)
	return err
}

// MigrateReport is Migrate, returning the names of the migrations applied.
func (db *DB) MigrateReport(ctx context.Context) ([]string, error) {
	ms, err := loadMigrations()
	if err != nil {
		return nil, err
	}
	missing, err := db.missing(ctx)
	if err != nil || len(missing) == 0 {
		return nil, err
	}
	var applied []string
	for _, m := range ms {
		ok, err := db.apply(ctx, m)
		if err != nil {
			return applied, fmt.Errorf("migrate index to version %d (%s): %w; run maildiag migrate as the database's owner", m.version, m.name, redactErr(err, db.url))
		}
		if ok {
			applied = append(applied, m.name)
		}
	}
	return applied, nil
}

// missing are the versions of this build's migrations the index has not
// recorded. Numbers are handed out to changes before they land, so a
// migration may arrive after one with a higher number was applied: every
// version is looked for, not just the newest.
func (db *DB) missing(ctx context.Context) ([]int, error) {
	ms, err := loadMigrations()
	if err != nil {
		return nil, err
	}
	var have []int32
	err = db.pool.QueryRow(ctx, `SELECT COALESCE(array_agg(version), '{}') FROM schema_migrations`).Scan(&have)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "42P01" { // undefined_table: never migrated
		have, err = nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read schema version: %w", err)
	}
	var out []int
	for _, m := range ms {
		if !slices.Contains(have, int32(m.version)) {
			out = append(out, m.version)
		}
	}
	return out, nil
}

// apply runs one migration unless it is recorded, under the migration lock.
func (db *DB) apply(ctx context.Context, m migration) (bool, error) {
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return false, err
	}
	defer tx.Rollback(context.Background())
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrateLock)); err != nil {
		return false, err
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version integer PRIMARY KEY, name text NOT NULL, applied_at bigint NOT NULL)`); err != nil {
		return false, err
	}
	var done bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $1)`, m.version).Scan(&done); err != nil {
		return false, err
	}
	if done {
		return false, nil
	}
	// The simple protocol runs a file of many statements as one.
	if _, err := tx.Exec(ctx, m.sql, pgx.QueryExecModeSimpleProtocol); err != nil {
		return false, err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations(version, name, applied_at) VALUES ($1, $2, $3)`,
		m.version, m.name, time.Now().UnixMicro()); err != nil {
		return false, err
	}
	return true, tx.Commit(ctx)
}
