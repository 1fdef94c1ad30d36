package main

import (
	"bytes"
	"context"
	"encoding/json"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/maildiag/maildiag/internal/mgtest"
	"github.com/maildiag/maildiag/internal/pgtest"
	"github.com/maildiag/maildiag/mgserver"
	"github.com/maildiag/maildiag/syncer"
)

// pgEventKeys are the stored events as "type id recipient", sorted.
func pgEventKeys(t *testing.T, u string) []string {
	t.Helper()
	rows, err := pgtest.Conn(t, u).Query(context.Background(), `
		SELECT t.name || ' ' || e.event_id || ' ' || COALESCE(r.address, '') FROM events e
		JOIN event_types t ON t.id = e.type_id LEFT JOIN recipients r ON r.id = e.recipient_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			t.Fatal(err)
		}
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// accountKeys are the server's events of the domains, as pgEventKeys.
func accountKeys(s *mgtest.Server, domains []string) []string {
	var out []string
	for _, d := range domains {
		for _, e := range s.Acct.Events(d) {
			out = append(out, e.Type+" "+e.ID+" "+strings.ToLower(e.Recipient))
		}
	}
	sort.Strings(out)
	return out
}

// Two syncs of the same account into one PostgreSQL index at once, each
// with several workers over the same windows, store every event of the
// server exactly once, count each new event in exactly one of them, keep
// the counts equal to the events, and leave one merged range per domain.
func TestPostgresTwoSyncsAtOnce(t *testing.T) {
	domains := mgtest.Domains[:2]
	s := mgtest.New(t, mgtest.Config(3000, domains...), mgserver.Options{})
	u := pgIndex(t)
	var wg sync.WaitGroup
	type res struct {
		code int
		sum  *syncer.Summary
		errs string
	}
	out := make([]res, 2)
	for i := range out {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, sum, errs := syncCmdQuiet(s, u, "--since", "8d", "--workers", "4", "--no-suppressions")
			out[i] = res{code, sum, errs}
		}()
	}
	wg.Wait()
	newEvents := 0
	for i, r := range out {
		noSecret(t, "sync", r.errs)
		if r.code != 0 || r.sum == nil {
			t.Fatalf("sync %d: exit %d: %s", i, r.code, r.errs)
		}
		for _, d := range r.sum.Domains {
			newEvents += d.EventsNew
		}
	}
	want := accountKeys(s, domains)
	got := pgEventKeys(t, u)
	if len(want) == 0 || strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("stored %d events, the server has %d (or they differ)", len(got), len(want))
	}
	if newEvents != len(want) {
		t.Fatalf("the two syncs counted %d new events, %d are stored", newEvents, len(want))
	}
	conn := pgtest.Conn(t, u)
	var counted, ranges int64
	if err := conn.QueryRow(context.Background(), `SELECT SUM(n)::bigint FROM daily_counts`).Scan(&counted); err != nil || counted != int64(len(want)) {
		t.Fatalf("daily counts sum to %d (%v), %d events stored", counted, err, len(want))
	}
	if err := conn.QueryRow(context.Background(), `SELECT COUNT(*) FROM sync_ranges`).Scan(&ranges); err != nil || ranges != int64(len(domains)) {
		t.Fatalf("%d sync ranges (%v), want one per domain", ranges, err)
	}

	// A third sync finds nothing new; suppression lists are snapshotted.
	code, sum, errs := syncCmdQuiet(s, u, "--since", "8d")
	if code != 0 || sum == nil {
		t.Fatalf("third sync: exit %d: %s", code, errs)
	}
	for _, d := range sum.Domains {
		if d.EventsNew != 0 {
			t.Fatalf("third sync: %d new events of %s", d.EventsNew, d.Domain)
		}
	}
	var lists int64
	if err := conn.QueryRow(context.Background(), `SELECT COUNT(*) FROM list_syncs`).Scan(&lists); err != nil || lists == 0 {
		t.Fatalf("%d list syncs recorded (%v)", lists, err)
	}
}

// syncCmdQuiet is syncCmd for a goroutine: it never fails the test
// itself; output that is not a summary comes back as a nil summary.
func syncCmdQuiet(s *mgtest.Server, db string, args ...string) (int, *syncer.Summary, string) {
	all := append([]string{"--db", db, "--now", s.Res.End.UTC().Format(time.RFC3339Nano), "--output", "json",
		"sync", "--api-base", s.URL, "--api-key", mgtest.Key, "--retry-delay", "5ms"}, args...)
	var out, errb bytes.Buffer
	code := Run(context.Background(), all, strings.NewReader(""), &out, &errb)
	var sum *syncer.Summary
	if json.Unmarshal(out.Bytes(), &sum) != nil {
		sum = nil
	}
	return code, sum, errb.String()
}
