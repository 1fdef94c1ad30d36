package ingest

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/maildiag/maildiag"
)

// synthetic marks an expected ID that must be a synthetic "~" id.
const synthetic = "~"

// TestEventsSampleFields checks every field of a representative set of the
// real sample events.
func TestEventsSampleFields(t *testing.T) {
	data := readFile(t, eventsFile)
	ls := lines(data)
	r := mustRead(t, data, Options{})
	if len(r.events) != len(ls) || len(r.rejects) != 0 {
		t.Fatalf("got %d events and %d rejects (%s), want %d events and no rejects", len(r.events), len(r.rejects), reasons(r.rejects), len(ls))
	}
	tests := []struct {
		line int
		want maildiag.Event
	}{
		{3, maildiag.Event{ // delivered, 250, mx-host
			TimeUS: 1529692199626182, Type: "delivered", ID: "hK7mQVt1QtqRiOfQXta4sw",
			SendingDomain: "exmple.org", // the sample's message-id has this typo
			Recipient:     "john@example.com", RecipientDomain: "example.com", LogLevel: "info",
			Code: 250, Reply: "OK", MXHost: "aspmx.l.example.com", Attempt: 1, SessionMS: 436,
			TLS: maildiag.Yes, SendingIP: "123.123.123.123",
			MessageID: "20180622182958.1.48906CB188F1A454@exmple.org", Subject: "Test Subject", From: "sender@exmple.org",
			StorageURL: "https://storage-us-west1.api.mailgun.net/v3/domains/...",
		}},
		{4, maildiag.Event{ // failed, permanent, 605 suppress-bounce
			TimeUS: 1529701969818328, Type: "failed", ID: "pl271FzxTTmGRW8Uj3dUWw",
			SendingDomain: "example.org", Recipient: "slava@mailgun.com", RecipientDomain: "mailgun.com",
			Severity: "permanent", Reason: "suppress-bounce", LogLevel: "error", Code: 605,
			Description: "Not delivering to previously bounced address", Attempt: 1,
			MessageID: "20180622211249.1.2A6098970A380E12@example.org", Subject: "Test Subject", From: "john@example.org",
			StorageURL: "https://se.api.mailgun.net/v3/domains/example.org/messages/eyJwI...",
		}},
		{5, maildiag.Event{ // delayed bounce; timestamp has 7 decimals
			TimeUS: 1666214138404667, Type: "failed", ID: "ZDMqRgjLTDi6rQcy7K60aA",
			SendingDomain: "test.com", Recipient: "christest123@test.com", RecipientDomain: "test.com",
			Severity: "permanent", Reason: "generic", LogLevel: "error", Code: 550, EnhancedCode: "5.1.1",
			Reply:         "smtp; 550-5.1.1 The email account that you tried to reach does not exist.",
			Description:   "I'm sorry to have to inform you that your message could not be delivered to one or more recipients.",
			DelayedBounce: true,
			MessageID:     "20221019211537.93011d31ea99c5a8@test.com", Subject: "Testing delayed bounce", From: "Test Message <test@test.com>",
			StorageURL: "https://storage-us-east4.api.mailgun.net/v3/domains/...",
		}},
		{6, maildiag.Event{ // Outlook 451 4.7.652
			TimeUS: 1665066523871657, Type: "failed", ID: "xYrATi63Rke8EC_s7EoJeA",
			SendingDomain: "test.com", Recipient: "test@test.com", RecipientDomain: "test.com",
			Severity: "temporary", Reason: "generic", LogLevel: "warn", Code: 451, EnhancedCode: "4.7.652",
			Reply:  "4.7.652 The mail server [xxx.xxx.xxx.xxx] has exceeded the maximum number of connections.",
			MXHost: "hotmail-com.olc.protection.outlook.com", Attempt: 1, RetrySeconds: 600, SessionMS: 751,
			TLS: maildiag.Yes, SendingIP: "xxx.xxx.xxx.xxx",
			MessageID: "20221006142837.1618e01bf42da9fa@test.com", Subject: "Test send", From: "test@test.com",
			StorageURL: "https://storage-us-east4.api.mailgun.net/v3/domains/...",
		}},
		{12, maildiag.Event{ // rejected: recipient from the To header, reason from reject
			TimeUS: 1529704976104692, Type: "rejected", ID: "OMTXD3-sSmKIQa1gSKkYVA",
			SendingDomain: "sandbox55887fac92de874df5ae0023b75fd62f1d.mailgun.org",
			Recipient:     "joan@example.org", RecipientDomain: "example.org", LogLevel: "warn",
			Reason:    "Sandbox subdomains are for test purposes only. Please add your own domain or add the address to authorized recipients in Account Settings.",
			MessageID: "20180622220256.1.B31A451A2E5422BB@sandbox55887fac92de874df5ae0023b75fd62f1d.mailgun.org",
			Subject:   "Test Subject", From: "john@sandbox55887fac92de874df5ae0023b75fd62f1d.mailgun.org",
		}},
		{13, maildiag.Event{ // list event: no recipient, no message; type kept
			TimeUS: 1555439198849090, Type: "list_member_uploaded", ID: "2342sd234asDSDsdfsd", LogLevel: "info",
		}},
		{17, maildiag.Event{ // 498 No MX
			TimeUS: 1376435471107440, Type: "failed", ID: "czsjqFATSlC3QtAK-C80nw",
			SendingDomain: "samples.mailgun.org", Recipient: "bar@example.com", RecipientDomain: "example.com",
			Severity: "temporary", Reason: "generic", Code: 498,
			Reply: "No MX for [example.com]", Description: "No MX for [example.com]", RetrySeconds: 900,
			MessageID: "20130813230036.10303.40433@samples.mailgun.org", Subject: "Hello", From: "Excited User <me@samples.mailgun.org>",
		}},
		{27, maildiag.Event{ // Logs API: @timestamp, domain object
			TimeUS: isoMicros(t, "2024-07-08T16:30:18.530Z"), Type: "failed", ID: "JDhSWf9mT5OFxCkZfpDU5d",
			SendingDomain: "example.com", Recipient: "example@gmail.com", RecipientDomain: "gmail.com", Provider: "Gmail",
			Code: 680, Reply: "Turret client: server connection failed", Attempt: 5, RetrySeconds: 145, SessionMS: 15026,
			SendingIP: "198.52.100.1",
		}},
		{28, maildiag.Event{ // Logs API: string user-variables, storage.url array
			TimeUS: isoMicros(t, "2025-06-25T17:19:51.166Z"), Type: "accepted", ID: "123",
			SendingDomain: "example.mailgun.org", Recipient: "alex@example.com", RecipientDomain: "example.com", LogLevel: "info",
			MessageID: "123@example.mailgun.org", Subject: "The Ruby SDK is awesome!", From: "bob@sending_domain.com+4",
			StorageURL: "https://storage.api.mailgun.net/v3/domains/example.mailgun.org/messages/123",
		}},
		{35, maildiag.Event{ // multi-line reply
			TimeUS: 1521472262908181, Type: "failed", ID: "Fs7-5t81S2ispqxqDw2U4Q",
			SendingDomain: "app.symfony.com", Recipient: "alice@example.com", RecipientDomain: "example.com",
			Severity: "temporary", Reason: "generic", LogLevel: "warn", Code: 452, EnhancedCode: "4.2.2",
			Reply:  "4.2.2 The email account that you tried to reach is over quota. Please direct\n4.2.2 the recipient to\n4.2.2  https://support.example.com/mail/?p=422",
			MXHost: "smtp-in.example.com", Attempt: 1, RetrySeconds: 600, SessionMS: 128, TLS: maildiag.Yes,
			SendingIP: "209.61.154.250",
			MessageID: "20130503182626.18666.16540@app.symfony.com", Subject: "Test delivered webhook", From: "Bob <bob@app.symfony.com>",
			Tags:       []string{"my_tag_1", "my_tag_2"},
			StorageURL: "https://se.api.mailgun.net/v3/domains/app.symfony.com/messages/message_key",
		}},
		{38, maildiag.Event{ // no enhanced-code field: taken from the reply; no id
			TimeUS: 1534110422389832, Type: "failed", ID: synthetic,
			SendingDomain: "example.org", Recipient: "invalid@example.com", RecipientDomain: "example.com",
			Severity: "permanent", Reason: "bounce", LogLevel: "error", Code: 550, EnhancedCode: "5.1.1",
			Reply:  "5.1.1 The email account that you tried to reach does not exist. Please try\n5.1.1 double-checking the recipient's email address for typos",
			MXHost: "aspmx.l.example.org", Attempt: 1, SessionMS: 2952, TLS: maildiag.Yes,
			MessageID: "20180812214658.1.0DF563D0B3597700@example.org", From: "Test Sender ",
		}},
		{41, maildiag.Event{ // rejected without id or recipient
			TimeUS: 1529704976104692, Type: "rejected", ID: synthetic,
			SendingDomain: "sandbox55887.mailgun.org", Recipient: "recipient@example.org", RecipientDomain: "example.org",
			LogLevel: "warn", Reason: "Sandbox subdomains are for test purposes only.",
			MessageID: "20180622220256.1.B31A451A2E5422BB@sandbox55887.mailgun.org", Subject: "Test Subject", From: "test@sandbox55887.mailgun.org",
		}},
		{46, maildiag.Event{ // bounce-type hard
			TimeUS: 1757598410978740, Type: "failed", ID: "9rEw5V8HRjabLEHgu6QupQ",
			Recipient: "permanent@example.com", RecipientDomain: "example.com",
			Severity: "permanent", Reason: "bounce", LogLevel: "error", Code: 550, EnhancedCode: "5.1.1",
			Reply: "5.1.1 The email account that you tried to reach does not exist", Attempt: 1, BounceType: "hard",
		}},
		{48, maildiag.Event{ // nested user-variables; EU storage URL
			TimeUS: 1420255392850187, Type: "accepted", ID: synthetic,
			SendingDomain: "example.com", Recipient: "dude@example.com", RecipientDomain: "example.com",
			MessageID: "20150103032312.125890.23497@example.com", Subject: "Test message going through the bus.",
			From: "Example <noreply@example.com>", Tags: []string{"sell_email_new"},
			StorageURL: "https://storage.eu.mailgun.net/v3/domains/example.com/messages/AgEASDSGFB8y4--TSDGxvccvmQB==",
		}},
		{49, maildiag.Event{ // user-variables is an error string
			TimeUS: 1420255392850187, Type: "accepted", ID: synthetic,
		}},
	}
	for _, tt := range tests {
		got := r.events[tt.line-1]
		want := tt.want
		if want.ID == synthetic {
			if !strings.HasPrefix(got.ID, "~") || len(got.ID) < 10 {
				t.Errorf("line %d: ID %q, want a synthetic id starting with ~", tt.line, got.ID)
			}
			want.ID = got.ID
		}
		for _, d := range diffEvent(got, want) {
			t.Errorf("line %d: %s", tt.line, d)
		}
		if !bytes.Equal(got.Raw, ls[tt.line-1]) {
			t.Errorf("line %d: Raw is not the line", tt.line)
		}
	}

	// Synthetic ids are stable across reads and differ between records.
	again := mustRead(t, data, Options{Workers: 1})
	seen := map[string]int{}
	for _, n := range []int{38, 39, 40, 41, 44, 45, 48, 49} {
		id := r.events[n-1].ID
		if id2 := again.events[n-1].ID; id != id2 {
			t.Errorf("line %d: synthetic id %q on one read, %q on another", n, id, id2)
		}
		if prev, dup := seen[id]; dup {
			t.Errorf("lines %d and %d share the synthetic id %q", prev, n, id)
		}
		seen[id] = n
	}
}

