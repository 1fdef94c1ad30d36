package index

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/analyze"
)

func TestOpenCreatesPrivateWALIndex(t *testing.T) {
	db, path := mustOpen(t)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("index mode %v, want 0600: it holds email addresses", fi.Mode().Perm())
	}
	var mode string
	var ps int64
	db.sql.QueryRow("PRAGMA journal_mode").Scan(&mode)
	db.sql.QueryRow("PRAGMA page_size").Scan(&ps)
	if mode != "wal" || ps != pageSize {
		t.Errorf("journal_mode %s, page_size %d; want wal, %d", mode, ps, pageSize)
	}
	// Opening again migrates nothing and keeps the data.
	w := mustWriter(t, db)
	add(t, w, ev(maildiag.Accepted, "a1", "x@acme.com", at(0)))
	w.Close()
	db.Close()
	db2, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	if n := count(t, db2, "SELECT COUNT(*) FROM events"); n != 1 {
		t.Errorf("events after reopening: %d, want 1", n)
	}
}

func TestDefaultPath(t *testing.T) {
	t.Setenv(EnvDB, "")
	t.Setenv("XDG_DATA_HOME", "/data/x")
	if p, _ := DefaultPath(); p != "/data/x/maildiag/index.db" {
		t.Errorf("with XDG_DATA_HOME: %s", p)
	}
	t.Setenv(EnvDB, "/tmp/other.db")
	if p, _ := DefaultPath(); p != "/tmp/other.db" {
		t.Errorf("with %s: %s", EnvDB, p)
	}
}

func TestEventsStoredOnce(t *testing.T) {
	db, _ := mustOpen(t)
	w := mustWriter(t, db)
	evs := []maildiag.Event{
		ev(maildiag.Accepted, "id1", "a@acme.com", at(0)),
		ev(maildiag.Delivered, "id2", "a@acme.com", at(time.Second)),
		ev(maildiag.Failed, "id3", "b@acme.com", at(time.Minute)),
	}
	if n := add(t, w, evs...); n != 3 {
		t.Fatalf("first write stored %d, want 3", n)
	}
	// The same events again, in one transaction with a repeat inside it.
	if n := add(t, w, append(evs, evs[0])...); n != 0 {
		t.Errorf("repeat stored %d, want 0", n)
	}
	// The same event from the Logs API, in milliseconds.
	ms := evs[1]
	ms.TimeUS = ms.TimeUS / 1000 * 1000
	if n := add(t, w, ms); n != 0 {
		t.Errorf("millisecond copy stored %d, want 0", n)
	}
	// A new writer (a new run) knows the events only from the index.
	w2 := mustWriter(t, db)
	if n := add(t, w2, evs...); n != 0 {
		t.Errorf("second run stored %d, want 0", n)
	}
	// Ids are unique only within a day, and per type.
	nextDay := ev(maildiag.Accepted, "id1", "a@acme.com", at(24*time.Hour))
	otherType := ev(maildiag.Opened, "id1", "a@acme.com", at(2*time.Second))
	otherRcpt := ev(maildiag.Accepted, "id1", "z@acme.com", at(0))
	if n := add(t, w2, nextDay, otherType, otherRcpt); n != 3 {
		t.Errorf("distinct events sharing an id stored %d, want 3", n)
	}
	if n := count(t, db, "SELECT COUNT(*) FROM events"); n != 6 {
		t.Errorf("events: %d, want 6", n)
	}
	if n := count(t, db, "SELECT COALESCE(SUM(n), 0) FROM daily_counts"); n != 6 {
		t.Errorf("daily counts sum to %d, want 6", n)
	}
	if n := count(t, db, "SELECT COALESCE(SUM(n), 0) FROM hourly_counts"); n != 6 {
		t.Errorf("hourly counts sum to %d, want 6", n)
	}
	if n := count(t, db, "SELECT COUNT(*) FROM failures"); n != 1 {
		t.Errorf("failures: %d, want 1", n)
	}
	sp, err := db.Span(context.Background())
	if err != nil || sp.First.UnixMicro() != at(0) || sp.Last.UnixMicro() != at(24*time.Hour) {
		t.Errorf("span %+v %v, want %d to %d", sp, err, at(0), at(24*time.Hour))
	}
}

func TestMidnightMillisecond(t *testing.T) {
	db, _ := mustOpen(t)
	w := mustWriter(t, db)
	midnight := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC).UnixMicro()
	e := ev(maildiag.Delivered, "late", "a@acme.com", midnight-300) // 23:59:59.9997
	add(t, w, e)
	rounded := e
	rounded.TimeUS = midnight // a source that rounds to the millisecond
	w2 := mustWriter(t, db)
	if n := add(t, w2, rounded); n != 0 {
		t.Errorf("event rounded over midnight stored again (%d new)", n)
	}
}

func TestSeenAfterAnotherWriter(t *testing.T) {
	db, _ := mustOpen(t)
	w1 := mustWriter(t, db)
	w2 := mustWriter(t, db)
	e := ev(maildiag.Accepted, "shared", "a@acme.com", at(0))
	// w1 starts on an empty index: the day is fresh to it.
	add(t, w1, ev(maildiag.Accepted, "other", "b@acme.com", at(48*time.Hour)))
	add(t, w2, e)
	if n := add(t, w1, e); n != 0 {
		t.Errorf("an event another writer stored was stored again (%d new)", n)
	}
	if n := count(t, db, "SELECT COUNT(*) FROM recipients"); n != 2 {
		t.Errorf("recipients: %d, want 2 (no address twice)", n)
	}
}

