package pg_test

import (
	"context"
	"reflect"
	"slices"
	"testing"

	"github.com/maildiag/maildiag/analyze"
	"github.com/maildiag/maildiag/index/pg"
	"github.com/maildiag/maildiag/internal/pgtest"
)

// Migration 0011 gives the failures stored before it their recipient's
// domain: they read as they did, also filtered by recipient domain.
func TestFailureReadsMigration(t *testing.T) {
	ctx := context.Background()
	db, u := open(t)
	importFiles(t, db, samples+"/events.jsonl", generated(t, 3000, 14))
	read := func(st *pg.DB, f analyze.FailureFilter) []analyze.Failure {
		t.Helper()
		var out []analyze.Failure
		if err := st.Failures(ctx, f, func(x *analyze.Failure) error { out = append(out, *x); return nil }); err != nil {
			t.Fatal(err)
		}
		slices.SortFunc(out, func(a, b analyze.Failure) int { return slices.Compare(a.Ref[:], b.Ref[:]) })
		return out
	}
	wantAll := read(db, analyze.FailureFilter{})
	var at analyze.FailureFilter
	for _, f := range wantAll {
		if f.RecipientDomain != "" {
			at.RecipientDomains = []string{f.RecipientDomain}
			break
		}
	}
	wantSome := read(db, at)
	if len(wantSome) == 0 || len(wantSome) == len(wantAll) {
		t.Fatalf("%d of %d failures at %v: the test needs both kinds", len(wantSome), len(wantAll), at.RecipientDomains)
	}
	db.Close()
	c := pgtest.Conn(t, u)
	for _, q := range []string{`DROP INDEX failures_recipient`, `ALTER TABLE failures DROP COLUMN recipient_domain_id`,
		`DELETE FROM schema_migrations WHERE version = 11`} {
		if _, err := c.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	again, err := pg.Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	all, some := read(again, analyze.FailureFilter{}), read(again, at)
	if !reflect.DeepEqual(all, wantAll) {
		t.Errorf("after the migration, %d failures differ from the %d read before", len(all), len(wantAll))
	}
	if !reflect.DeepEqual(some, wantSome) {
		t.Errorf("after the migration, %d failures at the domains, want %d", len(some), len(wantSome))
	}
}