// TestEventsSampleAllLines checks the fields every line must get right,
// computing the expectation from the line's own JSON.
func TestEventsSampleAllLines(t *testing.T) {
	data := readFile(t, eventsFile)
	ls := lines(data)
	if len(ls) != 49 {
		t.Fatalf("events.jsonl has %d lines, want 49", len(ls))
	}
	r := mustRead(t, data, Options{})
	if len(r.events) != 49 {
		t.Fatalf("got %d events, want 49 (rejects: %s)", len(r.events), reasons(r.rejects))
	}
	// Recipients of lines without a recipient field.
	noRecipient := map[int]string{
		11: "", 12: "joan@example.org", 13: "", 14: "", 15: "", 18: "joan@example.org",
		19: "", 41: "recipient@example.org", 49: "",
	}
	for i, l := range ls {
		n := i + 1
		var src struct {
			Event     string      `json:"event"`
			ID        *string     `json:"id"`
			Timestamp json.Number `json:"timestamp"`
			AtTime    string      `json:"@timestamp"`
			Recipient *string     `json:"recipient"`
			Message   struct {
				Headers struct {
					MessageID string `json:"message-id"`
				} `json:"headers"`
			} `json:"message"`
		}
		d := json.NewDecoder(bytes.NewReader(l))
		d.UseNumber()
		if err := d.Decode(&src); err != nil {
			t.Fatalf("line %d: %v", n, err)
		}
		got := r.events[i]
		var wantUS int64
		if src.AtTime != "" {
			wantUS = isoMicros(t, src.AtTime)
		} else {
			wantUS = microsFromText(t, src.Timestamp.String())
		}
		if got.TimeUS != wantUS {
			t.Errorf("line %d: TimeUS %d, want %d (timestamp %s%s)", n, got.TimeUS, wantUS, src.Timestamp, src.AtTime)
		}
		if got.Type != strings.ToLower(src.Event) {
			t.Errorf("line %d: Type %q, want %q", n, got.Type, src.Event)
		}
		switch {
		case src.ID != nil && got.ID != *src.ID:
			t.Errorf("line %d: ID %q, want %q", n, got.ID, *src.ID)
		case src.ID == nil && !strings.HasPrefix(got.ID, "~"):
			t.Errorf("line %d: ID %q, want a synthetic ~ id", n, got.ID)
		}
		wantRcpt, ok := noRecipient[n]
		if !ok {
			if src.Recipient == nil {
				t.Fatalf("line %d has no recipient: add it to the table", n)
			}
			wantRcpt = strings.ToLower(*src.Recipient)
		}
		if got.Recipient != wantRcpt {
			t.Errorf("line %d: Recipient %q, want %q", n, got.Recipient, wantRcpt)
		}
		wantMID := strings.TrimSuffix(strings.TrimPrefix(src.Message.Headers.MessageID, "<"), ">")
		if got.MessageID != wantMID {
			t.Errorf("line %d: MessageID %q, want %q", n, got.MessageID, wantMID)
		}
		if !bytes.Equal(got.Raw, l) {
			t.Errorf("line %d: Raw differs from the line:\n got %q\nwant %q", n, got.Raw, l)
		}
	}
	if got, want := r.sum.Shapes, map[string]int{"events-api": 47, "logs-api": 2}; !mapsEqual(got, want) {
		t.Errorf("shapes %v, want %v", got, want)
	}
}

