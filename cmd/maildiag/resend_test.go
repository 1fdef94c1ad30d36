package main

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/maildiag/maildiag/mgserver"
	"github.com/maildiag/maildiag/remedy"
)

// storedMsg is a message of the account with one recipient and a stored copy.
type storedMsg struct {
	id, recipient, acceptedID, key string
	accepted                       time.Time
}

// findMessage returns a message of the account with exactly one recipient
// and a storage URL, accepted within [from, to] before the account's end.
func (e *actEnv) findMessage(t *testing.T, from, to time.Duration) storedMsg {
	t.Helper()
	for _, d := range e.acct.Domains() {
		recips := map[string]map[string]bool{}
		var cands []mgserver.Event
		for _, ev := range e.acct.Events(d) {
			if ev.MessageID == "" {
				continue
			}
			if recips[ev.MessageID] == nil {
				recips[ev.MessageID] = map[string]bool{}
			}
			if ev.Recipient != "" {
				recips[ev.MessageID][ev.Recipient] = true
			}
			age := e.end.Sub(ev.When())
			if ev.Type == "accepted" && ev.StorageURL != "" && age >= from && age <= to {
				cands = append(cands, ev)
			}
		}
		for _, ev := range cands {
			if len(recips[ev.MessageID]) == 1 {
				return storedMsg{id: ev.MessageID, recipient: ev.Recipient, acceptedID: ev.ID, key: ev.StorageKey, accepted: ev.When()}
			}
		}
	}
	t.Fatalf("no single-recipient stored message accepted %v to %v before the end", from, to)
	return storedMsg{}
}

type resendJSON struct {
	MessageID    string   `json:"message_id"`
	To           string   `json:"to"`
	Original     []string `json:"original_recipients"`
	ApprovedBy   string   `json:"approved_by"`
	NewMessageID string   `json:"new_message_id"`
}

func TestResendToOriginalRecipientAndApproval(t *testing.T) {
	e := newActEnv(t)
	m := e.findMessage(t, 2*time.Hour, 48*time.Hour)
	resend := func(v any, code int, args ...string) string {
		t.Helper()
		return e.jsonRun(t, v, code, append(append([]string{"resend"}, args...), e.api()...)...)
	}

	// By message-id and by the id of one of its events: to the original recipient.
	var r resendJSON
	resend(&r, 0, m.id)
	sends := e.acct.Sends()
	if len(sends) != 1 || !slices.Equal(sends[0].To, []string{m.recipient}) || sends[0].StorageKey != m.key {
		t.Fatalf("sends %+v: want one resend of %s to %s", sends, m.key, m.recipient)
	}
	if r.NewMessageID != sends[0].NewMessageID || r.To != m.recipient {
		t.Errorf("output %+v: want to %s with Mailgun's new id %s", r, m.recipient, sends[0].NewMessageID)
	}
	resend(&r, 0, m.acceptedID)
	if sends = e.acct.Sends(); len(sends) != 2 || !slices.Equal(sends[1].To, []string{m.recipient}) || sends[1].MessageID != m.id {
		t.Fatalf("resend by event id: sends %+v, want a second send of %s to %s", sends, m.id, m.recipient)
	}

	// To someone else: refused without an approval, sent and audited with one.
	other := "jane.doe@elsewhere.example"
	errs := resend(nil, 2, m.id, "--to", other)
	if !strings.Contains(errs, "refused") || !strings.Contains(errs, "--approved-by") {
		t.Errorf("a resend to another address was not refused with a reason: %s", errs)
	}
	if n := len(e.acct.Sends()); n != 2 {
		t.Fatalf("the refused resend reached the server: %d sends", n)
	}
	resend(&r, 0, m.id, "--to", other, "--approved-by", "R. Manager")
	sends = e.acct.Sends()
	if len(sends) != 3 || !slices.Equal(sends[2].To, []string{other}) || r.ApprovedBy != "R. Manager" {
		t.Fatalf("approved resend: sends %+v, output %+v; want a third send to %s", sends, r, other)
	}

	var audit []auditJSON
	e.jsonRun(t, &audit, 0, "audit", "--action", "resend")
	var got []string
	for _, a := range audit {
		got = append(got, a.Result+":"+a.Address+":"+a.ApprovedBy)
		if a.User != osUser() || a.MessageID != m.id || a.OriginalTo != m.recipient || strings.Contains(a.Command, actKey) {
			t.Errorf("audit row %+v: want %s's resend of %s, original %s, without the key", a, osUser(), m.id, m.recipient)
		}
	}
	want := []string{"sent:" + m.recipient + ":", "sent:" + m.recipient + ":", "refused:" + other + ":", "sent:" + other + ":R. Manager"}
	if !slices.Equal(got, want) {
		t.Errorf("audit of resends %v, want %v", got, want)
	}
	if a := audit[3]; a.Detail != sends[2].NewMessageID {
		t.Errorf("audit detail %q, want the new message id %s", a.Detail, sends[2].NewMessageID)
	}
	e.checkNoKey(t)
}

func TestResendExpiredMessage(t *testing.T) {
	e := newActEnv(t)
	m := e.findMessage(t, 5*24*time.Hour, 20*24*time.Hour) // the server keeps stored messages 72 hours
	errs := e.jsonRun(t, nil, 1, append([]string{"resend", m.id}, e.api()...)...)
	for _, w := range []string{"no longer stored", "accepted " + m.accepted.UTC().Format("2006-01-02 15:04 UTC"), "days ago", "from the application"} {
		if !strings.Contains(errs, w) {
			t.Errorf("the error for an expired message does not say %q: %s", w, errs)
		}
	}
	if n := len(e.acct.Sends()); n != 0 {
		t.Errorf("%d sends of an expired message", n)
	}
	var audit []auditJSON
	e.jsonRun(t, &audit, 0, "audit", "--action", "resend")
	if len(audit) != 1 || audit[0].Result != "gone" {
		t.Errorf("audit %+v: want one resend that found the message gone", audit)
	}
	// Not in the index at all.
	errs = e.jsonRun(t, nil, 1, append([]string{"resend", "no-such-event-id"}, e.api()...)...)
	if !strings.Contains(errs, "not in the index") {
		t.Errorf("unknown id: %s", errs)
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
			t.Errorf("remedy.StorageURLFor(%q, %q) = %q, %v; want an error saying %q", c.url, c.base, got, err, c.err)
		case c.err == "" && (err != nil || got != c.want):
			t.Errorf("remedy.StorageURLFor(%q, %q) = %q, %v; want %q", c.url, c.base, got, err, c.want)
		}
	}
}
