package index

import (
	"context"
	"strings"
	"testing"
)

// A migration missing below the highest applied one (branches number
// theirs apart: an index may meet 0006 before 0004) is applied by the
// next writing open; until then read-only opens name it.
func TestMigrateAppliesGaps(t *testing.T) {
	ctx := context.Background()
	db, path := mustOpen(t)
	if SchemaVersion() < 6 {
		t.Fatalf("schema version %d, want at least 6", SchemaVersion())
	}
	for _, q := range []string{`DROP TABLE audit`, `DELETE FROM schema_migrations WHERE version = 2`} {
		if _, err := db.sql.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	if _, err := OpenReadOnly(ctx, path); err == nil || !strings.Contains(err.Error(), "lacks migration 0002_audit") {
		t.Fatalf("read-only open without 0002: %v, want it named", err)
	}
	db2, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	var n, audit int
	if err := db2.sql.QueryRowContext(ctx, `SELECT COUNT(*), SUM(version = 2) FROM schema_migrations`).Scan(&n, &audit); err != nil {
		t.Fatal(err)
	}
	if audit != 1 || n != len(mustMigrations(t)) {
		t.Errorf("%d migrations recorded (0002: %d), want all %d", n, audit, len(mustMigrations(t)))
	}
	if _, err := db2.sql.ExecContext(ctx, `SELECT COUNT(*) FROM audit`); err != nil {
		t.Errorf("audit table after the gap was filled: %v", err)
	}
	if _, err := OpenReadOnly(ctx, path); err != nil {
		t.Errorf("read-only open after the upgrade: %v", err)
	}
}

func mustMigrations(t *testing.T) []migration {
	ms, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	return ms
}