// TestEventVariants covers fields the samples do not: an enhanced code that
// only bounce-code carries, upper case addresses, angle brackets, codes in
// the reply text, Options.SendingDomain.
func TestEventVariants(t *testing.T) {
	tests := []struct {
		name string
		in   string
		opts Options
		want maildiag.Event
		bug  string
	}{
		{
			name: "enhanced code only in bounce-code",
			in:   `{"event":"failed","id":"a","timestamp":1666214138.4046676,"severity":"permanent","reason":"generic","recipient":"x@test.com","flags":{"is-delayed-bounce":true},"delivery-status":{"bounce-code":"5.2.2","message":"smtp; 550 mailbox unavailable","code":550}}`,
			want: maildiag.Event{TimeUS: 1666214138404667, Type: "failed", ID: "a", Recipient: "x@test.com", RecipientDomain: "test.com",
				Severity: "permanent", Reason: "generic", Code: 550, EnhancedCode: "5.2.2", Reply: "smtp; 550 mailbox unavailable", DelayedBounce: true},
		},
		{
			name: "empty enhanced-code falls back to bounce-code",
			in:   `{"event":"failed","id":"a","timestamp":1,"recipient":"x@test.com","delivery-status":{"enhanced-code":"","bounce-code":"5.1.1","code":550}}`,
			want: maildiag.Event{TimeUS: 1_000_000, Type: "failed", ID: "a", Recipient: "x@test.com", RecipientDomain: "test.com", Code: 550, EnhancedCode: "5.1.1"},
		},
		{
			name: "code and enhanced code from the reply text",
			in:   `{"event":"failed","id":"a","timestamp":1529692199.5,"recipient":"x@test.com","delivery-status":{"message":"smtp;550 5.7.1 [1.2.3.4] blocked"}}`,
			want: maildiag.Event{TimeUS: 1529692199500000, Type: "failed", ID: "a", Recipient: "x@test.com", RecipientDomain: "test.com",
				Code: 550, EnhancedCode: "5.7.1", Reply: "smtp;550 5.7.1 [1.2.3.4] blocked"},
		},
		{
			name: "enhanced code from the description when the reply has none",
			in:   `{"event":"failed","id":"a","timestamp":1,"recipient":"x@test.com","delivery-status":{"code":550,"message":"rejected","description":"550 5.1.10 RESOLVER.ADR.RecipientNotFound"}}`,
			want: maildiag.Event{TimeUS: 1_000_000, Type: "failed", ID: "a", Recipient: "x@test.com", RecipientDomain: "test.com",
				Code: 550, EnhancedCode: "5.1.10", Reply: "rejected", Description: "550 5.1.10 RESOLVER.ADR.RecipientNotFound"},
		},
		{
			name: "an IP address is not an enhanced code",
			in:   `{"event":"failed","id":"a","timestamp":1,"recipient":"x@test.com","delivery-status":{"code":421,"message":"Service unavailable, Client host [2.5.1.1] blocked"}}`,
			want: maildiag.Event{TimeUS: 1_000_000, Type: "failed", ID: "a", Recipient: "x@test.com", RecipientDomain: "test.com",
				Code: 421, Reply: "Service unavailable, Client host [2.5.1.1] blocked"},
		},
		{
			name: "addresses lower-cased, message-id brackets removed",
			in:   `{"event":"delivered","id":"a","timestamp":1,"recipient":" Alice@Example.COM ","recipient-domain":"Example.COM","message":{"headers":{"message-id":"<ABC@Mg.Example.com>"}},"delivery-status":{"code":"250","mx-host":"MX.Example.com","tls":false}}`,
			want: maildiag.Event{TimeUS: 1_000_000, Type: "delivered", ID: "a", SendingDomain: "mg.example.com", Recipient: "alice@example.com",
				RecipientDomain: "example.com", Code: 250, MXHost: "mx.example.com", TLS: maildiag.No, MessageID: "ABC@Mg.Example.com"},
		},
		{
			name: "event type lower-cased",
			in:   `{"event":"DELIVERED","id":"a","timestamp":1,"recipient":"x@test.com"}`,
			want: maildiag.Event{TimeUS: 1_000_000, Type: "delivered", ID: "a", Recipient: "x@test.com", RecipientDomain: "test.com"},
		},
		{
			name: "Options.SendingDomain when the record names none",
			in:   `{"event":"delivered","id":"a","timestamp":1,"recipient":"x@test.com","message":{"headers":{"message-id":"m@other.org"}}}`,
			opts: Options{SendingDomain: "mg.example.com"},
			want: maildiag.Event{TimeUS: 1_000_000, Type: "delivered", ID: "a", SendingDomain: "mg.example.com", Recipient: "x@test.com",
				RecipientDomain: "test.com", MessageID: "m@other.org"},
		},
		{
			name: "a domain field wins over Options.SendingDomain",
			in:   `{"event":"delivered","id":"a","@timestamp":"2024-07-08T16:30:18.530123Z","domain":{"name":"MG.Acme.com"},"recipient":"x@test.com"}`,
			opts: Options{SendingDomain: "mg.example.com"},
			want: maildiag.Event{TimeUS: isoMicros(t, "2024-07-08T16:30:18.530123Z"), Type: "delivered", ID: "a", SendingDomain: "mg.acme.com",
				Recipient: "x@test.com", RecipientDomain: "test.com"},
		},
		{
			name: "sending domain from the envelope sender",
			in:   `{"event":"accepted","id":"a","timestamp":1,"recipient":"x@test.com","envelope":{"sender":"bounce@Mg.Acme.com","targets":"x@test.com"}}`,
			want: maildiag.Event{TimeUS: 1_000_000, Type: "accepted", ID: "a", SendingDomain: "mg.acme.com", Recipient: "x@test.com", RecipientDomain: "test.com"},
		},
		{
			name: "recipient from a single envelope target",
			in:   `{"event":"accepted","id":"a","timestamp":1,"envelope":{"targets":"Bob@Test.com"}}`,
			want: maildiag.Event{TimeUS: 1_000_000, Type: "accepted", ID: "a", Recipient: "bob@test.com", RecipientDomain: "test.com"},
		},
		{
			name: "several envelope targets name no recipient",
			in:   `{"event":"accepted","id":"a","timestamp":1,"envelope":{"targets":"a@test.com, b@test.com"}}`,
			want: maildiag.Event{TimeUS: 1_000_000, Type: "accepted", ID: "a"},
		},
		{
			name: "Logs API time without a zone is UTC",
			in:   `{"event":"accepted","id":"a","@timestamp":"2024-07-08T16:30:18.5","recipient":"x@test.com"}`,
			want: maildiag.Event{TimeUS: isoMicros(t, "2024-07-08T16:30:18.5Z"), Type: "accepted", ID: "a", Recipient: "x@test.com", RecipientDomain: "test.com"},
		},
		{
			name: "a tag as a string",
			in:   `{"event":"opened","id":"a","timestamp":1377047343.042277,"recipient":"x@test.com","tags":"solo"}`,
			want: maildiag.Event{TimeUS: 1377047343042277, Type: "opened", ID: "a", Recipient: "x@test.com", RecipientDomain: "test.com", Tags: []string{"solo"}},
			bug:  "wire.Tags became []string: a string tag is dropped",
		},
		{
			name: "timestamp with no fraction and with more than 6 decimals",
			in:   `{"event":"opened","id":"a","timestamp":1377047343.0422779999,"recipient":"x@test.com"}`,
			want: maildiag.Event{TimeUS: 1377047343042277, Type: "opened", ID: "a", Recipient: "x@test.com", RecipientDomain: "test.com"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mustRead(t, []byte(tt.in+"\n"), tt.opts)
			if len(r.events) != 1 {
				t.Fatalf("got %d events, %d rejects (%s), want 1 event", len(r.events), len(r.rejects), reasons(r.rejects))
			}
			for _, d := range diffEvent(r.events[0], tt.want) {
				t.Error(d)
			}
			if !bytes.Equal(r.events[0].Raw, []byte(tt.in)) {
				t.Errorf("Raw %q, want the input", r.events[0].Raw)
			}
		})
	}
}

