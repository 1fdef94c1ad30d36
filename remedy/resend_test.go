package remedy_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/analyze"
	"github.com/maildiag/maildiag/index"
	"github.com/maildiag/maildiag/remedy"
)

// resend finds query's message and resends it to to, approved by approver
// (whatever the age of a link in it: TestResendGuards tries that guard).
func resend(t *testing.T, s *remedy.Session, db *index.DB, query, to, approver string) (*remedy.ResendResult, error) {
	t.Helper()
	m, err := remedy.FindMessage(context.Background(), db, query)
	if err != nil {
		return nil, err
	}
	r, err := s.CheckResend(context.Background(), db, m, remedy.ResendAsk{To: to, ApprovedBy: approver, Anyway: true})
	if err != nil {
		return nil, err
	}
	return s.Send(context.Background(), r)
}

func TestResendToOriginalRecipientAndApproval(t *testing.T) {
	e := newEnv(t, false)
	m := e.FindMessage(t, 2*time.Hour, 48*time.Hour)
	s, db := e.session(t)

	// By message-id and by the id of one of its events: to the original recipient.
	r, err := resend(t, s, db, m.ID, "", "")
	sends := e.Acct.Sends()
	if err != nil || len(sends) != 1 || !slices.Equal(sends[0].To, []string{m.Recipient}) || sends[0].StorageKey != m.StorageKey {
		t.Fatalf("%v: sends %+v: want one resend of %s to %s", err, sends, m.StorageKey, m.Recipient)
	}
	if r.NewMessageID != sends[0].NewMessageID || r.To != m.Recipient || r.MessageID != m.ID || !slices.Equal(r.Original, []string{m.Recipient}) {
		t.Errorf("result %+v: want to %s with Mailgun's new id %s", r, m.Recipient, sends[0].NewMessageID)
	}
	if _, err := resend(t, s, db, m.AcceptedID, "", ""); err != nil {
		t.Fatal(err)
	}
	if sends = e.Acct.Sends(); len(sends) != 2 || !slices.Equal(sends[1].To, []string{m.Recipient}) || sends[1].MessageID != m.ID {
		t.Fatalf("resend by event id: sends %+v, want a second send of %s to %s", sends, m.ID, m.Recipient)
	}

	// To someone else: refused without an approval, sent and audited with one.
	other := "jane.doe@elsewhere.example"
	_, err = resend(t, s, db, m.ID, other, "")
	var refused *remedy.RefusedError
	if !errors.As(err, &refused) || refused.To != other || !strings.Contains(err.Error(), "not an original recipient") {
		t.Errorf("a resend to another address: %v, want a refusal with a reason", err)
	}
	if n := len(e.Acct.Sends()); n != 2 {
		t.Fatalf("the refused resend reached the server: %d sends", n)
	}
	r, err = resend(t, s, db, m.ID, other, "R. Manager")
	sends = e.Acct.Sends()
	if err != nil || len(sends) != 3 || !slices.Equal(sends[2].To, []string{other}) || r.ApprovedBy != "R. Manager" {
		t.Fatalf("approved resend: %v, sends %+v, result %+v; want a third send to %s", err, sends, r, other)
	}

	rows := audit(t, db, maildiag.AuditResend)
	var got []string
	for _, a := range rows {
		got = append(got, a.Result+":"+a.Address+":"+a.ApprovedBy)
		if a.User != who.User || a.MessageID != m.ID || a.OriginalTo != m.Recipient {
			t.Errorf("audit row %+v: want %s's resend of %s, original %s", a, who.User, m.ID, m.Recipient)
		}
	}
	want := []string{"sent:" + m.Recipient + ":", "sent:" + m.Recipient + ":", "refused:" + other + ":", "sent:" + other + ":R. Manager"}
	if !slices.Equal(got, want) {
		t.Errorf("audit of resends %v, want %v", got, want)
	}
	if a := rows[3]; a.Detail != sends[2].NewMessageID {
		t.Errorf("audit detail %q, want the new message id %s", a.Detail, sends[2].NewMessageID)
	}
}

