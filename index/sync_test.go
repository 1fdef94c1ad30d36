package index

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/maildiag/maildiag"
)

func TestSyncedRangesMerge(t *testing.T) {
	db, _ := mustOpen(t)
	w := mustWriter(t, db)
	ctx := context.Background()
	for _, r := range []maildiag.Range{{FromUS: 10, ToUS: 20}, {FromUS: 30, ToUS: 40}, {FromUS: 20, ToUS: 25}, {FromUS: 35, ToUS: 50}, {FromUS: 60, ToUS: 60}, {FromUS: 5, ToUS: 8}} {
		if err := w.AddSyncedRange(ctx, "mg.example.com", "events", r, 1); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.AddSyncedRange(ctx, "mg.example.com", "logs", maildiag.Range{FromUS: 0, ToUS: 100}, 1); err != nil {
		t.Fatal(err)
	}
	w.Commit(ctx)
	got, err := db.SyncedRanges(ctx, "mg.example.com", "events")
	if err != nil {
		t.Fatal(err)
	}
	if want := "[{5 8} {10 25} {30 50}]"; fmt.Sprint(got) != want {
		t.Errorf("ranges %v, want %s (empty ranges dropped, sources apart)", got, want)
	}
	if n := count(t, db, "SELECT COUNT(*) FROM sync_ranges WHERE source = 'events'"); n != 3 {
		t.Errorf("%d stored ranges, want them merged into 3", n)
	}
}

func TestListSnapshotMarksRemovals(t *testing.T) {
	db, _ := mustOpen(t)
	w := mustWriter(t, db)
	ctx := context.Background()
	entry := func(addr string) maildiag.Suppression {
		return maildiag.Suppression{SendingDomain: "mg.example.com", List: maildiag.ListBounces, Address: addr, CreatedUS: at(0)}
	}
	snapshot := func(seen time.Duration, addrs ...string) int {
		var ss []maildiag.Suppression
		for _, a := range addrs {
			ss = append(ss, entry(a))
		}
		if _, err := w.AddSuppressions(ctx, ss, 0, at(seen)); err != nil {
			t.Fatal(err)
		}
		n, err := w.FinishListSync(ctx, "mg.example.com", maildiag.ListBounces, at(seen))
		if err != nil {
			t.Fatal(err)
		}
		w.Commit(ctx)
		return n
	}
	snapshot(time.Hour, "a@acme.com", "b@acme.com")
	if n := snapshot(2*time.Hour, "a@acme.com"); n != 1 {
		t.Errorf("second snapshot removed %d, want 1 (b@)", n)
	}
	removed := count(t, db, "SELECT COUNT(*) FROM suppressions WHERE address = 'b@acme.com' AND removed_at = ?", at(2*time.Hour))
	if removed != 1 {
		t.Errorf("b@ not marked removed at the second snapshot")
	}
	// Back on the list: listed again, one row.
	snapshot(3*time.Hour, "a@acme.com", "b@acme.com")
	if n := count(t, db, "SELECT COUNT(*) FROM suppressions WHERE removed_at IS NULL"); n != 2 {
		t.Errorf("%d listed after b@ came back, want 2", n)
	}
	if n := count(t, db, "SELECT COUNT(*) FROM suppressions"); n != 2 {
		t.Errorf("%d rows, want 2 (history kept in one row per entry)", n)
	}
	syncs, err := db.ListSyncs(ctx)
	if err != nil || len(syncs) != 1 || syncs[0].SyncedUS != at(3*time.Hour) {
		t.Errorf("list syncs %+v %v", syncs, err)
	}
}