// TestStringTimestampEvent: an Events API item whose timestamp was written
// as a string (jq tostring, spreadsheet or BigQuery exports) is still an
// Events API item: its delivery-status, tags and message headers must load.
func TestStringTimestampEvent(t *testing.T) {
	in := `{"event":"failed","id":"a","timestamp":"1529692199.5","severity":"permanent","recipient":"x@test.com","tags":["t1"],"message":{"headers":{"message-id":"<m@mg.example.com>","subject":"Hi"}},"delivery-status":{"code":550,"message":"smtp;550 5.7.1 blocked","mx-host":"mx.test.com"}}`
	r := mustRead(t, []byte(in), Options{})
	if len(r.events) != 1 {
		t.Fatalf("got %d events (%s), want 1", len(r.events), reasons(r.rejects))
	}
	want := maildiag.Event{TimeUS: 1529692199500000, Type: "failed", ID: "a", SendingDomain: "mg.example.com", Recipient: "x@test.com",
		RecipientDomain: "test.com", Severity: "permanent", Code: 550, EnhancedCode: "5.7.1", Reply: "smtp;550 5.7.1 blocked",
		MXHost: "mx.test.com", MessageID: "m@mg.example.com", Subject: "Hi", Tags: []string{"t1"}}
	for _, d := range diffEvent(r.events[0], want) {
		t.Error(d)
	}
	if got := r.sum.Shapes; !mapsEqual(got, map[string]int{"events-api": 1}) {
		t.Errorf("shapes %v, want events-api 1", got)
	}
}

