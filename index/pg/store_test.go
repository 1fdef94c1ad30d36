package pg_test

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/analyze"
	"github.com/maildiag/maildiag/index/pg"
	"github.com/maildiag/maildiag/internal/pgtest"
	"github.com/maildiag/maildiag/internal/testkit"
)

// Opening migrates once: a second open, and two at once, apply nothing.
func TestMigrateOnce(t *testing.T) {
	ctx := context.Background()
	_, u := open(t)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db, err := pg.Open(ctx, u)
			if err == nil {
				db.Close()
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if got, want := one(t, u, `SELECT MAX(version)::bigint FROM schema_migrations`), int64(pg.SchemaVersion()); got != want {
		t.Errorf("newest migration recorded %d, want %d", got, want)
	}
	if got := one(t, u, `SELECT COUNT(*) FROM pg_extension WHERE extname = 'pg_trgm'`); got != 1 {
		t.Errorf("pg_trgm installed %d times, want 1", got)
	}
}

// Two concurrent migrations of a new database: one applies, the other
// waits for it and applies nothing.
func TestMigrateConcurrentFresh(t *testing.T) {
	ctx := context.Background()
	u := pgtest.URL(t)
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db, err := pg.Open(ctx, u)
			if err == nil {
				db.Close()
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if got := one(t, u, `SELECT MAX(version)::bigint FROM schema_migrations`); got != int64(pg.SchemaVersion()) {
		t.Errorf("newest migration recorded %d, want %d", got, pg.SchemaVersion())
	}
}

// The samples imported into PostgreSQL give the same counts as into
// SQLite, and importing them again stores nothing.
func TestImportSamplesLikeSQLite(t *testing.T) {
	ctx := context.Background()
	files := []string{filepath.Join(samples, "events.jsonl"), filepath.Join(samples, "webhooks.jsonl")}
	db, u := open(t)
	imps := importFiles(t, db, files...)

	lite, w := testkit.OpenIndex(t, filepath.Join(t.TempDir(), "index.db"))
	im := newSQLiteImporter(t, lite, w)
	for i, f := range files {
		want := importSQLite(t, im, f)
		got := imps[i]
		if got.EventsRead != want.EventsRead || got.EventsNew != want.EventsNew || got.SuppressionsNew != want.SuppressionsNew || got.Rejects != want.Rejects {
			t.Errorf("%s: read/new/suppressions/rejects %d/%d/%d/%d, SQLite %d/%d/%d/%d", f,
				got.EventsRead, got.EventsNew, got.SuppressionsNew, got.Rejects, want.EventsRead, want.EventsNew, want.SuppressionsNew, want.Rejects)
		}
	}
	pst, err := db.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	lst, err := lite.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if pst.Events == 0 || pst.Events != lst.Events {
		t.Errorf("status: %d events, SQLite %d", pst.Events, lst.Events)
	}
	// One type, one order: the same rows in the same order.
	if !reflect.DeepEqual(pst.EventCounts, lst.EventCounts) || !reflect.DeepEqual(pst.Coverage, lst.Coverage) ||
		!reflect.DeepEqual(pst.Suppressions, lst.Suppressions) || len(pst.Coverage) == 0 {
		t.Errorf("events by domain and type, coverage, suppressions:\n%+v\n%+v\n%+v\nSQLite:\n%+v\n%+v\n%+v",
			pst.EventCounts, pst.Coverage, pst.Suppressions, lst.EventCounts, lst.Coverage, lst.Suppressions)
	}
	if pst.FirstUS != lst.FirstUS || pst.LastUS != lst.LastUS {
		t.Errorf("span %d..%d, SQLite %d..%d", pst.FirstUS, pst.LastUS, lst.FirstUS, lst.LastUS)
	}
	if got, want := one(t, u, `SELECT COUNT(*) FROM events`), pst.Events; got != want {
		t.Errorf("%d event rows, counts say %d", got, want)
	}
	if got := one(t, u, `SELECT COUNT(*) FROM failures`); got == 0 {
		t.Error("no failures stored from the samples")
	}

	again := importFiles(t, db, files...)
	for _, imp := range again {
		if imp.EventsNew != 0 || imp.SuppressionsNew != 0 {
			t.Errorf("%s again: %d events and %d suppressions new, want 0", imp.Source, imp.EventsNew, imp.SuppressionsNew)
		}
	}
	if got := one(t, u, `SELECT SUM(n)::bigint FROM daily_counts`); got != pst.Events {
		t.Errorf("after the second import daily_counts sum to %d, want %d", got, pst.Events)
	}
}

// The same event twice in one batch, and in two batches, is stored once;
// the same Mailgun id on another day, of another type or to another
// recipient is another event.
func TestIdentity(t *testing.T) {
	ctx := context.Background()
	db, u := open(t)
	const day = int64(20000) * 86400_000_000
	ev := func(typ, id, rcpt string, at int64) maildiag.Event {
		return maildiag.Event{TimeUS: at, Type: typ, ID: id, SendingDomain: "mg.example.com", Recipient: rcpt,
			RecipientDomain: maildiag.DomainOf(rcpt), Raw: []byte(`{"id":"` + id + `"}`)}
	}
	batch := []maildiag.Event{
		ev("delivered", "A", "x@acme.com", day+10),
		ev("delivered", "A", "x@acme.com", day+10),                       // the same
		ev("delivered", "A", "x@acme.com", day+20),                       // the same id and day: the same event
		ev("accepted", "A", "x@acme.com", day+10),                        // another type
		ev("delivered", "A", "y@acme.com", day+10),                       // another recipient
		ev("delivered", "A", "x@acme.com", day+86400_000_000+10_000_000), // another day (not within 1 ms of midnight: see TestContract)
		ev("delivered", "A", "x@acme.com", day+40*86400_000_000),         // another month
		ev("rejected", "R", "", day+5),                                   // no recipient
	}
	w, err := db.NewWriter(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	n, err := w.AddEvents(ctx, batch, 0)
	if err != nil {
		t.Fatal(err)
	}
	if n != 6 {
		t.Errorf("first batch: %d new, want 6", n)
	}
	n, err = w.AddEvents(ctx, batch[:3], 0)
	if err != nil || n != 0 {
		t.Errorf("the same again in the transaction: %d new, %v; want 0", n, err)
	}
	if err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if n, err := w.AddEvents(ctx, batch, 0); err != nil || n != 0 {
		t.Errorf("the same again after commit: %d new, %v; want 0", n, err)
	}
	w.Commit(ctx)
	if got := one(t, u, `SELECT COUNT(*) FROM events`); got != 6 {
		t.Errorf("%d events stored, want 6", got)
	}
	if got := one(t, u, `SELECT SUM(n)::bigint FROM daily_counts`); got != 6 {
		t.Errorf("daily counts sum to %d, want 6", got)
	}
	if got := one(t, u, `SELECT COUNT(*) FROM pg_inherits WHERE inhparent = 'events'::regclass`); got != 2 {
		t.Errorf("%d monthly partitions of events, want 2", got)
	}
	if got := one(t, u, `SELECT COUNT(*) FROM failures`); got != 1 {
		t.Errorf("%d failures, want 1 (the rejected event)", got)
	}
}

// Two imports of the same file at once store each event once, and the
// counts kept at ingest count each once.
func TestTwoImportsAtOnce(t *testing.T) {
	file := generated(t, 4000, 60)
	db, u := open(t)
	var wg sync.WaitGroup
	results := make([][]*maildiag.Import, 2)
	errs := make([]error, 2)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = tryImport(db, file)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	a, b := results[0][0], results[1][0]
	if a.EventsRead != 4000 || b.EventsRead != 4000 {
		t.Fatalf("read %d and %d events, want 4000 each", a.EventsRead, b.EventsRead)
	}
	stored := one(t, u, `SELECT COUNT(*) FROM events`)
	if int64(a.EventsNew+b.EventsNew) != stored {
		t.Errorf("the imports say %d + %d new, %d stored", a.EventsNew, b.EventsNew, stored)
	}
	lite, w := testkit.OpenIndex(t, filepath.Join(t.TempDir(), "index.db"))
	want := importSQLite(t, newSQLiteImporter(t, lite, w), file)
	if stored != int64(want.EventsNew) {
		t.Errorf("%d events stored, SQLite stores %d of the file", stored, want.EventsNew)
	}
	if got := one(t, u, `SELECT SUM(n)::bigint FROM daily_counts`); got != stored {
		t.Errorf("daily counts sum to %d, %d events stored", got, stored)
	}
	if got := one(t, u, `SELECT SUM(n)::bigint FROM hourly_counts`); got != stored {
		t.Errorf("hourly counts sum to %d, %d events stored", got, stored)
	}
	if got := one(t, u, `SELECT COUNT(*) FROM (SELECT address FROM recipients GROUP BY 1 HAVING COUNT(*) > 1) x`); got != 0 {
		t.Errorf("%d addresses stored twice", got)
	}
}

// A synced range commits with its events, or neither does, and touching
// ranges merge.
func TestSyncedRangeCommitsWithEvents(t *testing.T) {
	ctx := context.Background()
	db, u := open(t)
	w, err := db.NewWriter(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	at := int64(20400) * 86400_000_000
	evs := []maildiag.Event{{TimeUS: at, Type: "delivered", ID: "e1", SendingDomain: "mg.example.com", Recipient: "a@b.com", Raw: []byte(`{}`)}}
	if _, err := w.AddEvents(ctx, evs, 0); err != nil {
		t.Fatal(err)
	}
	if err := w.AddSyncedRange(ctx, "mg.example.com", "events", maildiag.Range{FromUS: at - 100, ToUS: at + 100}, at); err != nil {
		t.Fatal(err)
	}
	w.Rollback()
	if e, r := one(t, u, `SELECT COUNT(*) FROM events`), one(t, u, `SELECT COUNT(*) FROM sync_ranges`); e != 0 || r != 0 {
		t.Fatalf("after rollback: %d events, %d ranges; want none", e, r)
	}
	// The rolled-back month's partition is gone with it, and made again.
	if _, err := w.AddEvents(ctx, evs, 0); err != nil {
		t.Fatal(err)
	}
	for _, r := range []maildiag.Range{{FromUS: at - 100, ToUS: at + 100}, {FromUS: at + 100, ToUS: at + 200}, {FromUS: at + 500, ToUS: at + 600}} {
		if err := w.AddSyncedRange(ctx, "mg.example.com", "events", r, at); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := db.SyncedRanges(ctx, "mg.example.com", "events")
	if err != nil {
		t.Fatal(err)
	}
	want := []maildiag.Range{{FromUS: at - 100, ToUS: at + 200}, {FromUS: at + 500, ToUS: at + 600}}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("ranges %v, want %v", got, want)
	}
	if rows := one(t, u, `SELECT COUNT(*) FROM sync_ranges`); rows != 2 {
		t.Errorf("%d range rows, want 2 (merged)", rows)
	}
}

// An import whose writer's session ended while it ran shows as
// interrupted; one that is running shows as running.
func TestInterruptedImport(t *testing.T) {
	ctx := context.Background()
	db, _ := open(t)
	w, err := db.NewWriter(ctx)
	if err != nil {
		t.Fatal(err)
	}
	imp, err := w.StartImport(ctx, "x.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	status := func() string {
		imps, err := db.Imports(ctx, 5)
		if err != nil || len(imps) != 1 || imps[0].ID != imp.ID {
			t.Fatalf("imports %v, %v", imps, err)
		}
		return imps[0].Status
	}
	if s := status(); s != maildiag.ImportRunning {
		t.Errorf("while its writer is open: %s, want running", s)
	}
	w.Close()
	// The server ends the closed session's backend, and its locks, soon after.
	deadline := time.Now().Add(10 * time.Second)
	for status() != maildiag.ImportInterrupted {
		if time.Now().After(deadline) {
			t.Fatalf("10 s after its writer closed unfinished: %s, want interrupted", status())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stored failures are read back with their original JSON, and their
// classes can be replaced by reference.
func TestFailureJSONAndClass(t *testing.T) {
	ctx := context.Background()
	db, u := open(t)
	importFiles(t, db, filepath.Join(samples, "events.jsonl"))
	n := 0
	var first analyze.Ref
	err := db.ForEachFailureJSON(ctx, func(ref analyze.Ref, class string, raw []byte) error {
		if n == 0 {
			first = ref
		}
		n++
		if !strings.HasPrefix(strings.TrimSpace(string(raw)), "{") {
			t.Errorf("failure %v: raw %q is no JSON object", ref, raw)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := one(t, u, `SELECT COUNT(*) FROM failures`); int64(n) != want || n == 0 {
		t.Fatalf("%d failures read, %d stored", n, want)
	}
	w, err := db.NewWriter(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.SetFailureClass(ctx, first, "test-class", "test-rule", "gw"); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if got := one(t, u, `SELECT COUNT(*) FROM failures WHERE class = 'test-class' AND rule = 'test-rule'`); got != 1 {
		t.Errorf("%d failures with the class set, want 1", got)
	}
}

// Events of one address that claim different recipient domains (an odd
// export) store one recipient, and each event once.
func TestOneRecipientWhateverDomainItsEventsClaim(t *testing.T) {
	ctx := context.Background()
	db, u := open(t)
	const day = int64(20000) * 86400_000_000
	w, err := db.NewWriter(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	w.SetBatch(100)
	evs := []maildiag.Event{
		{TimeUS: day + 1, Type: "delivered", ID: "A", Recipient: "x@acme.com", RecipientDomain: "acme.com"},
		{TimeUS: day + 2, Type: "opened", ID: "B", Recipient: "x@acme.com", RecipientDomain: "ACME.com"},
		{TimeUS: day + 3, Type: "clicked", ID: "C", Recipient: "x@acme.com"},
	}
	if _, err := w.AddEvents(ctx, evs, 0); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if got := one(t, u, `SELECT COUNT(*) FROM recipients`); got != 1 {
		t.Errorf("%d recipients, want 1", got)
	}
	if got := one(t, u, `SELECT COUNT(*) FROM events`); got != 3 {
		t.Errorf("%d events, want 3", got)
	}
	if got := one(t, u, `SELECT SUM(n)::bigint FROM daily_counts`); got != 3 {
		t.Errorf("daily counts sum to %d, want 3", got)
	}
}
