package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/maildiag/maildiag/internal/pgtest"
)

// retention lists the months before the cutoff without touching them,
// then with --apply takes their events, failures and counts out together
// and leaves the months it keeps; a SQLite index is refused.
func TestPostgresRetention(t *testing.T) {
	u := pgIndex(t)
	files := []string{samples + "/events.jsonl", samples + "/webhooks.jsonl"}
	if code, _, errs := run(t, "", append([]string{"--db", u, "import"}, files...)...); code != 0 {
		t.Fatalf("import: exit %d: %s", code, errs)
	}
	conn := pgtest.Conn(t, u)
	count := func(q string) int64 {
		t.Helper()
		var n int64
		if err := conn.QueryRow(context.Background(), q).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	total := count(`SELECT COUNT(*) FROM events`)
	var months []string
	rows, err := conn.Query(context.Background(), `SELECT DISTINCT to_char(DATE '1970-01-01' + day, 'YYYY-MM') FROM events ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var m string
		rows.Scan(&m)
		months = append(months, m)
	}
	if rows.Err() != nil || len(months) < 2 {
		t.Fatalf("the samples should span two months or more: %v %v", months, rows.Err())
	}
	// Keep only the newest month of the samples: --now is in it.
	now := months[len(months)-1] + "-15T00:00:00Z"
	var old int64
	for _, m := range months[:len(months)-1] {
		old += count(`SELECT COUNT(*) FROM events WHERE to_char(DATE '1970-01-01' + day, 'YYYY-MM') = '` + m + `'`)
	}

	type result struct {
		Applied bool `json:"applied"`
		Months  []struct {
			Month string `json:"month"`
		} `json:"months"`
		Kept int `json:"months_kept"`
	}
	retention := func(args ...string) result {
		t.Helper()
		code, out, errs := run(t, "", append([]string{"--db", u, "--now", now, "--output", "json", "retention", "--keep-months", "1"}, args...)...)
		noSecret(t, "retention", out, errs)
		if code != 0 {
			t.Fatalf("retention %v: exit %d: %s", args, code, errs)
		}
		var r result
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("retention JSON %q: %v", out, err)
		}
		return r
	}
	dry := retention()
	if dry.Applied || len(dry.Months) != len(months)-1 || dry.Kept != 1 {
		t.Fatalf("dry run: %+v, months %v", dry, months)
	}
	if n := count(`SELECT COUNT(*) FROM events`); n != total {
		t.Fatalf("a dry run changed the events: %d, was %d", n, total)
	}
	done := retention("--apply")
	if !done.Applied || len(done.Months) != len(months)-1 {
		t.Fatalf("apply: %+v", done)
	}
	if n := count(`SELECT COUNT(*) FROM events`); n != total-old || n == 0 {
		t.Fatalf("after retention %d events, want %d", n, total-old)
	}
	if n, m := count(`SELECT COALESCE(SUM(n), 0)::bigint FROM daily_counts`), count(`SELECT COUNT(*) FROM events`); n != m {
		t.Fatalf("daily counts sum to %d, %d events left", n, m)
	}
	if n := count(`SELECT COUNT(*) FROM failures f WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.day = f.day AND e.recipient_id = f.recipient_id AND e.type_id = f.type_id AND e.event_id = f.event_id)`); n != 0 {
		t.Fatalf("%d failures without their event", n)
	}
	if again := retention("--apply"); len(again.Months) != 0 {
		t.Fatalf("a second run found %d months", len(again.Months))
	}

	code, _, _ := run(t, "", "--db", filepath.Join(t.TempDir(), "index.db"), "retention", "--keep-months", "1")
	if code != 2 {
		t.Fatalf("retention on SQLite: exit %d, want 2", code)
	}
}