func TestRollbackLeavesNothing(t *testing.T) {
	db, _ := mustOpen(t)
	w := mustWriter(t, db)
	ctx := context.Background()
	if _, err := w.AddEvents(ctx, []maildiag.Event{ev(maildiag.Accepted, "r1", "a@acme.com", at(0))}, 0); err != nil {
		t.Fatal(err)
	}
	w.Rollback()
	for _, table := range []string{"events", "recipients", "daily_counts", "raw_blocks", "pending", "messages"} {
		if n := count(t, db, "SELECT COUNT(*) FROM "+table); n != 0 {
			t.Errorf("%s has %d rows after rollback", table, n)
		}
	}
	// The writer still works, and stores the event once.
	if n := add(t, w, ev(maildiag.Accepted, "r1", "a@acme.com", at(0))); n != 1 {
		t.Errorf("after rollback stored %d, want 1", n)
	}
}

func TestRecipientIDsCarryTheirDomain(t *testing.T) {
	db, _ := mustOpen(t)
	w := mustWriter(t, db)
	add(t, w, ev(maildiag.Accepted, "1", "a@acme.com", at(0)), ev(maildiag.Accepted, "2", "b@other.org", at(0)),
		ev(maildiag.Accepted, "3", "c@acme.com", at(0)))
	// A second writer continues the domain's numbering.
	w2 := mustWriter(t, db)
	add(t, w2, ev(maildiag.Accepted, "4", "d@acme.com", at(0)))
	ctx := context.Background()
	doms, err := db.MatchDomains(ctx, "acme.com")
	if err != nil || len(doms) != 1 {
		t.Fatalf("acme.com: %v %v", doms, err)
	}
	rs, err := db.Recipients(ctx, "acme.com", "")
	if err != nil {
		t.Fatal(err)
	}
	acme, _, _ := db.domainsWhere(ctx, "name = 'acme.com'")
	var got []string
	for _, r := range rs {
		got = append(got, r.Address)
		if lo, hi := RecipientRange(acme[0]); int64(r.ID) < lo || int64(r.ID) > hi {
			t.Errorf("%s has id %d outside its domain's range", r.Address, r.ID)
		}
	}
	if want := "[a@acme.com c@acme.com d@acme.com]"; fmtList(got) != want {
		t.Errorf("acme.com recipients %v, want %s", got, want)
	}
	// Numbered from 1 in the domain's range, on through the second writer.
	lo, _ := RecipientRange(acme[0])
	for i, r := range rs {
		if int64(r.ID) != lo+1+int64(i) {
			t.Errorf("%s has id %d, want %d", r.Address, r.ID, lo+1+int64(i))
		}
	}
	id, err := db.FindRecipient(ctx, "c@acme.com")
	if err != nil || id != rs[1].ID {
		t.Errorf("FindRecipient(c@acme.com) = %d, %v; want %d", id, err, rs[1].ID)
	}
	if id, _ := db.FindRecipient(ctx, "nobody@acme.com"); id != 0 {
		t.Errorf("FindRecipient of an unknown address = %d, want 0", id)
	}
}

func TestRecipientLookupWithoutCache(t *testing.T) {
	db, _ := mustOpen(t)
	w := mustWriter(t, db)
	add(t, w, ev(maildiag.Accepted, "1", "a@acme.com", at(0)))
	// A writer that does not hold every recipient looks them up.
	w2 := mustWriter(t, db)
	w2.dict.recipsTried = true
	if n := add(t, w2, ev(maildiag.Delivered, "2", "a@acme.com", at(time.Second)), ev(maildiag.Accepted, "3", "b@acme.com", at(0))); n != 2 {
		t.Fatalf("stored %d, want 2", n)
	}
	if n := count(t, db, "SELECT COUNT(*) FROM recipients"); n != 2 {
		t.Errorf("recipients: %d, want 2", n)
	}
}

// A writer on an index with too many recipients to read whole reads
// their hashes: an address it has not seen is new without a lookup, and a
// stored one is found.
func TestRecipientFilterFromHashes(t *testing.T) {
	db, _ := mustOpen(t)
	w := mustWriter(t, db)
	add(t, w, ev(maildiag.Accepted, "1", "a@acme.com", at(0)), ev(maildiag.Accepted, "2", "b@acme.com", at(0)))
	w2 := mustWriter(t, db)
	w2.dict.recipsTried = true
	if err := w2.dict.loadRecipients(w2, 2, false); err != nil {
		t.Fatal(err)
	}
	if w2.dict.recips.n != 0 || !w2.dict.known.mayHave(hash63("a@acme.com")) {
		t.Fatalf("after reading hashes: %d cached, a@acme.com in the filter: %v; want 0 and true",
			w2.dict.recips.n, w2.dict.known.mayHave(hash63("a@acme.com")))
	}
	if n := add(t, w2, ev(maildiag.Delivered, "3", "a@acme.com", at(time.Second)), ev(maildiag.Accepted, "4", "c@acme.com", at(0))); n != 2 {
		t.Fatalf("stored %d, want 2", n)
	}
	if n := count(t, db, "SELECT COUNT(*) FROM recipients"); n != 3 {
		t.Errorf("recipients: %d, want 3 (a@acme.com once)", n)
	}
	if n := count(t, db, "SELECT COUNT(DISTINCT recipient_id) FROM events"); n != 3 {
		t.Errorf("events name %d recipients, want 3", n)
	}
}

