package index

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/analyze"
	"github.com/maildiag/maildiag/reclassify"
)

// TestBackfillTextsOfPre0004Index opens an index that a maildiag of schema
// version 3 built from the real Mailgun samples (testdata/pre0004.db:
// /work/shared/samples/events.jsonl imported by the build before migration
// 0004), and checks that its events are found by their texts only once
// the backfill gave them their ids, and that a second run reads nothing.
func TestBackfillTextsOfPre0004Index(t *testing.T) {
	ctx := context.Background()
	data, err := os.ReadFile("testdata/pre0004.db")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "old.db")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	count := func(f analyze.EventFilter) int {
		t.Helper()
		n := 0
		if _, err := db.SearchEvents(ctx, f, func(*maildiag.Event) error { n++; return nil }); err != nil {
			t.Fatal(err)
		}
		return n
	}
	all := count(analyze.EventFilter{})
	if all != 38 {
		t.Fatalf("the old index lists %d events, want its 38", all)
	}
	if pending, err := db.TextsPending(ctx); err != nil || !pending {
		t.Fatalf("TextsPending = %v, %v; want true after migrating a pre-0004 index", pending, err)
	}
	filters := []struct {
		name string
		f    analyze.EventFilter
		want int
	}{
		{"subject", analyze.EventFilter{Subject: "test subject"}, 0},
		{"from", analyze.EventFilter{From: "bob@"}, 0},
		{"sending ip", analyze.EventFilter{SendingIPs: []string{"209.61.154.250"}}, 0},
	}
	for i := range filters {
		if got := count(filters[i].f); got != 0 {
			t.Fatalf("before the backfill, %s finds %d events; the test needs an index without text ids", filters[i].name, got)
		}
	}
	// What the JSON says, counted by reading every event whole.
	var evs []maildiag.Event
	if _, err := db.SearchEvents(ctx, analyze.EventFilter{}, func(e *maildiag.Event) error { evs = append(evs, *e); return nil }); err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		if containsFold(e.Subject, "test subject") {
			filters[0].want++
		}
		if containsFold(e.From, "bob@") {
			filters[1].want++
		}
		if e.SendingIP == "209.61.154.250" {
			filters[2].want++
		}
	}
	for _, f := range filters {
		if f.want == 0 {
			t.Fatalf("no sample event has the %s the test looks for", f.name)
		}
	}

	w := mustWriter(t, db)
	n, err := reclassify.BackfillTexts(ctx, db, w, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n != all {
		t.Errorf("backfill read %d events, want %d", n, all)
	}
	for _, f := range filters {
		if got := count(f.f); got != f.want {
			t.Errorf("after the backfill, %s finds %d events, want %d", f.name, got, f.want)
		}
	}
	// The IP split counts every event with a sending IP, as an import would.
	withIP := 0
	for _, e := range evs {
		if e.SendingIP != "" {
			withIP++
		}
	}
	var split int
	if err := db.sql.QueryRowContext(ctx, `SELECT COALESCE(SUM(n), 0) FROM split_counts s JOIN texts t ON t.id = s.text_id WHERE t.kind = ?`, textIP).Scan(&split); err != nil {
		t.Fatal(err)
	}
	if withIP == 0 || split != withIP {
		t.Errorf("after the backfill, the IP split counts %d events; %d have a sending IP", split, withIP)
	}
	if pending, err := db.TextsPending(ctx); err != nil || pending {
		t.Errorf("TextsPending = %v, %v after the backfill; want false", pending, err)
	}
	if n, err := reclassify.BackfillTexts(ctx, db, w, nil); err != nil || n != 0 {
		t.Errorf("a second backfill read %d events (%v), want 0", n, err)
	}
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}
