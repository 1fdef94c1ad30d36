package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/maildiag/maildiag/analyze"
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
	if code, _, errs := run(t, "", "--db", db, "import", "/dev/null"); code != 0 && code != 1 {
		t.Fatalf("import: exit %d: %s", code, errs)
	}
	code, _, errs := run(t, "", "--db", db, "--output", "json", "events", "--subject", "test subject")
	if code != 1 || !strings.Contains(errs, "maildiag migrate") {
		t.Fatalf("before migrate: exit %d, stderr %q; want 1 and a note naming migrate", code, errs)
	}
	code, out, errs := run(t, "", "--db", db, "--output", "json", "migrate")
	if code != 0 {
		t.Fatalf("migrate: exit %d: %s", code, errs)
	}
	var res migrateResult
	if err := json.Unmarshal([]byte(out), &res); err != nil || res.TextsBackfilled != 38 {
		t.Fatalf("migrate: %v, %s; want 38 events given their texts", err, out)
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
