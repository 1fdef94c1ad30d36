package server

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/maildiag/maildiag/analyze"
	"github.com/maildiag/maildiag/internal/mgtest"
	"github.com/maildiag/maildiag/internal/testkit"
	"github.com/maildiag/maildiag/mgserver"
	"github.com/maildiag/maildiag/syncer"
	"github.com/maildiag/maildiag/synth"
)

// samplesKey is the signing key Symfony's Mailgun webhook tests use: the
// shared samples' JSON webhooks (their fixtures) are signed with it.
const samplesKey = "key-0p6mqbf74lb20gzq9f4dhpn9rg3zyk26"

func sampleWebhooks(t *testing.T) [][]byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "shared", "samples", "webhooks.jsonl"))
	if err != nil {
		t.Skipf("the shared samples are beside the repository: %v", err)
	}
	var out [][]byte
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		out = append(out, bytes.Clone(sc.Bytes()))
	}
	return out
}

func sign(key, ts, token string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(ts + token))
	return hex.EncodeToString(m.Sum(nil))
}

// The real webhook samples, with their real signatures, are stored; those
// whose token another sample used before are refused as replays; the
// stored events are found by the API.
func TestWebhookSamples(t *testing.T) {
	lines := sampleWebhooks(t)
	var clock struct {
		sync.Mutex
		now time.Time
	}
	ts := startServer(t, "", Config{SigningKey: samplesKey, Now: func() time.Time { clock.Lock(); defer clock.Unlock(); return clock.now }})
	seen := map[string]bool{}
	stored := 0
	for i, line := range lines {
		var w struct {
			Signature *struct{ Timestamp, Token string } `json:"signature"`
		}
		json.Unmarshal(line, &w)
		if w.Signature == nil {
			continue // legacy samples carry no signature: below
		}
		secs, _ := strconv.ParseInt(w.Signature.Timestamp, 10, 64)
		clock.Lock()
		clock.now = time.Unix(secs+30, 0) // received 30 s after signing
		clock.Unlock()
		code, body := post(t, ts.URL+"/webhooks/mailgun", "application/json", line)
		want := 200
		if seen[w.Signature.Token] {
			want = 406 // the samples reuse tokens: the second is a replay
		}
		seen[w.Signature.Token] = true
		if code != want {
			t.Errorf("sample %d: %d %s, want %d", i+1, code, body, want)
		}
		if code == 200 {
			stored++
		}
		// The same request again is a replay, whatever it carries.
		if code, body := post(t, ts.URL+"/webhooks/mailgun", "application/json", line); code != 406 || !strings.Contains(body, "replay") {
			t.Errorf("sample %d again: %d %s, want 406 replay", i+1, code, body)
		}
	}
	if stored != 6 {
		t.Errorf("%d samples stored, want 6 (8 signed, 2 reusing a token)", stored)
	}
	if n := count(t, ts.DB, "SELECT COUNT(*) FROM events"); n != int64(stored) {
		t.Errorf("%d events in the index, want %d", n, stored)
	}
	tok := ts.user(t, "vic", "viewer")
	code, body := ts.do(t, "GET", "/api/v1/events?to=alice@example.com&limit=50", tok, nil)
	var items []analyze.EventItem
	if err := json.Unmarshal(body, &items); code != 200 || err != nil {
		t.Fatalf("search: %d %s", code, body)
	}
	if len(items) != stored {
		t.Errorf("search found %d events of alice@example.com, want %d", len(items), stored)
	}
}

