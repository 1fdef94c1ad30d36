package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/maildiag/maildiag/internal/pgtest"
	"github.com/maildiag/maildiag/synth"
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
	count := counter(t, conn)
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

// Dropping months deletes the JSON blocks whose every event was in them
// and keeps the blocks of the months kept: two imports, one of a month
// before the cutoff and one after, each write blocks of their own.
func TestPostgresRetentionBlocks(t *testing.T) {
	u := pgIndex(t)
	dir := t.TempDir()
	for i, end := range []time.Time{time.Date(2026, 9, 25, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)} {
		file := filepath.Join(dir, fmt.Sprintf("events-%d.jsonl", i))
		f, err := os.Create(file)
		if err != nil {
			t.Fatal(err)
		}
		cfg := synth.Config{Seed: int64(i + 1), Events: 3000, Days: 10, End: end, NoStories: true}
		if _, err := synth.Write(context.Background(), f, cfg, synth.Output{Format: synth.FormatEventsJSONL}); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		if code, _, errs := run(t, "", "--db", u, "import", file); code != 0 {
			t.Fatalf("import %s: exit %d: %s", file, code, errs)
		}
	}
	count := counter(t, pgtest.Conn(t, u))
	const kept = `SELECT COUNT(DISTINCT raw_block) FROM events WHERE day >= 20758` // 2026-11-01
	blocks, keptBlocks := count(`SELECT COUNT(*) FROM raw_blocks`), count(kept)
	if keptBlocks == 0 || blocks <= keptBlocks {
		t.Fatalf("%d blocks, %d of November's events: the test needs blocks on both sides of the cutoff", blocks, keptBlocks)
	}
	if code, _, errs := run(t, "", "--db", u, "--now", "2026-11-25T00:00:00Z", "retention", "--keep-months", "1", "--apply"); code != 0 {
		t.Fatalf("retention: exit %d: %s", code, errs)
	}
	if n := count(`SELECT COUNT(*) FROM events WHERE day < 20758`); n != 0 {
		t.Fatalf("%d events before November left", n)
	}
	if n := count(`SELECT COUNT(*) FROM raw_blocks`); n != keptBlocks {
		t.Errorf("%d blocks after retention, want November's %d", n, keptBlocks)
	}
	if n := count(`SELECT COUNT(*) FROM events e WHERE e.raw_block IS NOT NULL AND NOT EXISTS (SELECT 1 FROM raw_blocks b WHERE b.id = e.raw_block)`); n != 0 {
		t.Errorf("%d events kept lost their JSON block", n)
	}
	// What is left reads whole: every kept event's original JSON.
	code, out, errs := run(t, "", "--db", u, "--now", "2026-11-25T00:00:00Z", "events", "--since", "2026-11-01", "--output", "jsonl", "--raw")
	if code != 0 {
		t.Fatalf("events after retention: exit %d: %s", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if want := count(`SELECT COUNT(*) FROM events`); int64(len(lines)) != want {
		t.Fatalf("events --raw wrote %d lines, %d events kept", len(lines), want)
	}
	for i, l := range lines {
		var ev struct {
			Event string `json:"event"`
		}
		if err := json.Unmarshal([]byte(l), &ev); err != nil || ev.Event == "" {
			t.Fatalf("line %d is not an event's JSON (%v): %.200s", i+1, err, l)
		}
	}
}

// counter runs a query that counts, failing the test on an error.
func counter(t *testing.T, conn *pgx.Conn) func(q string) int64 {
	return func(q string) int64 {
		t.Helper()
		var n int64
		if err := conn.QueryRow(context.Background(), q).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
}
