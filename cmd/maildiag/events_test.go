package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/maildiag/maildiag/internal/mgtest"
	"github.com/maildiag/maildiag/mgserver"
)

type eventJSON struct {
	Time      time.Time `json:"time"`
	Event     string    `json:"event"`
	ID        string    `json:"id"`
	Recipient string    `json:"recipient"`
	Subject   string    `json:"subject"`
	Code      int       `json:"code"`
	MessageID string    `json:"message_id"`
}

// On the generated story account, a search by subject lists exactly the
// events whose original JSON has such a subject (the oracle reads every
// event's JSON through SQL), newest first, and pages through the cursor
// to the same list.
func TestEventsSearchOnStoryAccount(t *testing.T) {
	a := storyIndex(t)
	var all []eventJSON
	runJSON(t, a.end, a.db, &all, 0, "events", "--subject", "PASSWORD", "--limit", "0")
	var want []struct{ N int }
	runJSON(t, a.end, a.db, &want, 0, "query", `SELECT COUNT(*) AS n FROM event_json
		WHERE lower(coalesce(json_extract(json, '$.message.headers.subject'), '')) LIKE '%password%'`)
	if len(all) == 0 || len(all) != want[0].N {
		t.Fatalf("--subject PASSWORD listed %d events, the JSON holds %d", len(all), want[0].N)
	}
	for i, e := range all {
		if !strings.Contains(strings.ToLower(e.Subject), "password") {
			t.Errorf("%s: subject %q", e.ID, e.Subject)
		}
		if i > 0 && e.Time.After(all[i-1].Time) {
			t.Errorf("%s at %s listed after a older event", e.ID, e.Time)
		}
	}
	// Pages of 7 through the cursor printed on stderr.
	var paged []eventJSON
	args := []string{"--db", a.db, "--output", "json", "events", "--subject", "PASSWORD", "--limit", "7"}
	cursor := regexp.MustCompile(`--cursor (\S+)`)
	for pages := 0; ; pages++ {
		code := 0
		if pages > 0 && len(paged) == len(all) {
			code = 1 // a cursor past the end: nothing matches
		}
		out, errs := runBinary(t, code, args...)
		var page []eventJSON
		if err := json.Unmarshal([]byte(out), &page); err != nil {
			t.Fatal(err)
		}
		paged = append(paged, page...)
		m := cursor.FindStringSubmatch(errs)
		if m == nil {
			break
		}
		args = append(args[:9:9], "--cursor", m[1])
		if pages > len(all) {
			t.Fatal("paging does not end")
		}
	}
	if len(paged) != len(all) {
		t.Fatalf("paged %d events, listed %d at once", len(paged), len(all))
	}
	for i := range all {
		if paged[i].ID != all[i].ID || !paged[i].Time.Equal(all[i].Time) {
			t.Fatalf("page event %d is %s, the full list's %s", i, paged[i].ID, all[i].ID)
		}
	}
	// A 550 to anyone at gmail.com.
	var gm []eventJSON
	runJSON(t, a.end, a.db, &gm, 0, "events", "--code", "550", "--to-contains", "gmail.com", "--limit", "0")
	for _, e := range gm {
		if e.Code != 550 || !strings.Contains(e.Recipient, "gmail.com") {
			t.Errorf("--code 550 --to-contains gmail.com listed %+v", e)
		}
	}
}

// jsonl --raw writes the original events, which import reads back as the
// same events.
func TestEventsRawExportReimports(t *testing.T) {
	db := tempDB(t)
	if code, _, errs := run(t, "", "--db", db, "import", samples+"/events.jsonl", samples+"/webhooks.jsonl"); code != 0 {
		t.Fatalf("import: %s", errs)
	}
	raw, _ := runBinary(t, 0, "--db", db, "--output", "jsonl", "events", "--raw")
	export := filepath.Join(t.TempDir(), "export.jsonl")
	if err := os.WriteFile(export, []byte(raw), 0o600); err != nil {
		t.Fatal(err)
	}
	db2 := tempDB(t)
	if code, _, errs := run(t, "", "--db", db2, "import", export); code != 0 {
		t.Fatalf("import of the export: %s", errs)
	}
	// Events of the same microsecond come in the order they were stored.
	lines := func(db string) string {
		out, _ := runBinary(t, 0, "--db", db, "--output", "jsonl", "events")
		l := strings.Split(out, "\n")
		slices.Sort(l)
		return strings.Join(l, "\n")
	}
	a, b := lines(db), lines(db2)
	if a != b || strings.Count(a, "\n") < 20 {
		t.Errorf("the re-imported export lists other events:\n%s\nwant\n%s", b, a)
	}
}

// An id Mailgun gave two events (on two days) lists both.
func TestShowAmbiguousID(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "ev.jsonl")
	var b bytes.Buffer
	for i, day := range []string{"1763600000", "1763700000"} {
		fmt.Fprintf(&b, `{"event":"delivered","id":"SAMEID","timestamp":%s.5,"recipient":"u%d@acme.com","message":{"headers":{"message-id":"m%d@mg.example.com"}},"delivery-status":{"code":250}}`+"\n", day, i, i)
	}
	os.WriteFile(file, b.Bytes(), 0o600)
	db := filepath.Join(dir, "index.db")
	if code, _, errs := run(t, "", "--db", db, "import", "--sending-domain", "mg.example.com", file); code != 0 {
		t.Fatal(errs)
	}
	_, errs := runBinary(t, 2, "--db", db, "show", "SAMEID")
	if !strings.Contains(errs, "names 2 events") || !strings.Contains(errs, "maildiag show m0@mg.example.com") || !strings.Contains(errs, "maildiag show m1@mg.example.com") {
		t.Errorf("ambiguous id: %s", errs)
	}
	out, _ := runBinary(t, 0, "--db", db, "show", "m1@mg.example.com")
	if !strings.Contains(out, "u1@acme.com") || !strings.Contains(out, "SAMEID") {
		t.Errorf("show by message-id: %s", out)
	}
}