// Bad signatures, old or future timestamps and bodies that are no
// webhook are refused, and nothing is stored.
func TestWebhookRefusals(t *testing.T) {
	const key = "whsec-test-0123456789"
	now := time.Unix(1_780_000_000, 0)
	ts := startServer(t, "", Config{SigningKey: key, Now: func() time.Time { return now }})
	hook := func(ts, token, sig string, data string) []byte {
		return fmt.Appendf(nil, `{"signature":{"timestamp":%q,"token":%q,"signature":%q},"event-data":%s}`, ts, token, sig, data)
	}
	ev := `{"event":"delivered","id":"abcDEF123","timestamp":1780000000.5,"recipient":"jane@initech.example","message":{"headers":{"message-id":"m1@mg.example.com"}},"delivery-status":{"code":250}}`
	at := strconv.FormatInt(now.Unix(), 10)
	old := strconv.FormatInt(now.Add(-10*time.Minute).Unix(), 10)
	ahead := strconv.FormatInt(now.Add(10*time.Minute).Unix(), 10)
	for _, c := range []struct {
		name string
		body []byte
		ct   string
		want int
	}{
		{"bad signature", hook(at, "t1", sign("other-key", at, "t1"), ev), "application/json", 401},
		{"signature of another token", hook(at, "t2", sign(key, at, "t1"), ev), "application/json", 401},
		{"old timestamp", hook(old, "t3", sign(key, old, "t3"), ev), "application/json", 406},
		{"future timestamp", hook(ahead, "t4", sign(key, ahead, "t4"), ev), "application/json", 406},
		{"not JSON", []byte(`{"signature":`), "application/json", 406},
		{"no event-data", []byte(fmt.Sprintf(`{"signature":{"timestamp":%q,"token":"t5","signature":%q}}`, at, sign(key, at, "t5"))), "application/json", 406},
		{"event-data not an event", hook(at, "t6", sign(key, at, "t6"), `{"hello":"world"}`), "application/json", 406},
		{"no signature", []byte(`{"event-data":` + ev + `}`), "application/json", 406},
		{"empty form", nil, "application/x-www-form-urlencoded", 406},
	} {
		code, body := post(t, ts.URL+"/webhooks/mailgun", c.ct, c.body)
		if code != c.want {
			t.Errorf("%s: %d %s, want %d", c.name, code, body, c.want)
		}
		if strings.Contains(body, key) {
			t.Errorf("%s: the signing key is in the answer", c.name)
		}
	}
	if n := count(t, ts.DB, "SELECT COUNT(*) FROM events"); n != 0 {
		t.Errorf("%d events stored from refused webhooks", n)
	}
	// A good one is stored, once.
	if code, body := post(t, ts.URL+"/webhooks/mailgun", "application/json", hook(at, "t7", sign(key, at, "t7"), ev)); code != 200 {
		t.Fatalf("good webhook: %d %s", code, body)
	}
	if n := count(t, ts.DB, "SELECT COUNT(*) FROM events"); n != 1 {
		t.Errorf("%d events stored, want 1", n)
	}
	if strings.Contains(ts.Log.String(), key) {
		t.Error("the signing key is in the log")
	}
}

// A legacy (pre-2018) form-encoded webhook is verified by its form fields
// and stored as the importer would store it.
func TestLegacyWebhook(t *testing.T) {
	const key = "whsec-legacy"
	now := time.Unix(1_780_000_000, 0)
	ts := startServer(t, "", Config{SigningKey: key, Now: func() time.Time { return now }})
	at := strconv.FormatInt(now.Unix(), 10)
	form := url.Values{"event": {"dropped"}, "recipient": {"bob@acme.example"}, "code": {"605"}, "reason": {"hardfail"},
		"description": {"Not delivering to previously bounced address"}, "domain": {"mg.example.com"},
		"Message-Id": {"<legacy1@mg.example.com>"}, "timestamp": {at}, "token": {"legacy-token-1"}, "signature": {sign(key, at, "legacy-token-1")}}
	code, body := post(t, ts.URL+"/webhooks/mailgun", "application/x-www-form-urlencoded", []byte(form.Encode()))
	if code != 200 {
		t.Fatalf("legacy webhook: %d %s", code, body)
	}
	rows := testkit.Query(t, ts.DB, "SELECT type, recipient, sending_domain FROM events_full")
	if len(rows) != 1 || rows[0][0] != "failed" || rows[0][1] != "bob@acme.example" || rows[0][2] != "mg.example.com" {
		t.Errorf("stored %v, want one failed event of bob@acme.example from mg.example.com", rows)
	}
	form.Set("signature", sign("wrong", at, "legacy-token-1"))
	form.Set("token", "legacy-token-2")
	if code, body := post(t, ts.URL+"/webhooks/mailgun", "application/x-www-form-urlencoded", []byte(form.Encode())); code != 401 {
		t.Errorf("legacy webhook with a bad signature: %d %s, want 401", code, body)
	}
}

