package index

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/maildiag/maildiag"
)

// Prepared batches store as the same events added plain would, and each
// batch's prepared slice serves a later batch once stored.
func TestPreparedSlicesReused(t *testing.T) {
	ctx := context.Background()
	db, _ := mustOpen(t)
	w := mustWriter(t, db)
	var first *preparedEvent
	reused := false
	for b := range 4 {
		var evs []maildiag.Event
		for i := range 100 {
			n := b*100 + i
			evs = append(evs, withSubject(ev(maildiag.Delivered, fmt.Sprintf("d%d", n), fmt.Sprintf("r%d@acme.com", n%150), at(time.Duration(n)*time.Second)), fmt.Sprintf("s%d", n%7)))
		}
		ps := w.PrepareEvents(evs).([]preparedEvent)
		if b == 0 {
			first = &ps[0]
		} else if &ps[0] == first {
			reused = true
		}
		if n, err := w.AddPreparedEvents(ctx, evs, ps, 0); err != nil || n != 100 {
			t.Fatalf("batch %d: stored %d, %v; want 100", b, n, err)
		}
	}
	if err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if !reused {
		t.Error("no batch reused the first batch's prepared slice")
	}
	rows, err := db.sql.QueryContext(ctx, `SELECT COUNT(*), COUNT(DISTINCT recipient_id), COUNT(DISTINCT subject_id) FROM events`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var n, rcpts, subjects int
	for rows.Next() {
		if err := rows.Scan(&n, &rcpts, &subjects); err != nil {
			t.Fatal(err)
		}
	}
	if n != 400 || rcpts != 150 || subjects != 7 {
		t.Errorf("stored %d events, %d recipients, %d subjects; want 400, 150, 7", n, rcpts, subjects)
	}
}