// TestWebhooksSample reads the webhook payloads: signed webhooks (lines 1-8)
// and legacy flat ones (9-12).
func TestWebhooksSample(t *testing.T) {
	data := readFile(t, webhooksFile)
	events := lines(readFile(t, eventsFile))
	wl := lines(data)
	r := mustRead(t, data, Options{})
	if len(r.events) != 9 {
		t.Fatalf("got %d events, want 9 (8 webhooks + 1 legacy)", len(r.events))
	}
	// events.jsonl lines 29-36 are the event-data of webhooks 1-8.
	plain := mustRead(t, bytes.Join(events[28:36], []byte("\n")), Options{})
	for i := range 8 {
		got := r.events[i]
		if !bytes.Equal(got.Raw, events[28+i]) {
			t.Errorf("webhook line %d: Raw is not the event-data object:\n got %q\nwant %q", i+1, got.Raw, events[28+i])
		}
		if !bytes.Contains(wl[i], got.Raw) {
			t.Errorf("webhook line %d: Raw is not part of the payload", i+1)
		}
		for _, d := range diffEvent(got, plain.events[i]) {
			t.Errorf("webhook line %d vs events line %d: %s", i+1, 29+i, d)
		}
	}
	wantTypes := []string{"accepted", "clicked", "delivered", "failed", "failed", "complained", "failed", "unsubscribed"}
	for i, w := range wantTypes {
		if r.events[i].Type != w {
			t.Errorf("webhook line %d: Type %q, want %q", i+1, r.events[i].Type, w)
		}
	}

	// Line 9: legacy "dropped" 605.
	want := maildiag.Event{
		TimeUS: 1461261330_000000, Type: "failed", SendingDomain: "example.com",
		Recipient: "bounce@example.com", RecipientDomain: "example.com",
		Severity: "permanent", Reason: "suppress-bounce", Code: 605,
		Description: "Not delivering to previously bounced address",
		MessageID:   "20160421180324.70521.79375.96884DDB@example.com",
	}
	got := r.events[8]
	if !strings.HasPrefix(got.ID, "~") {
		t.Errorf("legacy line 9: ID %q, want a synthetic ~ id", got.ID)
	}
	want.ID = got.ID
	for _, d := range diffEvent(got, want) {
		t.Errorf("legacy line 9: %s", d)
	}
	if !bytes.Equal(got.Raw, wl[8]) {
		t.Errorf("legacy line 9: Raw %q, want the line", got.Raw)
	}

	// Lines 10-12 have no timestamp.
	if len(r.rejects) != 3 {
		t.Fatalf("got %d rejects, want 3", len(r.rejects))
	}
	offset := int64(0)
	lineOffsets := map[int64]int64{}
	for i, l := range wl {
		lineOffsets[int64(i+1)] = offset
		offset += int64(len(l)) + 1
	}
	for i, rj := range r.rejects {
		n := int64(10 + i)
		if rj.Line != n || rj.Item != 0 {
			t.Errorf("reject %d: line %d item %d, want line %d item 0", i, rj.Line, rj.Item, n)
		}
		if rj.Offset != lineOffsets[n] {
			t.Errorf("reject %d: offset %d, want %d", i, rj.Offset, lineOffsets[n])
		}
		if !strings.Contains(rj.Reason, "timestamp") {
			t.Errorf("reject %d: reason %q does not mention the timestamp", i, rj.Reason)
		}
		if !bytes.Equal(rj.Raw, wl[n-1]) {
			t.Errorf("reject %d: Raw %q, want line %d", i, rj.Raw, n)
		}
	}
	if got, want := r.sum.Shapes, map[string]int{"webhook": 8, "legacy-webhook": 1}; !mapsEqual(got, want) {
		t.Errorf("shapes %v, want %v", got, want)
	}
}

