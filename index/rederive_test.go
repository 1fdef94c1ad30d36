package index

import (
	"context"
	"testing"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/analyze"
)

// After a re-derivation changes a failure's gateway, events --gateway finds
// the event under the new gateway, not the old one (its route text holds
// the gateway).
func TestSetFailureClassMovesTheRoute(t *testing.T) {
	ctx := context.Background()
	db, _ := mustOpen(t)
	w := mustWriter(t, db)
	f := ev(maildiag.Failed, "f1", "ann@acme.example", at(0))
	f.Provider = "Acme Mail"
	add(t, w, f, ev(maildiag.Delivered, "d1", "bob@acme.example", at(1e9)))
	find := func(gw string) []string {
		t.Helper()
		var ids []string
		if _, err := db.SearchEvents(ctx, analyze.EventFilter{Gateway: gw}, func(e *maildiag.Event) error {
			ids = append(ids, e.ID)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return ids
	}
	if got := find("Example"); len(got) != 2 {
		t.Fatalf("before: --gateway Example finds %v, want both events", got)
	}
	var ref analyze.Ref
	if err := db.sql.QueryRow(`SELECT day, recipient_id, id_hash FROM failures`).Scan(&ref[0], &ref[1], &ref[2]); err != nil {
		t.Fatal(err)
	}
	if err := w.SetFailureClass(ctx, ref, maildiag.ClassPolicyBlock, "test", "Mimecast"); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if got := find("Mimecast"); len(got) != 1 || got[0] != "f1" {
		t.Errorf("after: --gateway Mimecast finds %v, want [f1]", got)
	}
	if got := find("Example"); len(got) != 1 || got[0] != "d1" {
		t.Errorf("after: --gateway Example finds %v, want only the delivered [d1]", got)
	}
	var class string
	if _, err := db.SearchEvents(ctx, analyze.EventFilter{Gateway: "Mimecast", Classes: []string{maildiag.ClassPolicyBlock}}, func(e *maildiag.Event) error {
		class = e.Class + " " + e.Gateway
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if class != maildiag.ClassPolicyBlock+" Mimecast" {
		t.Errorf("the re-derived failure lists as %q", class)
	}
}
