package pg_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"

	"github.com/maildiag/maildiag/analyze"
	"github.com/maildiag/maildiag/index/pg"
	"github.com/maildiag/maildiag/internal/pgtest"
)

// An index made before migration 0004 gets the IP and tag splits and the
// failures' tag sets from its events' JSON: the same as an index that kept
// them at ingest.
func TestSplitsBackfill(t *testing.T) {
	ctx := context.Background()
	db, u := open(t)
	importFiles(t, db, generated(t, 20000, 14))
	read := func(db *pg.DB) (splits, tags []string) {
		t.Helper()
		cs, err := db.SplitCounts(ctx, analyze.SplitQuery{})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cs {
			b, _ := json.Marshal(c)
			splits = append(splits, string(b))
		}
		err = db.Failures(ctx, analyze.FailureFilter{}, func(f *analyze.Failure) error {
			b, _ := json.Marshal(f.Tags)
			tags = append(tags, string(b))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(splits)
		slices.Sort(tags)
		return splits, tags
	}
	wantSplits, wantTags := read(db)
	if len(wantSplits) == 0 || !slices.ContainsFunc(wantTags, func(s string) bool { return s != "null" }) {
		t.Fatalf("the generated account gives %d split counts and no failure with tags; the test needs both", len(wantSplits))
	}
	db.Close()
	unblock(t, u) // an index before 0004 kept its events' JSON inline
	conn := pgtest.Conn(t, u)
	for _, q := range []string{`DROP TABLE split_counts`, `ALTER TABLE failures DROP COLUMN tags`,
		`DROP FUNCTION maildiag_json_tags, maildiag_raw_json`, `DELETE FROM schema_migrations WHERE version IN (4, 14)`} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	again, err := pg.Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	gotSplits, gotTags := read(again)
	if !slices.Equal(gotSplits, wantSplits) {
		t.Errorf("after the migration: %d split counts, at ingest %d (first %v / %v)", len(gotSplits), len(wantSplits), first(gotSplits), first(wantSplits))
	}
	if !slices.Equal(gotTags, wantTags) {
		t.Errorf("after the migration the failures' tag sets differ from those kept at ingest")
	}
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}
