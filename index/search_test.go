package index

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/analyze"
)

func search(t *testing.T, db *DB, f analyze.EventFilter) ([]string, string) {
	t.Helper()
	var ids []string
	next, err := db.SearchEvents(context.Background(), f, func(e *maildiag.Event) error {
		ids = append(ids, e.ID)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids, next
}

// Pages follow each other through the cursor: events stored between two
// pages neither repeat an event already listed nor push one off.
func TestSearchCursorStableUnderInserts(t *testing.T) {
	db, _ := mustOpen(t)
	w := mustWriter(t, db)
	var evs []maildiag.Event
	for i := range 30 {
		evs = append(evs, ev(maildiag.Delivered, fmt.Sprintf("d%02d", i), fmt.Sprintf("u%d@acme.com", i%4), at(time.Duration(i)*7*time.Hour)))
	}
	add(t, w, evs...)
	all, next := search(t, db, analyze.EventFilter{})
	if len(all) != 30 || next != "" {
		t.Fatalf("all: %d events, next %q; want 30 and no next page", len(all), next)
	}
	page1, next := search(t, db, analyze.EventFilter{Limit: 10})
	if !slices.Equal(page1, all[:10]) || next == "" {
		t.Fatalf("page 1 %v (next %q), want %v", page1, next, all[:10])
	}
	// Newer and older events arrive meanwhile.
	add(t, w, ev(maildiag.Delivered, "new-newest", "u1@acme.com", at(500*time.Hour)),
		ev(maildiag.Delivered, "new-oldest", "u2@acme.com", at(-5*time.Hour)),
		ev(maildiag.Delivered, "new-middle", "u3@acme.com", at(100*time.Hour+time.Minute)))
	var rest []string
	for next != "" {
		var p []string
		p, next = search(t, db, analyze.EventFilter{Limit: 10, Cursor: next})
		rest = append(rest, p...)
	}
	for _, id := range rest {
		if slices.Contains(page1, id) {
			t.Errorf("%s listed again after the cursor", id)
		}
		if id == "new-newest" {
			t.Errorf("an event newer than the cursor was listed after it")
		}
	}
	for _, id := range all[10:] {
		if !slices.Contains(rest, id) {
			t.Errorf("%s lost from the later pages", id)
		}
	}
	if !slices.Contains(rest, "new-oldest") || !slices.Contains(rest, "new-middle") {
		t.Errorf("later pages %v miss the older events stored meanwhile", rest)
	}
	if _, err := db.SearchEvents(context.Background(), analyze.EventFilter{Cursor: "nonsense"}, func(*maildiag.Event) error { return nil }); err == nil {
		t.Error("a malformed cursor was accepted")
	}
}

// The filters on texts, recipients, codes and types find exactly the
// events that match, newest first or oldest first.
func TestSearchFilters(t *testing.T) {
	db, _ := mustOpen(t)
	w := mustWriter(t, db)
	mk := func(typ, id, rcpt string, h int, subject, from, ip string, tags ...string) maildiag.Event {
		e := ev(typ, id, rcpt, at(time.Duration(h)*time.Hour))
		e.Subject, e.From, e.SendingIP, e.Tags = subject, from, ip, tags
		return e
	}
	bounce := mk(maildiag.Failed, "f1", "jane@acme.com", 30, "Reset your password", "Ledgerly <no-reply@ledgerly.com>", "198.51.100.7", "password-reset")
	bounce.SendingDomain = "mail.ledgerly.com"
	defer1 := mk(maildiag.Failed, "t1", "bob@gmail.com", 20, "Your order #12", "Shop <a@shop.io>", "198.51.100.8")
	defer1.Severity, defer1.Code, defer1.Reason, defer1.Class = "temporary", 421, "generic", maildiag.ClassRateLimited
	add(t, w,
		mk(maildiag.Accepted, "a1", "jane@acme.com", 1, "Reset your password", "Ledgerly <no-reply@ledgerly.com>", "", "password-reset"),
		mk(maildiag.Delivered, "d1", "jane@acme.com", 2, "Reset your password", "Ledgerly <no-reply@ledgerly.com>", "198.51.100.7", "password-reset"),
		mk(maildiag.Delivered, "d2", "joe@acme.com", 3, "Your order #12", "Shop <a@shop.io>", "198.51.100.8", "order"),
		mk(maildiag.Delivered, "d3", "ann@sub.acme.com", 4, "100% off_today", "Shop <a@shop.io>", "198.51.100.8", "promo", "order"),
		mk(maildiag.Delivered, "d4", "bob@gmail.com", 5, "Your order #13", "Shop <a@shop.io>", "198.51.100.7"),
		bounce, defer1)
	for _, c := range []struct {
		name string
		f    analyze.EventFilter
		want []string
	}{
		{"subject contains, any case", analyze.EventFilter{Subject: "PASSWORD"}, []string{"f1", "d1", "a1"}},
		{"subject with LIKE characters", analyze.EventFilter{Subject: "100%"}, []string{"d3"}},
		{"subject _ is literal", analyze.EventFilter{Subject: "off_t"}, []string{"d3"}},
		{"no such subject", analyze.EventFilter{Subject: "nothing like it"}, nil},
		{"from contains", analyze.EventFilter{From: "shop.io"}, []string{"t1", "d4", "d3", "d2"}},
		{"exact recipient", analyze.EventFilter{To: &analyze.Pattern{Local: "jane", Domain: "acme.com"}}, []string{"f1", "d1", "a1"}},
		{"domain pattern", analyze.EventFilter{To: &analyze.Pattern{Local: "*", Domain: "acme.com"}}, []string{"f1", "d2", "d1", "a1"}},
		{"subdomain pattern", analyze.EventFilter{To: &analyze.Pattern{Local: "*", Domain: "*acme.com"}}, []string{"f1", "d3", "d2", "d1", "a1"}},
		{"local glob", analyze.EventFilter{To: &analyze.Pattern{Local: "j*", Domain: "acme.com"}}, []string{"f1", "d2", "d1", "a1"}},
		{"to contains", analyze.EventFilter{ToContains: "GMAIL.com"}, []string{"t1", "d4"}},
		{"to contains a local part", analyze.EventFilter{ToContains: "ann@"}, []string{"d3"}},
		{"sending ip", analyze.EventFilter{SendingIPs: []string{"198.51.100.7"}}, []string{"f1", "d4", "d1"}},
		{"tag in a set", analyze.EventFilter{Tags: []string{"order"}}, []string{"d3", "d2"}},
		{"code 550", analyze.EventFilter{Codes: []int{550}}, []string{"f1"}},
		{"code 550 and sending domain", analyze.EventFilter{Codes: []int{550}, SendingDomains: []string{"mg.example.com"}}, nil},
		{"code 421 and gmail", analyze.EventFilter{Codes: []int{421}, ToContains: "gmail.com"}, []string{"t1"}},
		{"permanent-fail", analyze.EventFilter{Types: []string{maildiag.Failed}, Severities: []string{"permanent"}}, []string{"f1"}},
		{"delivered or temporary-fail", analyze.EventFilter{Types: []string{maildiag.Delivered, maildiag.Failed}, Severities: []string{"temporary"}},
			[]string{"t1", "d4", "d3", "d2", "d1"}},
		{"class", analyze.EventFilter{Classes: []string{maildiag.ClassRateLimited}}, []string{"t1"}},
		{"message-id", analyze.EventFilter{MessageID: "<msg-jane@acme.com@mg.example.com>"}, []string{"f1", "d1", "a1"}},
		{"gateway of the event", analyze.EventFilter{Gateway: "example", Types: []string{maildiag.Failed}}, []string{"f1", "t1"}},
		{"mx glob", analyze.EventFilter{MX: "*.example.net", To: &analyze.Pattern{Local: "jane", Domain: "acme.com"}}, []string{"f1", "d1"}},
		{"since and until", analyze.EventFilter{Since: time.UnixMicro(at(2 * time.Hour)), Until: time.UnixMicro(at(5 * time.Hour))}, []string{"d3", "d2", "d1"}},
		{"oldest first", analyze.EventFilter{Subject: "password", Asc: true}, []string{"a1", "d1", "f1"}},
	} {
		got, _ := search(t, db, c.f)
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}

// Subjects and senders are stored once, whatever the number of events.
func TestTextsStoredOnce(t *testing.T) {
	db, _ := mustOpen(t)
	w := mustWriter(t, db)
	for i := range 50 {
		e := ev(maildiag.Delivered, fmt.Sprintf("d%d", i), fmt.Sprintf("u%d@acme.com", i), at(time.Duration(i)*time.Minute))
		e.Subject, e.From = "Welcome", "Team <team@example.com>"
		add(t, w, e)
	}
	if n := count(t, db, `SELECT COUNT(*) FROM texts WHERE kind = 1`); n != 1 {
		t.Errorf("%d subject texts, want 1", n)
	}
	if n := count(t, db, `SELECT COUNT(*) FROM events e JOIN texts s ON s.id = e.subject_id JOIN texts f ON f.id = e.from_id
		WHERE s.text = 'Welcome' AND f.text = 'Team <team@example.com>'`); n != 50 {
		t.Errorf("%d events refer to the texts, want 50", n)
	}
}