// Events that arrive by webhook and by the API sync are stored once,
// whichever comes first; the replay memory is in the index, so a second
// server process on the same index refuses a token the first one saw.
func TestWebhookAndSyncStoredOnce(t *testing.T) {
	cfg := mgtest.Config(1500, mgtest.Domains[0])
	mg := mgtest.New(t, cfg, mgserver.Options{})
	var hooks bytes.Buffer
	if _, err := synth.Write(context.Background(), &hooks, cfg, synth.Output{Format: synth.FormatWebhooks}); err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSpace(hooks.Bytes()), []byte("\n"))
	half := len(lines) / 2
	end := mg.Res.End
	ts := startServer(t, "", Config{SigningKey: mg.Res.SigningKey, WebhookMaxAge: 30 * 24 * time.Hour, Now: func() time.Time { return end }})
	for _, l := range lines[:half] {
		if code, body := post(t, ts.URL+"/webhooks/mailgun", "application/json", l); code != 200 {
			t.Fatalf("webhook: %d %s", code, body)
		}
	}
	// The sync reads every event, half of them already stored.
	w, err := ts.DB.NewWriter(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	sum, err := syncer.Run(context.Background(), ts.DB, w, testkit.Client(t, mg.URL, mgtest.Key, 2),
		syncer.Options{Source: "events", Since: end.Add(-9 * 24 * time.Hour), Now: func() time.Time { return end }, NoSuppressions: true}, nil)
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	if sum.Domains[0].EventsNew != len(lines)-half {
		t.Errorf("sync stored %d new events, want %d (the other %d came by webhook)", sum.Domains[0].EventsNew, len(lines)-half, half)
	}
	// The rest by webhook: all already there.
	for _, l := range lines[half:] {
		if code, body := post(t, ts.URL+"/webhooks/mailgun", "application/json", l); code != 200 {
			t.Fatalf("webhook: %d %s", code, body)
		}
	}
	testkit.SameEvents(t, "webhooks and sync", ts.Path, testkit.EventKeys(t, mg.Acct, nil))
	// Another server process on the same index knows the tokens.
	ts2 := startServer(t, ts.Path, Config{SigningKey: mg.Res.SigningKey, WebhookMaxAge: 30 * 24 * time.Hour, Now: func() time.Time { return end }})
	if code, body := post(t, ts2.URL+"/webhooks/mailgun", "application/json", lines[0]); code != 406 {
		t.Errorf("a token the first server saw, at the second: %d %s, want 406", code, body)
	}
}

// Many webhooks at once are each answered once committed.
func TestWebhookFlood(t *testing.T) {
	cfg := mgtest.Config(2000, mgtest.Domains[0])
	var hooks bytes.Buffer
	res, err := synth.Write(context.Background(), &hooks, cfg, synth.Output{Format: synth.FormatWebhooks})
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSpace(hooks.Bytes()), []byte("\n"))
	ts := startServer(t, "", Config{SigningKey: res.SigningKey, WebhookMaxAge: 30 * 24 * time.Hour, Now: func() time.Time { return res.End }})
	var wg sync.WaitGroup
	errs := make(chan string, len(lines))
	next := make(chan []byte)
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for l := range next {
				resp, err := httpClient.Post(ts.URL+"/webhooks/mailgun", "application/json", bytes.NewReader(l))
				if err != nil {
					errs <- err.Error()
					continue
				}
				resp.Body.Close()
				if resp.StatusCode != 200 {
					errs <- resp.Status
				}
			}
		}()
	}
	start := time.Now()
	for _, l := range lines {
		next <- l
	}
	close(next)
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Errorf("webhook: %s", e)
		break
	}
	t.Logf("%d webhooks in %s", len(lines), time.Since(start))
	if n := count(t, ts.DB, "SELECT COUNT(*) FROM webhook_tokens"); n != int64(len(lines)) {
		t.Errorf("%d tokens recorded, want %d", n, len(lines))
	}
	if _, rows := testkit.IndexKeys(t, ts.Path); rows == 0 {
		t.Error("nothing stored")
	}
}