func TestRawJSONComesBack(t *testing.T) {
	db, _ := mustOpen(t)
	w := mustWriter(t, db)
	var evs []maildiag.Event
	for i := range 3000 { // several blocks
		e := ev(maildiag.Accepted, "id"+itoa(i), "a"+itoa(i)+"@acme.com", at(time.Duration(i)*time.Second))
		e.Raw = append(e.Raw[:len(e.Raw)-1], []byte(`,"pad":"`+padding(i)+`"}`)...)
		evs = append(evs, e)
	}
	add(t, w, evs...)
	rows, err := db.eventsOf(context.Background(), nil)
	if err != nil || rows != nil {
		t.Fatalf("eventsOf with no recipients: %v %v", rows, err)
	}
	// Events are numbered in the order they were stored.
	var seqs []int64
	want := map[int64]string{}
	for i, r := range mustEvents(t, db) {
		seqs = append(seqs, r.Seq)
		want[r.Seq] = string(evs[i].Raw)
		if r.raw != want[r.Seq] {
			t.Fatalf("event_json of seq %d differs from the input", r.Seq)
		}
	}
	got, err := db.rawEvents(context.Background(), seqs)
	if err != nil {
		t.Fatal(err)
	}
	if n := count(t, db, "SELECT COUNT(*) FROM raw_blocks"); n < 2 {
		t.Errorf("raw blocks: %d, want several", n)
	}
	bad := 0
	for s, raw := range want {
		if string(got[s]) != raw {
			bad++
		}
	}
	if bad > 0 || len(got) != len(evs) {
		t.Errorf("%d of %d raw events differ (got %d)", bad, len(evs), len(got))
	}
}

// An event larger than the read buffer comes back too (its block is
// decompressed into a buffer of its own), beside ordinary ones.
func TestRawJSONOfAHugeEvent(t *testing.T) {
	db, _ := mustOpen(t)
	w := mustWriter(t, db)
	small := ev(maildiag.Accepted, "small", "a@acme.com", at(0))
	huge := ev(maildiag.Accepted, "huge", "b@acme.com", at(time.Second))
	huge.Raw = append(huge.Raw[:len(huge.Raw)-1], []byte(`,"pad":"`+strings.Repeat("x", blockBufSize+1)+`"}`)...)
	add(t, w, small, huge)
	got, err := db.rawEvents(context.Background(), []int64{1, 2})
	if err != nil {
		t.Fatal(err)
	}
	if string(got[1]) != string(small.Raw) || string(got[2]) != string(huge.Raw) {
		t.Errorf("raw events differ from the input (%d and %d bytes back)", len(got[1]), len(got[2]))
	}
}

type storedEvent struct {
	Seq int64
	raw string
}

