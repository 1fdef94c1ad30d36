package importer_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/maildiag/maildiag/importer"
	"github.com/maildiag/maildiag/internal/testkit"
)

// identity is what makes a Mailgun event one event: ids are unique only
// within a day, and Mailgun's own examples reuse one id for several
// recipients (and for events of several types).
type identity struct {
	typ, id, recipient string
	day                int64
}

// sampleIdentities reads the identities of the events in a JSON-lines
// sample file on its own terms, with encoding/json: no maildiag code.
func sampleIdentities(t *testing.T, path string) (map[identity]int, int) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[identity]int{}
	n := 0
	for i, line := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
		var ev struct {
			Event     string          `json:"event"`
			ID        string          `json:"id"`
			Recipient string          `json:"recipient"`
			Timestamp json.RawMessage `json:"timestamp"`
			ISO       string          `json:"@timestamp"`
			Envelope  struct {
				Targets string `json:"targets"`
			} `json:"envelope"`
			Message struct {
				Headers struct {
					To string `json:"to"`
				} `json:"headers"`
			} `json:"message"`
		}
		if err := json.Unmarshal(line, &ev); err != nil {
			t.Fatalf("%s:%d: %v", path, i+1, err)
		}
		var ts time.Time
		if ev.ISO != "" {
			if ts, err = time.Parse(time.RFC3339Nano, ev.ISO); err != nil {
				t.Fatalf("%s:%d: @timestamp: %v", path, i+1, err)
			}
		} else {
			var f float64
			if err := json.Unmarshal(ev.Timestamp, &f); err != nil {
				t.Fatalf("%s:%d: timestamp: %v", path, i+1, err)
			}
			sec, frac := math.Modf(f)
			ts = time.Unix(int64(sec), int64(frac*1e9))
		}
		id := ev.ID
		if id == "" {
			id = fmt.Sprintf("line %d", i+1) // no id: the record is its own identity
		}
		// The recipient, else the envelope's one target, else (a rejected
		// event names no recipient) its To header.
		rcpt := ev.Recipient
		if a, err := mail.ParseAddress(ev.Envelope.Targets); rcpt == "" && err == nil {
			rcpt = a.Address
		}
		if a, err := mail.ParseAddress(ev.Message.Headers.To); rcpt == "" && ev.Event == "rejected" && err == nil {
			rcpt = a.Address
		}
		ids[identity{ev.Event, id, strings.ToLower(rcpt), ts.UTC().Unix() / 86400}]++
		n++
	}
	return ids, n
}

// TestEventIdentityOnSamples: the Mailgun samples hold one id for several
// recipients (complained, ncV2XwymRUKbPek_MIM-Gw: foo@ and recipient@), for
// several types (Kr9ZsE8ATfqhNHYmRKlrHg: list_member_upload_error and
// list_uploaded; czsjqFATSlC3QtAK-C80nw: accepted to baz@, failed to bar@),
// and the same event twice. The index keeps one event per (type, id,
// recipient, UTC day), exactly the sample's count, and an import of it
// again stores nothing.
func TestEventIdentityOnSamples(t *testing.T) {
	path := filepath.Join(samples, "events.jsonl")
	want, lines := sampleIdentities(t, path)
	if len(want) == lines {
		t.Fatal("the samples hold no event twice: the test would prove nothing")
	}
	reused := map[string]map[string]bool{}
	for k := range want {
		if reused[k.id] == nil {
			reused[k.id] = map[string]bool{}
		}
		reused[k.id][k.typ+" "+k.recipient] = true
	}
	for _, id := range []string{"ncV2XwymRUKbPek_MIM-Gw", "Kr9ZsE8ATfqhNHYmRKlrHg", "czsjqFATSlC3QtAK-C80nw"} {
		if len(reused[id]) != 2 {
			t.Fatalf("samples: id %s has %d identities, want 2", id, len(reused[id]))
		}
	}

	db, w := store(t)
	im := newImporter(t, db, w, importer.Options{})
	imps, rejects := load(t, im, path)
	if len(rejects) != 0 {
		t.Fatalf("rejects: %v", rejects)
	}
	if imps[0].EventsRead != lines || imps[0].EventsNew != len(want) {
		t.Errorf("import read %d events, %d new; want %d and %d (one per identity)", imps[0].EventsRead, imps[0].EventsNew, lines, len(want))
	}
	// Every identity the samples hold is in the index, once.
	got := map[identity]int{}
	for _, r := range testkit.Query(t, db, `SELECT f.type, json_extract(j.json, '$.id'), COALESCE(f.recipient, ''), f.day
		FROM events_full f JOIN event_json j ON j.day = f.day AND j.recipient_id = f.recipient_id AND j.id_hash = f.id_hash`) {
		id, _ := r[1].(string)
		got[identity{r[0].(string), id, r[2].(string), r[3].(int64)}]++
	}
	for k, n := range got {
		if n != 1 {
			t.Errorf("%v stored %d times", k, n)
		}
	}
	for k := range want {
		if strings.HasPrefix(k.id, "line ") {
			continue // stored under an id of its own
		}
		if got[k] != 1 {
			t.Errorf("%v: stored %d times, want once", k, got[k])
		}
	}
	if n := count(t, db, "SELECT COUNT(*) FROM events"); n != int64(len(want)) {
		t.Errorf("%d events in the index, want %d", n, len(want))
	}
	imps, _ = load(t, im, path)
	if imps[0].EventsNew != 0 {
		t.Errorf("a second import stored %d events, want 0", imps[0].EventsNew)
	}

	// The same id, type and recipient on another day is another event.
	moved := filepath.Join(t.TempDir(), "next-day.jsonl")
	first, _, _ := bytes.Cut(mustRead(t, path), []byte("\n"))
	var ev map[string]any
	if err := json.Unmarshal(first, &ev); err != nil {
		t.Fatal(err)
	}
	ev["timestamp"] = ev["timestamp"].(float64) + 86400
	b, _ := json.Marshal(ev)
	if err := os.WriteFile(moved, append(b, '\n'), 0o600); err != nil {
		t.Fatal(err)
	}
	imps, _ = load(t, im, moved)
	if imps[0].EventsNew != 1 {
		t.Errorf("the same id a day later: %d new, want 1", imps[0].EventsNew)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
