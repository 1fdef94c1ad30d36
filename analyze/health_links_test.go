package analyze

import (
	"testing"
	"time"

	"github.com/maildiag/maildiag"
)

// A confirmation deferred for longer than its link lasts is an expired
// link; one delivered within it, a newsletter, or a full mailbox is not.
func TestExpiredLinks(t *testing.T) {
	t0 := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	confirm, news := []string{"confirmation"}, []string{"newsletter"}
	defer1 := func(ls *linkScan, msg MessageRef, tags []string, class string, at time.Duration) {
		ls.add(&Failure{Message: msg, Recipient: RecipientID(msg), Tags: tags, Time: t0.Add(at), Outcome: maildiag.OutcomeTemporary,
			RecipientDomain: "example.com", SendingDomain: "mg.example.com"}, class)
	}
	ls := newLinkScan()
	defer1(ls, 1, confirm, maildiag.ClassRateLimited, 0)
	defer1(ls, 1, confirm, maildiag.ClassRateLimited, 30*time.Hour) // still retried after 30 hours
	defer1(ls, 2, confirm, maildiag.ClassRateLimited, 0)
	defer1(ls, 2, confirm, maildiag.ClassRateLimited, 10*time.Hour)
	defer1(ls, 3, news, maildiag.ClassRateLimited, 0)
	defer1(ls, 3, news, maildiag.ClassRateLimited, 30*time.Hour)
	defer1(ls, 4, confirm, maildiag.ClassMailboxFull, 0)
	defer1(ls, 4, confirm, maildiag.ClassMailboxFull, 30*time.Hour)

	a, ok := expiredLinks(ls, 24*time.Hour, nil)
	if !ok || a.Title != "1 confirmation, reset or sign-in message expired before it arrived" || a.Evidence[0] != "example.com: 1 (0 given up by Mailgun), deferred as rate limited" {
		t.Errorf("24h: %v %+v; want message 1 alone", ok, a)
	}
	if a, ok := expiredLinks(ls, 8*time.Hour, nil); !ok || a.Title[:2] != "2 " {
		t.Errorf("8h: %v %q; want messages 1 and 2", ok, a.Title)
	}
	if _, ok := expiredLinks(ls, 40*time.Hour, nil); ok {
		t.Error("40h: an alert, want none")
	}
}

// An order or booking "confirmation" carries no expiring link.
func TestExpiringLinkKinds(t *testing.T) {
	for _, c := range []struct {
		subject string
		tags    []string
		want    bool
	}{
		{"Confirm your email address", []string{"confirmation"}, true},
		{"Your password reset link", nil, true},
		{"Your Ledgerly sign-in code: 276690", nil, true},
		{"Your Brightcart order #43731 is confirmed", []string{"order-confirmation"}, false},
		{"Booking 123 confirmed", []string{"booking-confirmation"}, false},
		{"Invoice INV-2026-79128 is ready", []string{"invoice"}, false},
	} {
		if got := ExpiringLink(c.subject, c.tags); got != c.want {
			t.Errorf("ExpiringLink(%q, %q) = %v, want %v", c.subject, c.tags, got, c.want)
		}
	}
}