// mustEvents reads every event with its JSON through the event_json view.
func mustEvents(t *testing.T, db *DB) []storedEvent {
	t.Helper()
	rows, err := db.sql.Query("SELECT seq, json FROM event_json ORDER BY seq")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []storedEvent
	for rows.Next() {
		var s storedEvent
		if err := rows.Scan(&s.Seq, &s.raw); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

func TestDelaysAndPending(t *testing.T) {
	db, _ := mustOpen(t)
	w := mustWriter(t, db)
	ctx := context.Background()
	// Delivered 3 s after acceptance, in one transaction.
	add(t, w, ev(maildiag.Accepted, "a1", "fast@acme.com", at(0)), ev(maildiag.Delivered, "d1", "fast@acme.com", at(3*time.Second)))
	// Accepted now, delivered in a later transaction 40 minutes on.
	add(t, w, ev(maildiag.Accepted, "a2", "slow@acme.com", at(0)))
	if n := count(t, db, "SELECT COUNT(*) FROM pending"); n != 1 {
		t.Errorf("pending after the accept: %d, want 1", n)
	}
	add(t, w, ev(maildiag.Delivered, "d2", "slow@acme.com", at(40*time.Minute)))
	// Accepted and never finished: stuck.
	add(t, w, ev(maildiag.Accepted, "a3", "stuck@acme.com", at(time.Hour)))
	// Failed permanently: final, and the failure closes it.
	add(t, w, ev(maildiag.Accepted, "a4", "gone@acme.com", at(0)), ev(maildiag.Failed, "f4", "gone@acme.com", at(time.Second)))
	// The final event first, as in a newest-first file: no pending left.
	add(t, w, ev(maildiag.Delivered, "d5", "rev@acme.com", at(10*time.Second)), ev(maildiag.Accepted, "a5", "rev@acme.com", at(0)))

	ds, err := db.Delays(ctx, time.Time{}, time.Time{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := map[int64]int64{}
	for _, d := range ds {
		got[d.Le.Milliseconds()] += d.N
		if d.Gateway != "Example" {
			t.Errorf("delay gateway %q, want Example", d.Gateway)
		}
	}
	want := map[int64]int64{3_000: 1, 3_600_000: 1, 10_000: 1}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("delays: %v, want %v", got, want)
			break
		}
	}
	ps, total, err := db.Pending(ctx, time.UnixMicro(0), time.UnixMicro(at(24*time.Hour)), 10)
	if err != nil {
		t.Fatal(err)
	}
	if total != 1 || len(ps) != 1 || ps[0].Accepted.UnixMicro() != at(time.Hour) || ps[0].RecipientDomain != "acme.com" {
		t.Errorf("pending: %+v (total %d), want only stuck@", ps, total)
	}
}

func TestOutcomes(t *testing.T) {
	db, _ := mustOpen(t)
	w := mustWriter(t, db)
	temp := ev(maildiag.Failed, "t", "a@acme.com", at(0))
	temp.Severity, temp.Reason, temp.Code = "temporary", "generic", 421
	drop := ev(maildiag.Failed, "s", "a@acme.com", at(time.Second))
	drop.Reason, drop.Code = "suppress-bounce", 605
	perm := ev(maildiag.Failed, "p", "b@acme.com", at(0))
	add(t, w, temp, drop, perm)
	rows, err := db.sql.Query("SELECT outcome, SUM(n) FROM daily_counts GROUP BY 1 ORDER BY 1")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[maildiag.Outcome]int64{}
	for rows.Next() {
		var o maildiag.Outcome
		var n int64
		rows.Scan(&o, &n)
		got[o] = n
	}
	if got[maildiag.OutcomeTemporary] != 1 || got[maildiag.OutcomePermanent] != 1 || got[maildiag.OutcomeSuppressed] != 1 {
		t.Errorf("outcomes %v, want one each of temporary, permanent, suppressed", got)
	}
}

func TestSuppressionsStoredOnce(t *testing.T) {
	db, _ := mustOpen(t)
	w := mustWriter(t, db)
	ctx := context.Background()
	s := []maildiag.Suppression{
		{SendingDomain: "mg.example.com", List: maildiag.ListBounces, Address: "a@acme.com", Code: "550", Error: "no", CreatedUS: at(0)},
		{SendingDomain: "mg.example.com", List: maildiag.ListAllowlist, Address: "acme.com", Kind: "domain", CreatedUS: at(0)},
	}
	for i := range 2 {
		n, err := w.AddSuppressions(ctx, s, 0, at(time.Duration(i)*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if want := []int{2, 0}[i]; n != want {
			t.Errorf("write %d stored %d new, want %d", i+1, n, want)
		}
		w.Commit(ctx)
	}
	rows, err := db.Suppressions(ctx, analyze.SuppressionFilter{Domains: []string{"acme.com"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].LastSeen.UnixMicro() != at(time.Hour) {
		t.Errorf("suppressions %+v, want 2 with last_seen moved", rows)
	}
}

func TestMatchDomains(t *testing.T) {
	db, _ := mustOpen(t)
	w := mustWriter(t, db)
	for i, a := range []string{"x@acme.com", "x@eu.acme.com", "x@mail.eu.acme.com", "x@notacme.com", "x@acme.co", "x@a[b].com"} {
		add(t, w, ev(maildiag.Accepted, itoa(i), a, at(0)))
	}
	ctx := context.Background()
	for glob, want := range map[string]string{
		"acme.com":   "[acme.com]",
		"*.acme.com": "[eu.acme.com mail.eu.acme.com]",
		"*acme.com":  "[acme.com eu.acme.com mail.eu.acme.com notacme.com]",
		"acme.c?":    "[acme.co]",
		"acme.*":     "[acme.co acme.com]",
		"a[b].com":   "[a[b].com]",
		"a?b?.com":   "[a[b].com]",
		"*":          "[a[b].com acme.co acme.com eu.acme.com mail.eu.acme.com mg.example.com notacme.com]",
	} {
		ds, err := db.MatchDomains(ctx, glob)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, d := range ds {
			names = append(names, d.Name)
		}
		if got := fmtList(names); got != want {
			t.Errorf("MatchDomains(%q) = %s, want %s", glob, got, want)
		}
	}
}

func TestFailureFilters(t *testing.T) {
	db, _ := mustOpen(t)
	w := mustWriter(t, db)
	a := ev(maildiag.Failed, "1", "a@acme.com", at(0))
	a.Subject = "100% off_today"
	b := ev(maildiag.Failed, "2", "b@gmail.com", at(time.Hour))
	b.Code, b.EnhancedCode, b.Class, b.Gateway = 421, "4.7.28", maildiag.ClassRateLimited, "Gmail"
	c := ev(maildiag.Failed, "3", "c@gmail.com", at(48*time.Hour))
	c.Subject = "100 percent off"
	add(t, w, a, b, c)
	ctx := context.Background()
	for name, tc := range map[string]struct {
		f    analyze.FailureFilter
		want string
	}{
		"all":            {analyze.FailureFilter{}, "[0 1 48]"},
		"code":           {analyze.FailureFilter{Codes: []int{550}}, "[0 48]"},
		"enhanced exact": {analyze.FailureFilter{Enhanced: []string{"4.7.28"}}, "[1]"},
		"enhanced pre":   {analyze.FailureFilter{Enhanced: []string{"5.1."}}, "[0 48]"},
		"class":          {analyze.FailureFilter{Classes: []string{maildiag.ClassRateLimited}}, "[1]"},
		"gateway":        {analyze.FailureFilter{Gateways: []string{"gmail"}}, "[1]"},
		"domain":         {analyze.FailureFilter{RecipientDomains: []string{"gmail.com"}}, "[1 48]"},
		"time":           {analyze.FailureFilter{From: time.UnixMicro(at(30 * time.Minute)), Until: time.UnixMicro(at(24 * time.Hour))}, "[1]"},
		"subject like":   {analyze.FailureFilter{SubjectContains: "0% off_"}, "[0]"},
	} {
		var ids []string
		err := db.Failures(ctx, tc.f, func(r *analyze.Failure) error {
			ids = append(ids, fmt.Sprint(r.Time.Sub(time.UnixMicro(at(0))).Hours()))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := fmtList(sorted(ids)); got != tc.want {
			t.Errorf("%s: got %s, want %s", name, got, tc.want)
		}
	}
}

func TestReadOnlyRefusesWrites(t *testing.T) {
	db, path := mustOpen(t)
	w := mustWriter(t, db)
	add(t, w, ev(maildiag.Accepted, "1", "a@acme.com", at(0)))
	ro, err := OpenReadOnly(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	for _, q := range []string{"DELETE FROM events", "UPDATE domains SET name = 'x'", "DROP TABLE events",
		"ATTACH DATABASE '" + filepath.Join(t.TempDir(), "x.db") + "' AS x", "PRAGMA query_only = 0; DELETE FROM events"} {
		rows, err := ro.Query(context.Background(), q)
		if err == nil {
			_, err = rows.Next()
			rows.Close()
		}
		if err == nil {
			t.Errorf("%q was not refused", q)
		}
	}
	if n := count(t, db, "SELECT COUNT(*) FROM events"); n != 1 {
		t.Errorf("events: %d after refused writes, want 1", n)
	}
}

// TestEventJSONScanDecodesEachBlockOnce: a full scan of event_json over
// 250,000 events took 105 s. It visits events in key order (day, then
// recipient, and a recipient's id starts with its domain's), which jumps
// between the blocks a day's events were written in; each jump decoded a
// block again, and read it out of its table for every event. Here eight
// recipient domains take turns over five blocks of one day: a scan decodes
// each block once.
func TestEventJSONScanDecodesEachBlockOnce(t *testing.T) {
	db, _ := mustOpen(t)
	w := mustWriter(t, db)
	var evs []maildiag.Event
	for i := range 4000 {
		rcpt := "a" + itoa(i) + "@d" + itoa(i%8) + ".example"
		e := ev(maildiag.Accepted, "id"+itoa(i), rcpt, at(time.Duration(i)*time.Second))
		e.Raw = append(e.Raw[:len(e.Raw)-1], []byte(`,"pad":"`+padding(i)+strings.Repeat("z", 1000)+`"}`)...)
		evs = append(evs, e)
	}
	add(t, w, evs...)
	blocks := count(t, db, "SELECT COUNT(*) FROM raw_blocks")
	if blocks < 4 || blocks > heldBlocks {
		t.Fatalf("%d raw blocks, want from 4 to %d", blocks, heldBlocks)
	}
	before := blocksDecoded.Load()
	rows, err := db.sql.Query("SELECT seq, json FROM event_json") // key order
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for rows.Next() {
		var seq int64
		var raw string
		if err := rows.Scan(&seq, &raw); err != nil {
			t.Fatal(err)
		}
		if raw != string(evs[seq-1].Raw) {
			t.Fatalf("event_json of seq %d differs from the input", seq)
		}
		n++
	}
	rows.Close()
	if n != len(evs) {
		t.Fatalf("%d events read, want %d", n, len(evs))
	}
	if d := blocksDecoded.Load() - before; d != int64(blocks) {
		t.Errorf("a scan of %d events in %d blocks decoded %d blocks, want each once", n, blocks, d)
	}
}

// New addresses go to the recent tables and are merged into the base
// tables once there are enough; reads see both halves alike, and the
// numbering of a domain goes on across them.
func TestRecentRecipientsMerge(t *testing.T) {
	ctx := context.Background()
	db, _ := mustOpen(t)
	w := mustWriter(t, db)
	w.dict.recentMin = 3
	half := func(table string) int64 { return count(t, db, "SELECT COUNT(*) FROM "+table) }
	add(t, w, ev(maildiag.Accepted, "1", "a@acme.com", at(0)), ev(maildiag.Accepted, "2", "b@other.org", at(0)))
	if b, r := half("recipients_base"), half("recipients_recent"); b != 0 || r != 2 {
		t.Fatalf("after 2 addresses: base %d, recent %d; want 0, 2", b, r)
	}
	add(t, w, ev(maildiag.Accepted, "3", "c@acme.com", at(0)))
	if b, r := half("recipients_base"), half("recipients_recent"); b != 3 || r != 0 {
		t.Fatalf("after 3 addresses: base %d, recent %d; want 3, 0 (merged)", b, r)
	}
	if b, r := half("recipient_keys_base"), half("recipient_keys_recent"); b != 3 || r != 0 {
		t.Fatalf("keys after the merge: base %d, recent %d; want 3, 0", b, r)
	}
	// Another writer finds merged addresses and numbers on after them.
	w2 := mustWriter(t, db)
	add(t, w2, ev(maildiag.Delivered, "4", "a@acme.com", at(time.Second)), ev(maildiag.Accepted, "5", "d@acme.com", at(0)))
	if b, r := half("recipients_base"), half("recipients_recent"); b != 3 || r != 1 {
		t.Fatalf("after d@acme.com: base %d, recent %d; want 3, 1", b, r)
	}
	if n := count(t, db, "SELECT COUNT(DISTINCT recipient_id) FROM events"); n != 4 {
		t.Errorf("events name %d recipients, want 4 (a@acme.com once)", n)
	}
	rs, err := db.Recipients(ctx, "acme.com", "")
	if err != nil {
		t.Fatal(err)
	}
	acme, _, _ := db.domainsWhere(ctx, "name = 'acme.com'")
	lo, _ := RecipientRange(acme[0])
	var got []string
	for i, r := range rs {
		got = append(got, r.Address)
		if int64(r.ID) != lo+1+int64(i) {
			t.Errorf("%s has id %d, want %d", r.Address, r.ID, lo+1+int64(i))
		}
	}
	if want := "[a@acme.com c@acme.com d@acme.com]"; fmtList(got) != want {
		t.Errorf("acme.com recipients %v, want %s", got, want)
	}
	for _, a := range []string{"a@acme.com", "d@acme.com"} {
		id, err := db.FindRecipient(ctx, a)
		if err != nil || id == 0 {
			t.Errorf("FindRecipient(%s) = %d, %v", a, id, err)
			continue
		}
		names, err := db.Addresses(ctx, []analyze.RecipientID{id})
		if err != nil || names[id] != a {
			t.Errorf("Addresses(%d) = %v, %v; want %s", id, names, err, a)
		}
	}
	if n := count(t, db, "SELECT COUNT(*) FROM events_full WHERE recipient IN ('a@acme.com', 'd@acme.com')"); n != 3 {
		t.Errorf("events_full names a@ and d@acme.com in %d events, want 3", n)
	}
	if n := count(t, db, "SELECT COUNT(*) FROM recipients r JOIN recipient_keys k ON k.id = r.id AND k.hash = addr_hash(r.address)"); n != 4 {
		t.Errorf("recipients with their key: %d, want 4", n)
	}
	if n := count(t, db, "SELECT COUNT(*) FROM recipient_keys_base WHERE hash2 IS NULL"); n != 0 {
		t.Errorf("%d merged keys lost their hash2", n)
	}
}

// An address the cache has dropped is looked up in the recent tables only
// when their filter may hold it: it holds what they hold, refilled after a
// merge in the transaction, and a writer reads it from them when it starts.
func TestRecentFilterHoldsTheRecentAddresses(t *testing.T) {
	ctx := context.Background()
	db, _ := mustOpen(t)
	w := mustWriter(t, db)
	w.dict.recentMin = 3
	w.chunks.min = 1 << 30
	addr := func(i int) string { return fmt.Sprintf("r%d@acme.com", i) }
	var first, second []maildiag.Event
	for i := range 7 {
		e := ev(maildiag.Accepted, "a"+itoa(i), addr(i), at(0))
		if i < 5 {
			first = append(first, e)
		} else {
			second = append(second, e)
		}
	}
	// One transaction: five addresses inserted and merged, two more after.
	if _, err := w.AddEvents(ctx, first, 0); err != nil {
		t.Fatal(err)
	}
	if err := w.flushChunks(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.AddEvents(ctx, second, 0); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if b, r := count(t, db, "SELECT COUNT(*) FROM recipients_base"), count(t, db, "SELECT COUNT(*) FROM recipients_recent"); b != 5 || r != 2 {
		t.Fatalf("base %d, recent %d addresses; want 5, 2", b, r)
	}
	holds := func(who string, d *dictionary) {
		t.Helper()
		for i := range 7 {
			if got, want := d.recent.mayHave(hash63(addr(i))), i >= 5; got != want {
				t.Errorf("%s: the recent filter holds %s: %v, want %v", who, addr(i), got, want)
			}
		}
	}
	holds("after the commit", &w.dict)

	// A new writer with nothing cached finds every address in its half.
	w2 := mustWriter(t, db)
	if err := w2.begin(ctx); err != nil {
		t.Fatal(err)
	}
	holds("a new writer", &w2.dict)
	// Past the cache's size, a writer reads the hashes alone.
	w3 := mustWriter(t, db)
	w3.dict.known.reset()
	w3.dict.recent.reset()
	if err := w3.dict.loadRecipients(w3, 7, false); err != nil {
		t.Fatal(err)
	}
	holds("a writer of hashes", &w3.dict)
	w3.Close()
	w2.dict.recips.clear()
	var again []maildiag.Event
	for i := range 7 {
		again = append(again, ev(maildiag.Delivered, "d"+itoa(i), addr(i), at(time.Second)))
	}
	add(t, w2, again...)
	if n := count(t, db, "SELECT COUNT(*) FROM recipients"); n != 7 {
		t.Errorf("%d addresses stored, want 7", n)
	}
	if n := count(t, db, "SELECT COUNT(DISTINCT recipient_id) FROM events"); n != 7 {
		t.Errorf("events name %d recipients, want 7", n)
	}
}

// A writer of an index past recipientFilterLimit does not read the filters
// (knownReady false), so it does not fill them with what it adds either,
// and it still finds every address and text again.
func TestFiltersStayEmptyWhenNotRead(t *testing.T) {
	ctx := context.Background()
	db, _ := mustOpen(t)
	w := mustWriter(t, db)
	if err := w.begin(ctx); err != nil {
		t.Fatal(err)
	}
	d, td := &w.dict, &w.texts
	d.knownReady, td.knownReady = false, false
	d.known.reset()
	d.recent.reset()
	td.known.reset()
	events := func(typ string) []maildiag.Event {
		var evs []maildiag.Event
		for i := range 5 {
			e := ev(typ, typ+itoa(i), fmt.Sprintf("f%d@acme.com", i), at(time.Duration(i)*time.Second))
			e.Subject = "Your order #" + itoa(i)
			evs = append(evs, e)
		}
		return evs
	}
	add(t, w, events(maildiag.Accepted)...)
	if len(d.known.layers)+len(d.recent.layers)+len(td.known.layers) != 0 {
		t.Errorf("filters not read were filled: %d, %d and %d layers", len(d.known.layers), len(d.recent.layers), len(td.known.layers))
	}
	d.recips.clear()
	td.ids.clear()
	add(t, w, events(maildiag.Delivered)...)
	if n := count(t, db, "SELECT COUNT(*) FROM recipients"); n != 5 {
		t.Errorf("%d addresses stored, want 5", n)
	}
	if n := count(t, db, "SELECT COUNT(*) FROM texts WHERE kind = 1"); n != 5 {
		t.Errorf("%d subjects stored, want 5", n)
	}
}

// A writer that looks a key up takes the row whose hash2 matches too, and
// checks a row without one (stored before hash2 was) against its address
// or text: a row that shares only the first hash is another string's.
func TestKeyLookupsCheckHash2(t *testing.T) {
	db, _ := mustOpen(t)
	w := mustWriter(t, db)
	add(t, w, withSubject(ev(maildiag.Accepted, "1", "a@acme.com", at(0)), "Your order"),
		withSubject(ev(maildiag.Accepted, "2", "b@acme.com", at(0)), "Welcome"))
	if n := count(t, db, "SELECT COUNT(*) FROM recipient_keys_recent WHERE hash2 IS NULL") +
		count(t, db, "SELECT COUNT(*) FROM text_keys WHERE hash2 IS NULL"); n != 0 {
		t.Fatalf("%d keys stored without hash2", n)
	}
	a := count(t, db, "SELECT id FROM recipients WHERE address = 'a@acme.com'")
	order := count(t, db, "SELECT id FROM texts WHERE text = 'Your order'")
	// b@acme.com and 'Welcome' as if stored before hash2; rows that share
	// the first hash of c@acme.com and 'Reset', one with another hash2,
	// one without, both pointing at other strings' rows.
	c, reset := hash63("c@acme.com"), textHash(textSubject, "Reset")
	for _, r := range [][]any{
		{"UPDATE recipient_keys_recent SET hash2 = NULL WHERE hash = ?", hash63("b@acme.com")},
		{"UPDATE text_keys SET hash2 = NULL WHERE hash = ?", textHash(textSubject, "Welcome")},
		{"INSERT INTO recipient_keys_recent(hash, id, hash2) VALUES (?, ?, 7)", c, a},
		{"INSERT INTO recipient_keys_recent(hash, id, hash2) VALUES (?, ?, NULL)", c, a + 1},
		{"INSERT INTO text_keys(hash, id, hash2) VALUES (?, ?, 7)", reset, order},
		{"INSERT INTO text_keys(hash, id, hash2) VALUES (?, ?, NULL)", reset, order + 1},
	} {
		if _, err := db.sql.Exec(r[0].(string), r[1:]...); err != nil {
			t.Fatal(err)
		}
	}
	// A writer with nothing cached looks every address and text up.
	w2 := mustWriter(t, db)
	w2.dict.recipsTried = true
	w2.texts.tried = true
	add(t, w2, withSubject(ev(maildiag.Delivered, "3", "a@acme.com", at(time.Second)), "Your order"),
		withSubject(ev(maildiag.Delivered, "4", "b@acme.com", at(time.Second)), "Welcome"),
		withSubject(ev(maildiag.Accepted, "5", "c@acme.com", at(0)), "Reset"))
	for _, c := range []struct {
		q    string
		want int64
	}{
		{"SELECT COUNT(*) FROM recipients", 3},
		{"SELECT COUNT(*) FROM texts WHERE kind = 1", 3},
		{"SELECT COUNT(DISTINCT recipient_id) FROM events", 3},
		{"SELECT COUNT(DISTINCT subject_id) FROM events", 3},
		{"SELECT COUNT(*) FROM events e JOIN recipients r ON r.id = e.recipient_id JOIN texts t ON t.id = e.subject_id WHERE r.address = 'c@acme.com' AND t.text = 'Reset'", 1},
	} {
		if n := count(t, db, c.q); n != c.want {
			t.Errorf("%s: %d, want %d", c.q, n, c.want)
		}
	}
}

// A writer on an index with too many texts to read whole reads their
// hashes: a subject it has not seen is new without a lookup, a stored one
// is found, and none is stored twice.
func TestTextFilterFromHashes(t *testing.T) {
	db, _ := mustOpen(t)
	w := mustWriter(t, db)
	add(t, w, withSubject(ev(maildiag.Accepted, "1", "a@acme.com", at(0)), "Your order"),
		withSubject(ev(maildiag.Accepted, "2", "b@acme.com", at(0)), "Reset your password"))
	w2 := mustWriter(t, db)
	w2.texts.tried = true
	if err := w2.texts.loadTexts(w2, 2, false); err != nil {
		t.Fatal(err)
	}
	if w2.texts.ids.n != 0 || !w2.texts.known.mayHave(textHash(textSubject, "Your order")) {
		t.Fatalf("after reading hashes: %d cached, 'Your order' in the filter: %v; want 0 and true",
			w2.texts.ids.n, w2.texts.known.mayHave(textHash(textSubject, "Your order")))
	}
	if n := add(t, w2, withSubject(ev(maildiag.Accepted, "3", "c@acme.com", at(0)), "Your order"),
		withSubject(ev(maildiag.Accepted, "4", "d@acme.com", at(0)), "Welcome")); n != 2 {
		t.Fatalf("stored %d, want 2", n)
	}
	if n := count(t, db, "SELECT COUNT(*) FROM texts WHERE kind = 1"); n != 3 {
		t.Errorf("subjects: %d, want 3 ('Your order' once)", n)
	}
	if n := count(t, db, "SELECT COUNT(DISTINCT subject_id) FROM events WHERE recipient_id IN (SELECT id FROM recipients WHERE address IN ('a@acme.com', 'c@acme.com'))"); n != 1 {
		t.Errorf("a@ and c@acme.com's subjects have %d ids, want 1", n)
	}
	if n := count(t, db, "SELECT COUNT(*) FROM texts t JOIN text_keys k ON k.id = t.id AND k.hash = ?", textHash(textSubject, "Welcome")); n != 1 {
		t.Errorf("'Welcome' found by its hash %d times, want 1", n)
	}
}

// TestFailuresInOrder: a read over many days, each day more failures than
// a reader hands on at once, gives every failure once, day by day and,
// within a day, by recipient, as the store promises (the days are read
// on several connections at once).
func TestFailuresInOrder(t *testing.T) {
	db, _ := mustOpen(t)
	w := mustWriter(t, db)
	const days, perDay = 9, 700
	var evs []maildiag.Event
	for d := range days {
		for i := range perDay {
			// Recipients out of order within the day, at varied domains.
			n := (i * 7919) % perDay
			evs = append(evs, ev(maildiag.Failed, fmt.Sprintf("f%d-%d", d, i), fmt.Sprintf("u%d@d%d.example", n, n%13),
				at(time.Duration(d)*24*time.Hour+time.Duration(i)*time.Second)))
		}
	}
	add(t, w, evs...)
	for _, procs := range []int{1, 2, 4} {
		old := runtime.GOMAXPROCS(procs)
		var got []analyze.Ref
		err := db.Failures(context.Background(), analyze.FailureFilter{}, func(f *analyze.Failure) error {
			got = append(got, f.Ref)
			return nil
		})
		runtime.GOMAXPROCS(old)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != days*perDay {
			t.Fatalf("GOMAXPROCS %d: %d failures, want %d", procs, len(got), days*perDay)
		}
		seen := map[analyze.Ref]bool{}
		for i, r := range got {
			if seen[r] {
				t.Fatalf("GOMAXPROCS %d: %v read twice", procs, r)
			}
			seen[r] = true
			if i > 0 && (r[0] < got[i-1][0] || r[0] == got[i-1][0] && r[1] < got[i-1][1]) {
				t.Fatalf("GOMAXPROCS %d: failure %d (%v) after %v", procs, i, r, got[i-1])
			}
		}
	}
}

// A domain's details are the latest delivery attempt's, whatever order the
// attempts arrive in, and within one transaction as across several.
func TestDomainDetailsAreTheLatestWord(t *testing.T) {
	db, _ := mustOpen(t)
	w := mustWriter(t, db)
	route := func(e maildiag.Event, provider, gateway, mx string) maildiag.Event {
		e.Provider, e.Gateway, e.MXHost = provider, gateway, mx
		return e
	}
	// expect checks the stored details after step.
	expect := func(step, provider, gateway, mx string, ts int64) {
		t.Helper()
		var p, g, m string
		var seen int64
		if err := db.sql.QueryRow(`SELECT provider, gateway, mx_host, seen_at FROM domains WHERE name = 'acme.example'`).Scan(&p, &g, &m, &seen); err != nil {
			t.Fatal(err)
		}
		got, want := fmt.Sprintf("%s %s %s %d", p, g, m, seen), fmt.Sprintf("%s %s %s %d", provider, gateway, mx, ts)
		if got != want {
			t.Errorf("after %s: got %q, want %q", step, got, want)
		}
	}

	// Two routes in one transaction, the later first.
	add(t, w,
		route(ev(maildiag.Delivered, "b", "b@acme.example", at(2*time.Hour)), "Acme", "Acme", "mx2.acme.example"),
		route(ev(maildiag.Delivered, "a", "a@acme.example", at(time.Hour)), "Acme", "Acme", "mx1.acme.example"))
	expect("one transaction", "Acme", "Acme", "mx2.acme.example", at(2*time.Hour))
	// An older attempt by the other route changes nothing, nor does a newer
	// one by the same route (the stored time is when the route was first
	// the latest word); a newer one that differs in the gateway alone is the
	// new word.
	add(t, w, route(ev(maildiag.Failed, "c", "c@acme.example", at(90*time.Minute)), "Acme", "Acme", "mx1.acme.example"))
	expect("an older attempt", "Acme", "Acme", "mx2.acme.example", at(2*time.Hour))
	add(t, w, route(ev(maildiag.Delivered, "d", "d@acme.example", at(3*time.Hour)), "Acme", "Acme", "mx2.acme.example"))
	expect("a newer attempt on the same route", "Acme", "Acme", "mx2.acme.example", at(2*time.Hour))
	add(t, w, route(ev(maildiag.Delivered, "e", "e@acme.example", at(4*time.Hour)), "Acme", "Other", "mx2.acme.example"))
	expect("a newer attempt by another gateway", "Acme", "Other", "mx2.acme.example", at(4*time.Hour))
}
