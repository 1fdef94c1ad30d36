package mgserver

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mailgun/mailgun-go/v5"
)

// acceptedWithin returns an accepted event of domain whose age at now lies
// in [minAge, maxAge].
func acceptedWithin(t *testing.T, acct *Account, domain string, now time.Time, minAge, maxAge time.Duration) Event {
	t.Helper()
	for _, ev := range acct.Events(domain) {
		age := now.Sub(ev.When())
		if ev.Type == "accepted" && ev.StorageURL != "" && age >= minAge && age <= maxAge {
			return ev
		}
	}
	t.Fatalf("no accepted event aged %s to %s", minAge, maxAge)
	return Event{}
}

func localURL(e *env, storageURL string) string {
	i := strings.Index(storageURL, "/v3/")
	return e.hs.URL + storageURL[i:]
}

func TestStoredMessageAndResend(t *testing.T) {
	e := newEnv(t, smallConfig(), Options{})
	ctx := context.Background()
	dom := e.res.SendingDomains[0]
	mg := e.sdk()
	ev := acceptedWithin(t, e.acct, dom, e.clock.Now(), time.Hour, 48*time.Hour)
	var item struct {
		Message struct {
			Headers struct{ From, Subject, To string } `json:"headers"`
		} `json:"message"`
	}
	json.Unmarshal(ev.EventsJSON, &item)
	u := localURL(e, ev.StorageURL)
	msg, err := mg.GetStoredMessage(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	if msg.Subject != item.Message.Headers.Subject || msg.From != item.Message.Headers.From || msg.BodyPlain == "" || !strings.Contains(msg.Recipients, ev.Recipient) {
		t.Errorf("stored message %+v does not match the event (%+v)", msg, item.Message.Headers)
	}
	hasID := false
	for _, h := range msg.MessageHeaders {
		hasID = hasID || len(h) == 2 && h[0] == "Message-Id" && h[1] == "<"+ev.MessageID+">"
	}
	if !hasID {
		t.Errorf("message-headers %v lack the Message-Id", msg.MessageHeaders)
	}
	raw, err := mg.GetStoredMessageRaw(ctx, u)
	if err != nil || !strings.Contains(raw.BodyMime, "Subject: "+item.Message.Headers.Subject) {
		t.Errorf("raw stored message: %v, %.200s", err, raw.BodyMime)
	}

	sent, err := mg.ReSend(ctx, u, "jane@initech.example", "Ops <ops@initech.example>")
	text, id := sent.Message, sent.ID
	if err != nil {
		t.Fatal(err)
	}
	if text != "Queued. Thank you." || !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, "@"+dom+">") {
		t.Errorf("resend answered %q, %q", text, id)
	}
	sends := e.acct.Sends()
	if len(sends) != 1 || sends[0].StorageKey != ev.StorageKey || sends[0].MessageID != ev.MessageID ||
		strings.Join(sends[0].To, "|") != "jane@initech.example|Ops <ops@initech.example>" || !sends[0].At.Equal(e.clock.Now()) {
		t.Errorf("Sends() = %+v", sends)
	}
	if n := e.srv.Stats().Resends; n != 1 {
		t.Errorf("Resends = %d, want 1", n)
	}
	// Wrong domain in the URL: not found.
	wrong := strings.Replace(u, "/domains/"+dom+"/", "/domains/"+e.res.SendingDomains[1]+"/", 1)
	if _, err := mg.GetStoredMessage(ctx, wrong); mailgun.GetStatusFromErr(err) != http.StatusNotFound {
		t.Errorf("stored message under the wrong domain: %v, want 404", err)
	}
	r, _ := e.do(http.MethodPost, u, "application/x-www-form-urlencoded", strings.NewReader("subject=x"))
	if r.status != http.StatusBadRequest {
		t.Errorf("resend without to: %d %s", r.status, r.body)
	}
}

func TestExpiredStoredMessage(t *testing.T) {
	e := newEnv(t, smallConfig(), Options{})
	ctx := context.Background()
	dom := e.res.SendingDomains[0]
	mg := e.sdk()
	old := acceptedWithin(t, e.acct, dom, e.clock.Now(), 80*time.Hour, 7*24*time.Hour)
	u := localURL(e, old.StorageURL)
	if _, err := mg.GetStoredMessage(ctx, u); mailgun.GetStatusFromErr(err) != http.StatusNotFound {
		t.Errorf("stored message %s old: %v, want 404", e.clock.Now().Sub(old.When()), err)
	}
	if _, err := mg.ReSend(ctx, u, "jane@initech.example"); mailgun.GetStatusFromErr(err) != http.StatusNotFound {
		t.Errorf("resend of an expired message: %v, want 404", err)
	}
	if len(e.acct.Sends()) != 0 {
		t.Error("an expired message was resent")
	}
	// A longer retention keeps it.
	e2 := serveAccount(t, e.acct, e.res, Options{StoredRetention: 8 * 24 * time.Hour})
	if _, err := e2.sdk().GetStoredMessage(ctx, localURL(e2, old.StorageURL)); err != nil {
		t.Errorf("with 8 days' retention: %v", err)
	}
}

func TestRewriteStorageURLs(t *testing.T) {
	e := newEnv(t, smallConfig(), Options{RewriteStorageURLs: true})
	dom := e.res.SendingDomains[0]
	p := e.eventsPage("/v3/" + dom + "/events?ascending=yes&limit=50&pretty=no&event=accepted&begin=" + epoch(e.clock.Now().Add(-24*time.Hour)))
	if len(p.Items) == 0 {
		t.Fatal("no accepted events in the last day")
	}
	var item struct {
		Storage struct{ URL string } `json:"storage"`
	}
	json.Unmarshal(p.Items[0], &item)
	if !strings.HasPrefix(item.Storage.URL, e.hs.URL+"/v3/domains/"+dom+"/messages/") {
		t.Fatalf("storage url %q does not point at the server", item.Storage.URL)
	}
	if _, err := e.sdk().GetStoredMessage(context.Background(), item.Storage.URL); err != nil {
		t.Errorf("GetStoredMessage on the rewritten URL: %v", err)
	}
}
