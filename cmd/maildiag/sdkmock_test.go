package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/mailgun/mailgun-go/v5"
	"github.com/mailgun/mailgun-go/v5/mocks"
	"github.com/mailgun/mailgun-go/v5/mtypes"

	"github.com/maildiag/maildiag/index"
	"github.com/maildiag/maildiag/internal/testkit"
	"github.com/maildiag/maildiag/syncer"
)

// Against Mailgun's own SDK mock server (mailgun-go v5's mocks, on
// loopback): it has no Logs API, so sync falls back to the Events API and
// says so; it has no allowlist, so that list is a warning; its events,
// bounces, complaints and unsubscribes are synced exactly, and
// suppressions remove deletes through it.
func TestSyncAgainstSDKMockServer(t *testing.T) {
	ms := mocks.NewServer()
	t.Cleanup(ms.Stop)
	const domain, key = "mailgun.test", "key-SDKMOCK-0123456789"
	mg := mailgun.NewMailgun(key)
	if err := mg.SetAPIBase(ms.URL()); err != nil {
		t.Fatal(err)
	}
	mg.SetHTTPClient(&http.Client{Timeout: 10 * time.Second})
	ctx := context.Background()
	want := map[string]bool{} // list address
	for _, u := range ms.Unsubscribes() {
		want["unsubscribes "+u.Address] = true
	}
	bit := mg.ListBounces(domain, nil)
	var page, bounces []mtypes.Bounce
	for bit.Next(ctx, &page) {
		for _, b := range page {
			want["bounces "+b.Address] = true
		}
		bounces = append(bounces, page...)
	}
	cit := mg.ListComplaints(domain, nil)
	var complaints []mtypes.Complaint
	for cit.Next(ctx, &complaints) {
		for _, c := range complaints {
			want["complaints "+c.Address] = true
		}
	}
	if bit.Err() != nil || cit.Err() != nil || len(want) < 4 {
		t.Fatalf("the mock's lists: %v %v, %d entries", bit.Err(), cit.Err(), len(want))
	}

	db := tempDB(t)
	// The mock stamps its events with the time it started, and ignores
	// the range asked: one window over the last hour reads each once.
	code, out, errs := run(t, "", "--db", db, "--output", "json", "sync", "--api-base", ms.URL(), "--api-key", key,
		"--since", "1h", "--window", "1h", "--late-threshold", "0s")
	var sum syncer.Summary
	if code != 0 || json.Unmarshal([]byte(out), &sum) != nil {
		t.Fatalf("sync: exit %d, stderr %q, stdout %s", code, errs, out)
	}
	t.Logf("sync against the SDK mock server: %s", out)
	if sum.Source != "events" || !strings.Contains(sum.Note, "Logs API refused the account (404") {
		t.Errorf("source %q, note %q: want the Events API after the Logs API's 404", sum.Source, sum.Note)
	}
	if len(sum.Warnings) != 1 || sum.Warnings[0].List != "allowlist" || sum.Warnings[0].Status != 404 {
		t.Errorf("warnings %+v: want the allowlist's 404 alone", sum.Warnings)
	}

	// Events: each of the mock's, once, with its type, id and recipient.
	rdb, err := index.OpenReadOnly(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	var wantEvents []string
	for _, e := range ms.Events() {
		rcpt := ""
		if b, err := json.Marshal(e); err == nil {
			var r struct {
				Recipient string `json:"recipient"`
			}
			_ = json.Unmarshal(b, &r)
			rcpt = r.Recipient
		}
		h := testkit.Query(t, rdb, "SELECT event_hash(?, ?)", e.GetName(), e.GetID())[0][0]
		wantEvents = append(wantEvents, fmt.Sprint(e.GetName(), " ", rcpt, " ", h))
	}
	var gotEvents []string
	for _, r := range testkit.Query(t, rdb, "SELECT type, COALESCE(recipient, ''), id_hash, sending_domain FROM events_full") {
		if r[3] != domain {
			t.Errorf("event %v: sending domain %v, want %s", r, r[3], domain)
		}
		gotEvents = append(gotEvents, fmt.Sprint(r[0], " ", r[1], " ", r[2]))
	}
	sort.Strings(wantEvents)
	sort.Strings(gotEvents)
	if len(wantEvents) == 0 || strings.Join(gotEvents, "\n") != strings.Join(wantEvents, "\n") {
		t.Errorf("events in the index:\n%s\nwant the mock's:\n%s", strings.Join(gotEvents, "\n"), strings.Join(wantEvents, "\n"))
	}
	// Lists: exactly the mock's entries.
	got := map[string]bool{}
	for _, r := range testkit.Query(t, rdb, "SELECT list, address FROM suppressions_full WHERE removed_at IS NULL AND sending_domain = ?", domain) {
		got[fmt.Sprint(r[0], " ", r[1])] = true
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("suppressions in the index %v, want the mock's %v", got, want)
	}
	rdb.Close()

	// suppressions remove deletes at the mock, and the next sync agrees.
	victim := bounces[0].Address
	code, out, errs = run(t, "", "--db", db, "--output", "json", "suppressions", "remove", victim, "--list", "bounces",
		"--sending-domain", domain, "--yes", "--api-base", ms.URL(), "--api-key", key, "--backup-dir", t.TempDir())
	if code != 0 || !strings.Contains(out, `"result": "removed"`) {
		t.Fatalf("suppressions remove %s: exit %d, stderr %q, stdout %s", victim, code, errs, out)
	}
	if _, err := mg.GetBounce(ctx, domain, victim); mailgun.GetStatusFromErr(err) != http.StatusNotFound {
		t.Errorf("the mock still has bounce %s: %v", victim, err)
	}
	code, _, errs = run(t, "", "--db", db, "--output", "json", "sync", "--api-base", ms.URL(), "--api-key", key,
		"--since", "1h", "--window", "1h", "--late-threshold", "0s")
	if code != 0 {
		t.Fatalf("second sync: exit %d, stderr %q", code, errs)
	}
	rdb2, err := index.OpenReadOnly(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer rdb2.Close()
	if rows := testkit.Query(t, rdb2, "SELECT removed_at IS NOT NULL FROM suppressions_full WHERE list = 'bounces' AND address = ?", victim); len(rows) != 1 || rows[0][0] != int64(1) {
		t.Errorf("bounce %s in the index after the removal: %v, want marked removed", victim, rows)
	}
	if strings.Contains(out+errs, key) {
		t.Error("the key is in the output")
	}
}