func TestResendExpiredMessage(t *testing.T) {
	e := newEnv(t, false)
	m := e.FindMessage(t, 5*24*time.Hour, 20*24*time.Hour) // the server keeps stored messages 72 hours
	s, db := e.session(t)
	_, err := resend(t, s, db, m.ID, "", "")
	var gone *remedy.GoneError
	if !errors.As(err, &gone) {
		t.Fatalf("an expired message: %v, want a GoneError", err)
	}
	for _, w := range []string{"no longer stored", "accepted " + m.Accepted.UTC().Format("2006-01-02 15:04 UTC"), "days ago", "from the application"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("the error for an expired message does not say %q: %v", w, err)
		}
	}
	if n := len(e.Acct.Sends()); n != 0 {
		t.Errorf("%d sends of an expired message", n)
	}
	if rows := audit(t, db, maildiag.AuditResend); len(rows) != 1 || rows[0].Result != maildiag.AuditGone {
		t.Errorf("audit %+v: want one resend that found the message gone", rows)
	}
	// Not in the index at all.
	if _, err := remedy.FindMessage(context.Background(), db, "no-such-event-id"); !errors.Is(err, remedy.ErrNotInIndex) {
		t.Errorf("unknown id: %v", err)
	}
}

func TestStorageURLFor(t *testing.T) {
	const stored = "https://storage-us-east4.api.mailgun.net/v3/domains/mg.example.com/messages/BAABAQtsoSRBe"
	for _, c := range []struct {
		url, base, want, err string
	}{
		{stored, "http://127.0.0.1:8025", "http://127.0.0.1:8025/v3/domains/mg.example.com/messages/BAABAQtsoSRBe", ""},
		{stored, "https://api.mailgun.net", stored, ""},
		{"https://storage-europe-west1.api.eu.mailgun.net/v3/domains/mg.example.com/messages/K", "https://api.eu.mailgun.net",
			"https://storage-europe-west1.api.eu.mailgun.net/v3/domains/mg.example.com/messages/K", ""},
		{"https://evil.example/v3/domains/mg.example.com/messages/K", "https://api.mailgun.net", "", "not Mailgun's"},
		{"https://mailgun.net.evil.example/v3/domains/d/messages/K", "https://api.mailgun.net", "", "not Mailgun's"},
		{"http://storage.api.mailgun.net/v3/domains/d/messages/K", "https://api.mailgun.net", "", "not Mailgun's"},
		{"https://storage.api.mailgun.net/v3/d/bounces", "https://api.mailgun.net", "", "not a stored message"},
		{"not a url", "https://api.mailgun.net", "", "not a URL"},
	} {
		got, err := remedy.StorageURLFor(c.url, c.base)
		switch {
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("StorageURLFor(%q, %q) = %q, %v; want an error saying %q", c.url, c.base, got, err, c.err)
		case c.err == "" && (err != nil || got != c.want):
			t.Errorf("StorageURLFor(%q, %q) = %q, %v; want %q", c.url, c.base, got, err, c.want)
		}
	}
}

// suppressedMessage finds a stored message of the account to an address
// on the bounce list of its sending domain.
func suppressedMessage(t *testing.T, e *env) (mid, rcpt, domain string) {
	t.Helper()
	for _, d := range e.Acct.Domains() {
		bounced := map[string]bool{}
		for _, b := range e.Acct.Bounces(d) {
			bounced[strings.ToLower(b.Address)] = true
		}
		for _, ev := range e.Acct.Events(d) {
			if ev.Type == "accepted" && ev.StorageURL != "" && ev.MessageID != "" && bounced[strings.ToLower(ev.Recipient)] {
				return ev.MessageID, strings.ToLower(ev.Recipient), d
			}
		}
	}
	t.Fatal("no stored message to a bounced address")
	return "", "", ""
}