// TestLegacyWebhooks covers the legacy forms once they carry a timestamp.
func TestLegacyWebhooks(t *testing.T) {
	tests := []struct {
		in   string
		want maildiag.Event
	}{
		{
			`{"code":"607","description":"Not delivering to a user who marked your messages as spam","reason":"hardfail","event":"dropped","recipient":"Complaint@example.com","timestamp":"1461261330.25","domain":"mg.example.com"}`,
			maildiag.Event{TimeUS: 1461261330250000, Type: "failed", SendingDomain: "mg.example.com", Recipient: "complaint@example.com", RecipientDomain: "example.com",
				Severity: "permanent", Reason: "suppress-complaint", Code: 607, Description: "Not delivering to a user who marked your messages as spam"},
		},
		{
			`{"code":"499","description":"Unable to connect to MX servers: [example.com]","reason":"old","event":"dropped","recipient":"complaint@example.com","timestamp":"1461261330"}`,
			maildiag.Event{TimeUS: 1461261330000000, Type: "failed", Recipient: "complaint@example.com", RecipientDomain: "example.com",
				Severity: "permanent", Reason: "old", Code: 499, Description: "Unable to connect to MX servers: [example.com]"},
		},
		{
			`{"code":"5.1.1","error":"smtp;550 5.1.1 RESOLVER.ADR.RecipNotFound; not found","event":"bounced","recipient":"noreply@example.com","timestamp":"1461261330"}`,
			maildiag.Event{TimeUS: 1461261330000000, Type: "failed", Recipient: "noreply@example.com", RecipientDomain: "example.com",
				Severity: "permanent", Reason: "bounce", Code: 550, EnhancedCode: "5.1.1", Reply: "smtp;550 5.1.1 RESOLVER.ADR.RecipNotFound; not found"},
		},
	}
	for i, tt := range tests {
		r := mustRead(t, []byte(tt.in), Options{})
		if len(r.events) != 1 {
			t.Fatalf("case %d: got %d events, rejects %s", i, len(r.events), reasons(r.rejects))
		}
		got := r.events[0]
		if !strings.HasPrefix(got.ID, "~") {
			t.Errorf("case %d: ID %q, want synthetic", i, got.ID)
		}
		tt.want.ID = got.ID
		for _, d := range diffEvent(got, tt.want) {
			t.Errorf("case %d: %s", i, d)
		}
		if r.sum.Shapes["legacy-webhook"] != 1 {
			t.Errorf("case %d: shapes %v, want legacy-webhook 1", i, r.sum.Shapes)
		}
	}
}
