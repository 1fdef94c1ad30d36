package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/index"
)

// Status says what syncs have read, and warns when the last one is old
// enough for Mailgun's retention to lose events.
func TestStatusSyncs(t *testing.T) {
	db := tempDB(t)
	ctx := context.Background()
	idx, err := index.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	w, err := idx.NewWriter(ctx)
	if err != nil {
		t.Fatal(err)
	}
	synced := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	r := maildiag.Range{FromUS: synced.Add(-48 * time.Hour).UnixMicro(), ToUS: synced.Add(-30 * time.Minute).UnixMicro()}
	if err := w.AddSyncedRange(ctx, "mg.example.com", "events", r, synced.UnixMicro()); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	w.Close()
	idx.Close()
	code, out, errs := run(t, "", "--db", db, "--output", "json", "status")
	if code != 0 {
		t.Fatalf("status: %s", errs)
	}
	var st struct {
		Syncs []struct {
			SendingDomain string `json:"sending_domain"`
			ToUS          int64  `json:"to_us"`
		} `json:"syncs"`
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil || len(st.Syncs) != 1 || st.Syncs[0].ToUS != r.ToUS {
		t.Fatalf("syncs %+v %v", st.Syncs, err)
	}
	_, out, _ = run(t, "", "--db", db, "--now", synced.Add(10*24*time.Hour).Format(time.RFC3339), "status")
	if !strings.Contains(out, "last sync 10 days ago") {
		t.Errorf("no warning about an old sync:\n%s", out)
	}
}