// The guards of a resend: a suppressed recipient, an expired link; each
// refusal audited, nothing sent.
func TestResendGuards(t *testing.T) {
	e := newEnv(t, false)
	s, db := e.session(t)
	ctx := context.Background()

	mid, rcpt, domain := suppressedMessage(t, e)
	m, err := remedy.FindMessage(ctx, db, mid)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.CheckResend(ctx, db, m, remedy.ResendAsk{To: rcpt, Anyway: true})
	var refused *remedy.RefusedError
	removal := "maildiag suppressions remove " + rcpt + " --list bounces --sending-domain " + domain
	if !errors.As(err, &refused) || refused.Guard != remedy.GuardSuppressed || !strings.Contains(refused.Fix, removal) {
		t.Errorf("a resend to a suppressed address: %v, want a refusal naming %q", err, removal)
	}

	ok := e.FindMessage(t, 2*time.Hour, 48*time.Hour)
	m, err = remedy.FindMessage(ctx, db, ok.ID)
	if err != nil {
		t.Fatal(err)
	}
	// Its tags would say what kind of message it is: the subject alone does here.
	m.Subject, m.Tags, m.AcceptedAt = "Confirm your email address", nil, e.Clock.Now().Add(-72*time.Hour)
	_, err = s.CheckResend(ctx, db, m, remedy.ResendAsk{})
	if !errors.As(err, &refused) || refused.Guard != remedy.GuardExpired || !strings.Contains(refused.Fix, "send a new one") {
		t.Errorf("a 3-day-old confirmation: %v, want a refusal saying to send a new one", err)
	}
	for _, ask := range []remedy.ResendAsk{{Anyway: true}, {TokenTTL: 96 * time.Hour}} {
		if _, err := s.CheckResend(ctx, db, m, ask); err != nil {
			t.Errorf("%+v: %v, want it let through", ask, err)
		}
	}
	m.Subject = "Your invoice"
	if _, err := s.CheckResend(ctx, db, m, remedy.ResendAsk{}); err != nil {
		t.Errorf("a 3-day-old invoice: %v, want it let through", err)
	}
	if n := len(e.Acct.Sends()); n != 0 {
		t.Errorf("%d sends by guard checks", n)
	}
	var results []string
	for _, a := range audit(t, db, maildiag.AuditResend) {
		results = append(results, a.Result)
	}
	if want := []string{maildiag.AuditRefused, maildiag.AuditRefused}; !slices.Equal(results, want) {
		t.Errorf("audit %v, want %v", results, want)
	}
}

// events is a store holding a few events.
type events []maildiag.Event

func (evs events) Events(_ context.Context, q analyze.EventQuery) ([]maildiag.Event, error) {
	var out []maildiag.Event
	for _, e := range evs {
		if q.EventID != "" && e.ID == q.EventID || q.MessageID != "" && e.MessageID == q.MessageID {
			out = append(out, e)
		}
	}
	return out, nil
}

// An event id that names events of two messages lists them; one that names
// one message's events does not.
func TestFindAmbiguousEventID(t *testing.T) {
	day := int64(24 * time.Hour / time.Microsecond)
	st := events{
		{ID: "abc", Type: maildiag.Accepted, TimeUS: 1_800_000_000_000_000, MessageID: "1@mg.example.com", Recipient: "ann@example.org"},
		{ID: "abc", Type: maildiag.Delivered, TimeUS: 1_800_000_000_000_000 + day, MessageID: "2@mg.example.com", Recipient: "bob@example.org"},
		{ID: "xyz", Type: maildiag.Accepted, TimeUS: 1_800_000_000_000_000, MessageID: "3@mg.example.com", Recipient: "cy@example.org"},
	}
	_, err := remedy.FindMessage(context.Background(), st, "abc")
	var amb *remedy.AmbiguousError
	if !errors.As(err, &amb) || len(amb.Candidates) != 2 ||
		!strings.Contains(err.Error(), "maildiag resend 2@mg.example.com --to bob@example.org") || !strings.Contains(err.Error(), "2027-01-16") {
		t.Errorf("an id of two messages: %v", err)
	}
	if m, err := remedy.FindMessage(context.Background(), st, "xyz"); err != nil || m.MessageID != "3@mg.example.com" {
		t.Errorf("an id of one message: %+v, %v", m, err)
	}
}
