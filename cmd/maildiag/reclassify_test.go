package main

import (
	"database/sql"
	"strings"
	"testing"

	_ "github.com/mattn/go-sqlite3"
)

// A rules change re-derives the stored classes from the raw JSON, without
// a re-import.
func TestReclassifyAfterRulesChange(t *testing.T) {
	db := tempDB(t)
	if code, _, errs := run(t, "", "--db", db, "import", samples+"/events.jsonl"); code != 0 {
		t.Fatalf("import: %s", errs)
	}
	want := queryJSON(t, db, "SELECT event_id, class, rule FROM failures ORDER BY event_id")
	if len(want) == 0 {
		t.Fatal("no failures in the samples")
	}
	// Pretend the classes came from older rules.
	raw, err := sql.Open("sqlite3", db)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"UPDATE failures SET class = 'other', rule = 'old'", "UPDATE meta SET value = 'older' WHERE key = 'rules_version'"} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	raw.Close()
	// The next import notices and re-derives them first.
	code, _, errs := run(t, "", "--db", db, "import", samples+"/webhooks.jsonl")
	if code != 0 && code != exitNo {
		t.Fatalf("import: exit %d: %s", code, errs)
	}
	if !strings.Contains(errs, "re-deriving") {
		t.Errorf("stderr does not say the classes were re-derived: %s", errs)
	}
	got := queryJSON(t, db, "SELECT event_id, class, rule FROM failures WHERE event_id IN (SELECT event_id FROM failures) ORDER BY event_id")
	byID := map[string]map[string]any{}
	for _, r := range got {
		byID[r["event_id"].(string)] = r
	}
	for _, w := range want {
		g := byID[w["event_id"].(string)]
		if g == nil || g["class"] != w["class"] || g["rule"] != w["rule"] {
			t.Errorf("%v: got %v, want %v", w["event_id"], g, w)
		}
	}
	// The command itself.
	code, out, errs := run(t, "", "--db", db, "reclassify")
	if code != 0 || !strings.Contains(out, "0 changed class") {
		t.Errorf("reclassify: exit %d: %s %s", code, out, errs)
	}
}
