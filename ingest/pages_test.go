package ingest

import (
	"bytes"
	"errors"
	"testing"

	"github.com/maildiag/maildiag"
)

func TestParsePage(t *testing.T) {
	tests := []struct {
		name            string
		body            string
		items, events   int
		rejects         int
		next            string
		firstUS, lastUS int64
	}{
		{"events page", `{"items":[
			{"event":"accepted","id":"a1","timestamp":1763600000.5,"recipient":"Jane@Example.com"},
			{"event":"delivered","id":"a2","timestamp":1763600001.25,"recipient":"jane@example.com"}],
			"paging":{"next":"https://api.mailgun.net/v3/mg.x.io/events/WzMsIm","first":"f","last":"l","previous":"p"}}`,
			2, 2, 0, "https://api.mailgun.net/v3/mg.x.io/events/WzMsIm", 1763600000_500000, 1763600001_250000},
		{"logs page", `{"start":"Thu, 20 Nov 2025 00:00:00 -0000","items":[
			{"event":"failed","id":"b1","@timestamp":"2025-11-20T01:02:03.456Z","recipient":"x@y.com","domain":{"name":"mg.x.io"}}],
			"pagination":{"next":"tok-2"},"aggregates":{}}`, 1, 1, 0, "tok-2", 1763600523_456000, 1763600523_456000},
		{"last logs page", `{"items":[],"pagination":{}}`, 0, 0, 0, "", 0, 0},
		{"a bad item is a reject, the rest loads", `{"items":[{"event":"accepted","id":"c1"},
			{"event":"accepted","id":"c2","timestamp":1763600000}],"paging":{"next":"n"}}`, 2, 1, 1, "n", 1763600000_000000, 1763600000_000000},
		{"unknown event type kept", `{"items":[{"event":"trapped","id":"d1","timestamp":1763600000}],"paging":{}}`, 1, 1, 0, "", 1763600000_000000, 1763600000_000000},
		{"null items", `{"items":null,"paging":{}}`, 0, 0, 0, "", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, info, err := parsePage([]byte(tt.body), Options{SendingDomain: "mg.x.io"})
			if err != nil {
				t.Fatal(err)
			}
			if info.Items != tt.items || len(b.Events) != tt.events || len(b.Rejects) != tt.rejects {
				t.Errorf("items %d, events %d, rejects %d; want %d, %d, %d", info.Items, len(b.Events), len(b.Rejects), tt.items, tt.events, tt.rejects)
			}
			if info.Next != tt.next || info.FirstUS != tt.firstUS || info.LastUS != tt.lastUS {
				t.Errorf("next %q, first %d, last %d; want %q, %d, %d", info.Next, info.FirstUS, info.LastUS, tt.next, tt.firstUS, tt.lastUS)
			}
			for _, ev := range b.Events {
				if ev.SendingDomain != "mg.x.io" || ev.ID == "" || len(ev.Raw) == 0 {
					t.Errorf("event %s: sending domain %q, %d raw bytes", ev.ID, ev.SendingDomain, len(ev.Raw))
				}
			}
		})
	}
}

func TestParsePageNormalisesLikeRead(t *testing.T) {
	// The sample events as one Events API page.
	lines := bytes.Split(bytes.TrimSpace(readFile(t, eventsFile)), []byte("\n"))
	body := append(append([]byte(`{"items":[`), bytes.Join(lines, []byte(",\n"))...), `],"paging":{"next":"n"}}`...)
	b, _, err := parsePage(body, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var viaRead []maildiag.Event
	if _, err := Read(t.Context(), bytes.NewReader(body), Options{}, func(rb *Batch) error {
		viaRead = append(viaRead, rb.Events...)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(b.Events) == 0 || len(b.Events) != len(viaRead) {
		t.Fatalf("ParsePage: %d events, Read: %d", len(b.Events), len(viaRead))
	}
	for i := range viaRead {
		got, want := b.Events[i], viaRead[i]
		got.Raw, want.Raw = nil, nil
		if got.ID != want.ID || got.TimeUS != want.TimeUS || got.Recipient != want.Recipient || got.Code != want.Code ||
			got.EnhancedCode != want.EnhancedCode || got.SendingDomain != want.SendingDomain || got.Class != want.Class {
			t.Fatalf("event %d differs: ParsePage %+v, Read %+v", i, got, want)
		}
	}
}

func TestParsePageRefusesNonPages(t *testing.T) {
	for _, body := range []string{``, `[]`, `{"message":"Domain not found"}`, `{"items":{"a":1}}`, `{"items":[{"event":"accepted"`, `<html>502</html>`} {
		if _, _, err := parsePage([]byte(body), Options{}); !errors.Is(err, ErrNotPage) {
			t.Errorf("parsePage(%q): %v, want ErrNotPage", body, err)
		}
	}
}

func FuzzParsePage(f *testing.F) {
	f.Add([]byte(`{"items":[{"event":"accepted","id":"a","timestamp":1.5}],"paging":{"next":"n"}}`))
	f.Add([]byte(`{"items":[{"event":"failed","@timestamp":"2025-11-20T01:02:03Z","id":"b"}],"pagination":{"next":"t"}}`))
	f.Add([]byte(`{"items":[{"address":"a@b.c","code":"550","created_at":"Thu, 11 Dec 2025 01:49:40 UTC"}],"paging":{"next":"https://h/v3/d/bounces?page=next"}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		b, info, err := parsePage(body, Options{SendingDomain: "d"})
		if err != nil {
			return
		}
		if info.Items != len(b.Events)+len(b.Suppressions)+len(b.Rejects) {
			t.Fatalf("items %d, but %d events, %d entries, %d rejects", info.Items, len(b.Events), len(b.Suppressions), len(b.Rejects))
		}
		if len(b.Events) > 0 && (info.FirstUS != b.Events[0].TimeUS || info.LastUS != b.Events[len(b.Events)-1].TimeUS) {
			t.Fatal("first and last times are not the first and last event's")
		}
	})
}