// The quick view fetches the stored message from the local Mailgun
// server; an expired one gets a clear message; the body reaches the index
// only with --keep, and is then shown from it without the API.
func TestShowMessageQuickView(t *testing.T) {
	s := mgtest.New(t, mgtest.Config(3000, mgtest.Domains[0]), mgserver.Options{})
	db := tempDB(t)
	t.Setenv("MG_API_KEY", "")
	runBinary(t, 0, "--db", db, "sync", "--api-base", s.URL, "--api-key", mgtest.Key, "--retry-delay", "5ms", "--no-suppressions")
	end := s.Res.End
	var recent, old []eventJSON
	runJSON(t, end, db, &recent, 0, "events", "--event", "accepted", "--since", end.Add(-24*time.Hour).Format(time.RFC3339), "--limit", "1")
	runJSON(t, end, db, &old, 0, "events", "--event", "accepted", "--until", end.Add(-5*24*time.Hour).Format(time.RFC3339), "--limit", "1")
	if len(recent) != 1 || len(old) != 1 || recent[0].MessageID == "" {
		t.Fatalf("accepted events: recent %+v, old %+v", recent, old)
	}
	api := []string{"--api-base", s.URL, "--api-key", mgtest.Key, "--retry-delay", "5ms"}
	var res struct {
		Message *struct {
			Headers [][2]string `json:"headers"`
			Text    string      `json:"text"`
			From    string      `json:"from"`
		} `json:"message"`
	}
	runJSON(t, end, db, &res, 0, append([]string{"show", recent[0].MessageID, "--message"}, api...)...)
	if res.Message == nil || res.Message.From != "mailgun" || !strings.Contains(res.Message.Text, recent[0].Subject) {
		t.Fatalf("quick view: %+v, want the text with the subject %q", res.Message, recent[0].Subject)
	}
	body := "This message was sent to"
	if !strings.Contains(res.Message.Text, body) {
		t.Fatalf("quick view text %q", res.Message.Text)
	}
	if fileHolds(t, db, body) {
		t.Fatal("the body reached the index without --keep")
	}
	_, errs := runBinary(t, 1, append([]string{"--db", db, "--now", end.Format(time.RFC3339), "show", old[0].MessageID, "--message"}, api...)...)
	if !strings.Contains(errs, "stored message is gone") || !strings.Contains(errs, "days ago") {
		t.Errorf("expired message: %s", errs)
	}
	runJSON(t, end, db, &res, 0, append([]string{"show", recent[0].MessageID, "--message", "--keep"}, api...)...)
	if rows := queryJSON(t, db, "SELECT COUNT(*) AS n FROM kept_messages"); rows[0]["n"] != float64(1) {
		t.Fatalf("kept messages: %v", rows)
	}
	// From the index, with no API key anywhere.
	res.Message = nil
	runJSON(t, end, db, &res, 0, "show", recent[0].MessageID, "--message")
	if res.Message == nil || res.Message.From != "index" || !strings.Contains(res.Message.Text, body) {
		t.Errorf("kept quick view: %+v", res.Message)
	}
}

// fileHolds tells whether an index's files hold some bytes.
func fileHolds(t *testing.T, db, s string) bool {
	t.Helper()
	for _, p := range []string{db, db + "-wal"} {
		b, err := os.ReadFile(p)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(s)) {
			return true
		}
	}
	return false
}

func TestHTMLText(t *testing.T) {
	got := htmlText(`<html><head><style>p{}</style></head><body><p>Hello&nbsp;Jane,</p><p>Click <a href="https://x.example/c?t=1">here</a></p><br>Bye</body></html>`)
	want := "Hello Jane,\nClick here [https://x.example/c?t=1]\n\nBye"
	if got != want {
		t.Errorf("htmlText: got %q, want %q", got, want)
	}
}

// The support handbook's "Verify your identity" search on the story
// account: every message of the story, and nothing else.
func TestEventsVerifyIdentityStory(t *testing.T) {
	a := storyIndex(t)
	v := a.stories.Verify
	var got []eventJSON
	runJSON(t, a.end, a.db, &got, 0, "events", "--to", v.Address, "--subject", "VERIFY your identity", "--event", "accepted")
	if len(got) != len(v.Messages) {
		t.Fatalf("%d accepted events, want %d: %+v", len(got), len(v.Messages), got)
	}
	for i, e := range got {
		want := v.Messages[len(v.Messages)-1-i] // newest first
		if e.MessageID != want.MessageID || !e.Time.Equal(want.Accepted) || e.Subject != v.Subject {
			t.Errorf("event %d: %+v, want message %s accepted at %s", i, e, want.MessageID, want.Accepted)
		}
	}
}
