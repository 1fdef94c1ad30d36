package index

import (
	"context"
	"testing"

	"github.com/maildiag/maildiag"
)

// TestInterruptedImport: an import whose writer went away without
// finishing it (its process killed) stayed "running" in status for ever.
// While its writer is open it is running, also to a reader in the same
// process; once the writer is gone it is interrupted, and the next import
// records it so.
func TestInterruptedImport(t *testing.T) {
	if !byteLocks {
		t.Skip("no byte locks on this system: an import stays running")
	}
	ctx := context.Background()
	db, path := mustOpen(t)
	w, err := db.NewWriter(ctx)
	if err != nil {
		t.Fatal(err)
	}
	imp, err := w.StartImport(ctx, "cut.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	ro, err := OpenReadOnly(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	status := func() (string, string) {
		t.Helper()
		imps, err := ro.Imports(ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		for _, im := range imps {
			if im.ID == imp.ID {
				return im.Status, im.Error
			}
		}
		t.Fatalf("import %d not listed", imp.ID)
		return "", ""
	}
	if st, _ := status(); st != maildiag.ImportRunning {
		t.Errorf("while its writer is open: %q, want running", st)
	}
	w.Close() // as a kill -9 would: no SaveImport, the lock released
	if st, msg := status(); st != maildiag.ImportInterrupted || msg == "" {
		t.Errorf("after its writer is gone: %q (%q), want interrupted with a message", st, msg)
	}
	// The next import records it, for every reader of the table.
	w2 := mustWriter(t, db)
	if _, err := w2.StartImport(ctx, "next.jsonl"); err != nil {
		t.Fatal(err)
	}
	rows, err := ro.Query(ctx, "SELECT status FROM imports WHERE id = ?", imp.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	r, err := rows.Next()
	if err != nil || r == nil || r[0] != maildiag.ImportInterrupted {
		t.Errorf("stored status %v (%v), want interrupted", r, err)
	}
}
