package main

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/maildiag/maildiag/analyze"
	"github.com/maildiag/maildiag/internal/pgtest"
)

// An index built before schema version 4 (index/testdata/pre0004.db, the
// real samples imported by that maildiag): a subject search says what is
// missing until migrate gives the old events their texts, then finds them.
func TestMigrateBackfillsTextsOfAnOldIndex(t *testing.T) {
	data, err := os.ReadFile("../../index/testdata/pre0004.db")
	if err != nil {
		t.Fatal(err)
	}
	db := tempDB(t)
	if err := os.WriteFile(db, data, 0o600); err != nil {
		t.Fatal(err)
	}
	// A writing command migrates the schema, not the events' texts.
	backfillsTexts(t, db, 38)
}

// The same on PostgreSQL: an index whose events were stored before
// migration 0008 (the samples imported, then their text ids and texts
// taken away and the migration unrecorded) is migrated by the next writing
// command, and its events are found by subject once migrate gave them
// their texts.
func TestMigrateBackfillsTextsOnPostgres(t *testing.T) {
	u := pgIndex(t)
	if code, _, errs := run(t, "", "--db", u, "import", samples+"/events.jsonl"); code != 0 {
		t.Fatalf("import: exit %d: %s", code, errs)
	}
	stored := pgInt(t, u, `SELECT COUNT(*) FROM events`)
	conn := pgtest.Conn(t, u)
	for _, q := range []string{
		`ALTER TABLE events DROP COLUMN subject_id, DROP COLUMN from_id, DROP COLUMN ip_id, DROP COLUMN tags_id, DROP COLUMN route_id`,
		`DROP TABLE texts`, `DELETE FROM schema_migrations WHERE version IN (8, 9)`} {
		if _, err := conn.Exec(context.Background(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	backfillsTexts(t, u, stored)
	if code, out, _ := run(t, "", "--db", u, "--output", "json", "migrate"); code != 0 || !strings.Contains(out, `"texts_backfilled": 0`) {
		t.Errorf("migrate again: exit %d, %s; want nothing to backfill", code, out)
	}
}

// backfillsTexts checks an index whose events lack their texts: a writing
// command migrates its schema but not the texts, a text search says to run
// migrate, migrate gives want events their texts, and the search then
// finds them.
func backfillsTexts(t *testing.T, db string, want int64) {
	t.Helper()
	if code, _, errs := run(t, "", "--db", db, "import", "/dev/null"); code != 0 && code != 1 {
		t.Fatalf("import: exit %d: %s", code, errs)
	}
	code, _, errs := run(t, "", "--db", db, "--output", "json", "events", "--subject", "test subject")
	if code != 1 || !strings.Contains(errs, "maildiag migrate") {
		t.Fatalf("before migrate: exit %d, stderr %q; want 1 and a note naming migrate", code, errs)
	}
	code, out, errs := run(t, "", "--db", db, "--output", "json", "migrate")
	noSecret(t, "migrate", out, errs)
	if code != 0 {
		t.Fatalf("migrate: exit %d: %s", code, errs)
	}
	var res migrateResult
	if err := json.Unmarshal([]byte(out), &res); err != nil || int64(res.TextsBackfilled) != want {
		t.Fatalf("migrate: %v, %s; want %d events given their texts", err, out, want)
	}
	code, out, errs = run(t, "", "--db", db, "--output", "json", "events", "--subject", "test subject")
	var evs []analyze.EventItem
	if code != 0 || json.Unmarshal([]byte(out), &evs) != nil || len(evs) == 0 || strings.Contains(errs, "migrate") {
		t.Fatalf("after migrate: exit %d, %d events, stderr %q", code, len(evs), errs)
	}
	for _, e := range evs {
		if !strings.Contains(strings.ToLower(e.Subject), "test subject") {
			t.Errorf("--subject 'test subject' listed %q", e.Subject)
		}
	}
}
