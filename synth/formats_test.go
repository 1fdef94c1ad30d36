package synth

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

var formatCfg = Config{Seed: 5, Events: 2000, End: testEnd}

func lines(t *testing.T, b []byte) [][]byte {
	t.Helper()
	var out [][]byte
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		l := append([]byte(nil), sc.Bytes()...)
		if !utf8.Valid(l) {
			t.Fatalf("line %d is not valid UTF-8", len(out)+1)
		}
		out = append(out, l)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func decode(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("invalid JSON: %v\n%s", err, b)
	}
	return m
}

func obj(m map[string]any, path ...string) map[string]any {
	for _, p := range path {
		m, _ = m[p].(map[string]any)
	}
	return m
}

func str(m map[string]any, key string) string { s, _ := m[key].(string); return s }

var (
	storageURL = regexp.MustCompile(`^https://storage-us-east4\.api\.mailgun\.net/v3/domains/([a-z0-9.-]+)/messages/([A-Za-z0-9_-]+)$`)
	epoch6     = regexp.MustCompile(`"timestamp":\d{10}\.\d{6}[,}]`)
	eventID    = regexp.MustCompile(`^[A-Za-z0-9_-]{21}[AQgw]$`)
	iso3       = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)
	enhanced   = regexp.MustCompile(`\b[245]\.\d{1,3}\.\d{1,3}\b`)
)

// checkEventsItem checks one Events API item and returns its sending
// domain as a reader would derive it.
func checkEventsItem(t *testing.T, raw []byte) string {
	t.Helper()
	m := decode(t, raw)
	typ := str(m, "event")
	if !eventID.MatchString(str(m, "id")) {
		t.Errorf("%s: id %q is not 22 base64url characters", typ, str(m, "id"))
	}
	if !epoch6.Match(raw) {
		t.Errorf("%s: timestamp without exactly six decimals: %.120s", typ, raw)
	}
	msgID := str(obj(m, "message", "headers"), "message-id")
	domain := msgID[strings.LastIndexByte(msgID, '@')+1:]
	if rcpt := str(m, "recipient"); rcpt != "" && str(m, "recipient-domain") != "" && !strings.HasSuffix(rcpt, "@"+str(m, "recipient-domain")) {
		t.Errorf("%s: recipient %q outside recipient-domain %q", typ, rcpt, str(m, "recipient-domain"))
	}
	if st := obj(m, "storage"); st != nil {
		g := storageURL.FindStringSubmatch(str(st, "url"))
		if g == nil || g[1] != domain || g[2] != str(st, "key") {
			t.Errorf("%s: storage %v does not name sending domain %s", typ, st, domain)
		}
	}
	if sender := str(obj(m, "envelope"), "sender"); sender != "" && !strings.HasSuffix(sender, "@"+domain) {
		t.Errorf("%s: envelope sender %q not at %s", typ, sender, domain)
	}
	switch typ {
	case Accepted:
		if str(m, "recipient") == "" || obj(m, "storage") == nil || m["user-variables"] == nil {
			t.Errorf("accepted without recipient, storage or user-variables: %s", raw)
		}
	case Delivered:
		ds := obj(m, "delivery-status")
		if ds["code"] != 250.0 || str(ds, "mx-host") == "" || str(ds, "message") == "" || ds["attempt-no"].(float64) < 1 {
			t.Errorf("delivered with delivery-status %v", ds)
		}
	case Failed:
		ds := obj(m, "delivery-status")
		sev, reason := str(m, "severity"), str(m, "reason")
		if sev != Temporary && sev != Permanent || reason == "" {
			t.Errorf("failed with severity %q reason %q", sev, reason)
		}
		if _, ok := ds["code"].(float64); !ok {
			t.Errorf("failed without a numeric code: %v", ds)
		}
		if sev == Temporary && ds["retry-seconds"] == nil {
			t.Errorf("temporary failure without retry-seconds: %v", ds)
		}
	case Opened, Clicked, Unsubscribed:
		if obj(m, "geolocation") == nil || obj(m, "client-info") == nil || str(m, "ip") == "" {
			t.Errorf("%s without geolocation, client-info or ip: %s", typ, raw)
		}
		if typ == Clicked && !strings.HasPrefix(str(m, "url"), "https://") {
			t.Errorf("clicked url %q", str(m, "url"))
		}
	case Rejected:
		if m["recipient"] != nil || str(obj(m, "reject"), "reason") == "" {
			t.Errorf("rejected with a recipient or without a reason: %s", raw)
		}
	}
	return domain
}

func TestEventsJSONL(t *testing.T) {
	out, res := write(t, formatCfg, Output{Format: FormatEventsJSONL})
	ls := lines(t, out)
	if len(ls) != formatCfg.Events {
		t.Fatalf("%d lines, want %d", len(ls), formatCfg.Events)
	}
	seen := map[string]bool{}
	for _, l := range ls {
		d := checkEventsItem(t, l)
		if _, ok := res.ByDomain[d]; !ok {
			t.Fatalf("domain %q of %s is not a sending domain", d, l)
		}
		seen[str(decode(t, l), "event")] = true
	}
	for _, typ := range []string{Accepted, Delivered, Failed, Opened, Clicked, Complained} {
		if !seen[typ] {
			t.Errorf("no %s event in %d events", typ, len(ls))
		}
	}
}

func TestEventsArray(t *testing.T) {
	jsonl, _ := write(t, formatCfg, Output{Format: FormatEventsJSONL})
	want := lines(t, jsonl)
	for _, pretty := range []bool{false, true} {
		out, _ := write(t, formatCfg, Output{Format: FormatEventsArray, Pretty: pretty})
		var items []json.RawMessage
		if err := json.Unmarshal(out, &items); err != nil {
			t.Fatalf("pretty=%v: not a JSON array: %v", pretty, err)
		}
		if len(items) != len(want) {
			t.Fatalf("pretty=%v: %d items, want %d", pretty, len(items), len(want))
		}
		for i := range items {
			var c bytes.Buffer
			json.Compact(&c, items[i])
			if !bytes.Equal(c.Bytes(), want[i]) {
				t.Fatalf("pretty=%v: item %d differs from the JSONL line", pretty, i)
			}
		}
		if pretty != bytes.Contains(out, []byte("\n    \"")) {
			t.Errorf("pretty=%v: indentation does not match", pretty)
		}
	}
}

func TestEventsPages(t *testing.T) {
	out, res := write(t, formatCfg, Output{Format: FormatEventsPages})
	total := 0
	lastPageEmpty := map[string]bool{}
	lastTime := map[string]float64{}
	for _, l := range lines(t, out) {
		var p struct {
			Items  []json.RawMessage `json:"items"`
			Paging map[string]string `json:"paging"`
		}
		if err := json.Unmarshal(l, &p); err != nil {
			t.Fatal(err)
		}
		if len(p.Items) > eventsPageSize {
			t.Errorf("page of %d items", len(p.Items))
		}
		next := p.Paging["next"]
		u := regexp.MustCompile(`^https://api\.mailgun\.net/v3/([a-z0-9.-]+)/events/([A-Za-z0-9+/=]+)$`).FindStringSubmatch(next)
		if u == nil || len(p.Paging) != 4 {
			t.Fatalf("paging %v", p.Paging)
		}
		token, err := base64.StdEncoding.DecodeString(u[2])
		if err != nil || !json.Valid(token) {
			t.Errorf("next token is not base64 JSON: %q", u[2])
		}
		domain := u[1]
		for _, it := range p.Items {
			if d := checkEventsItem(t, it); d != domain {
				t.Errorf("item of %s on a page of %s", d, domain)
			}
			ts := decode(t, it)["timestamp"].(float64)
			if ts < lastTime[domain] {
				t.Errorf("%s: pages not in time order", domain)
			}
			lastTime[domain] = ts
		}
		total += len(p.Items)
		lastPageEmpty[domain] = len(p.Items) == 0
	}
	if total != formatCfg.Events {
		t.Errorf("%d items in all pages, want %d", total, formatCfg.Events)
	}
	for _, d := range res.SendingDomains {
		if !lastPageEmpty[d] {
			t.Errorf("%s: listing does not end with an empty page", d)
		}
	}
}

func TestLogsJSONL(t *testing.T) {
	out, res := write(t, formatCfg, Output{Format: FormatLogsJSONL})
	ls := lines(t, out)
	if len(ls) != formatCfg.Events {
		t.Fatalf("%d lines, want %d", len(ls), formatCfg.Events)
	}
	var firstAttempt, lastCode bool
	for _, l := range ls {
		m := decode(t, l)
		if m["timestamp"] != nil || !iso3.MatchString(str(m, "@timestamp")) {
			t.Fatalf("@timestamp %q (and no float timestamp) expected: %s", str(m, "@timestamp"), l)
		}
		if _, ok := res.ByDomain[str(obj(m, "domain"), "name")]; !ok {
			t.Fatalf("domain.name %v", m["domain"])
		}
		if str(obj(m, "account"), "id") != res.AccountID {
			t.Fatalf("account %v, want %s", m["account"], res.AccountID)
		}
		if uv, ok := m["user-variables"]; ok {
			s, isStr := uv.(string)
			var o map[string]any
			if !isStr || json.Unmarshal([]byte(s), &o) != nil {
				t.Fatalf("user-variables %v is not a JSON object in a string", uv)
			}
		}
		if st := obj(m, "storage"); st != nil {
			if urls, ok := st["url"].([]any); !ok || len(urls) != 1 {
				t.Fatalf("storage.url %v is not a one-element array", st["url"])
			}
		}
		ds := obj(m, "delivery-status")
		firstAttempt = firstAttempt || ds["first-delivery-attempt-seconds"] != nil
		lastCode = lastCode || ds["last-code"] != nil
	}
	if !firstAttempt || !lastCode {
		t.Errorf("no first-delivery-attempt-seconds (%v) or last-code (%v) in %d items", firstAttempt, lastCode, len(ls))
	}
}

func TestLogsPages(t *testing.T) {
	out, _ := write(t, formatCfg, Output{Format: FormatLogsPages})
	ls := lines(t, out)
	total := 0
	for i, l := range ls {
		var p struct {
			Start, End string
			Items      []json.RawMessage
			Pagination map[string]string
		}
		if err := json.Unmarshal(l, &p); err != nil {
			t.Fatal(err)
		}
		if _, err := time.Parse(rfc2822Layout, p.Start); err != nil {
			t.Errorf("start %q: %v", p.Start, err)
		}
		if len(p.Items) == 0 || len(p.Items) > logsPageSize {
			t.Errorf("page %d has %d items", i, len(p.Items))
		}
		last := i == len(ls)-1
		if last && len(p.Pagination) != 0 || !last && p.Pagination["next"] == "" {
			t.Errorf("page %d of %d: pagination %v", i+1, len(ls), p.Pagination)
		}
		total += len(p.Items)
	}
	if total != formatCfg.Events {
		t.Errorf("%d items, want %d", total, formatCfg.Events)
	}
}

func TestWebhooksAreSigned(t *testing.T) {
	out, res := write(t, formatCfg, Output{Format: FormatWebhooks})
	ls := lines(t, out)
	if len(ls) != formatCfg.Events {
		t.Fatalf("%d payloads, want %d", len(ls), formatCfg.Events)
	}
	for _, l := range ls {
		var p struct {
			Signature struct{ Token, Timestamp, Signature string }
			EventData json.RawMessage `json:"event-data"`
		}
		if err := json.Unmarshal(l, &p); err != nil {
			t.Fatal(err)
		}
		mac := hmac.New(sha256.New, []byte(res.SigningKey))
		mac.Write([]byte(p.Signature.Timestamp + p.Signature.Token))
		if hex.EncodeToString(mac.Sum(nil)) != p.Signature.Signature || len(p.Signature.Token) != 50 {
			t.Fatalf("signature does not verify: %+v", p.Signature)
		}
		checkEventsItem(t, p.EventData)
	}
}

func TestLegacyWebhooks(t *testing.T) {
	out, _ := write(t, formatCfg, Output{Format: FormatLegacyWebhooks})
	evs, _ := collect(t, formatCfg)
	want := 0
	for _, e := range evs {
		if _, ok := e.appendLegacy(nil, &signer{key: "k"}); ok {
			want++
		}
	}
	ls := lines(t, out)
	if len(ls) != want || want < formatCfg.Events/3 {
		t.Fatalf("%d legacy payloads, want %d (of %d events)", len(ls), want, len(evs))
	}
	kinds := map[string]bool{}
	for _, l := range ls {
		var m map[string]string // every legacy field is a string
		if err := json.Unmarshal(l, &m); err != nil {
			t.Fatalf("%v: %s", err, l)
		}
		kinds[m["event"]] = true
		if id := m["Message-Id"]; !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, ">") || m["timestamp"] == "" || m["recipient"] == "" {
			t.Errorf("legacy payload %s", l)
		}
		switch m["event"] {
		case "delivered", "opened", "clicked", "unsubscribed", "complained":
		case "dropped":
			if m["code"] == "" || m["reason"] != "hardfail" && m["reason"] != "old" {
				t.Errorf("dropped payload %s", l)
			}
		case "bounced":
			if m["code"] == "" || m["error"] == "" {
				t.Errorf("bounced payload %s", l)
			}
		default:
			t.Errorf("legacy event %q", m["event"])
		}
	}
	for _, k := range []string{"delivered", "dropped", "bounced", "opened"} {
		if !kinds[k] {
			t.Errorf("no legacy %s payload", k)
		}
	}
}

func TestEventsCSV(t *testing.T) {
	out, _ := write(t, formatCfg, Output{Format: FormatCSV})
	rows, err := csv.NewReader(bytes.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rows[0], ",") != strings.Join(CSVHeader, ",") {
		t.Fatalf("header %v", rows[0])
	}
	if len(rows)-1 != formatCfg.Events {
		t.Fatalf("%d rows, want %d", len(rows)-1, formatCfg.Events)
	}
	for _, r := range rows[1:] {
		ts, err := time.Parse(time.RFC3339Nano, r[0])
		if err != nil || len(r[0]) != len("2026-11-15T09:30:12.123456Z") || ts.Before(testEnd.AddDate(0, 0, -30)) {
			t.Fatalf("timestamp %q: %v", r[0], err)
		}
		if r[1] == Failed && (r[7] == "" || r[9] == "") {
			t.Errorf("failed row without severity or code: %v", r)
		}
	}
}

func TestSuppressionCSVs(t *testing.T) {
	d := DefaultSendingDomains[3] // the complaints story's domain: no list is empty
	for _, f := range []Format{FormatBouncesCSV, FormatUnsubscribesCSV, FormatComplaintsCSV} {
		out, res := write(t, formatCfg, Output{Format: f, SendingDomain: d})
		rows, err := csv.NewReader(bytes.NewReader(out)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		lists := res.Suppressions[d]
		want := map[Format][2]any{
			FormatBouncesCSV:      {BouncesCSVHeader, len(lists.Bounces)},
			FormatUnsubscribesCSV: {UnsubscribesCSVHeader, len(lists.Unsubscribes)},
			FormatComplaintsCSV:   {ComplaintsCSVHeader, len(lists.Complaints)},
		}[f]
		if strings.Join(rows[0], ",") != strings.Join(want[0].([]string), ",") || len(rows)-1 != want[1].(int) || len(rows) < 2 {
			t.Fatalf("%s: header %v and %d rows, want %v and %d", f, rows[0], len(rows)-1, want[0], want[1])
		}
		for _, r := range rows[1:] {
			if _, err := time.Parse(SuppressionTimeLayout, r[len(r)-1]); err != nil || !strings.Contains(r[0], "@") {
				t.Errorf("%s: row %v: %v", f, r, err)
			}
		}
	}
	if _, err := Write(t.Context(), &bytes.Buffer{}, formatCfg, Output{Format: FormatBouncesCSV}); err == nil {
		t.Error("bounces-csv without a sending domain: no error")
	}
	if _, err := Write(t.Context(), &bytes.Buffer{}, formatCfg, Output{Format: FormatBouncesCSV, SendingDomain: "mg.other.io"}); err == nil {
		t.Error("bounces-csv for an unknown sending domain: no error")
	}
}

func TestReplyVariety(t *testing.T) {
	evs, _ := account100k(t)
	var emptyEnhanced, multiline, noMX, conn, fullStrip int
	for _, e := range evs {
		if e.Type != Failed {
			continue
		}
		st := e.Status
		if st.EnhancedCode == "" && enhanced.MatchString(st.Message) && st.Code < 600 {
			emptyEnhanced++
		}
		if strings.Contains(st.Message, "\n") {
			multiline++
		}
		if st.Code == 498 {
			noMX++
		}
		if st.Code == 499 || st.Code == 680 {
			conn++
		}
		if strings.HasPrefix(st.Message, "552 1 Requested") || strings.HasPrefix(st.Message, "554 5.7.1 Blocked") {
			fullStrip++
		}
	}
	if emptyEnhanced == 0 || multiline == 0 || noMX == 0 || conn == 0 {
		t.Errorf("empty enhanced-code with one in the text %d, multi-line %d, 498 %d, 499/680 %d: want all > 0",
			emptyEnhanced, multiline, noMX, conn)
	}
	_ = fullStrip // replies that keep their SMTP code are rare; their presence is not guaranteed
}

func TestUnknownFormat(t *testing.T) {
	if _, err := Write(t.Context(), &bytes.Buffer{}, formatCfg, Output{Format: "xml"}); err == nil {
		t.Error("format xml: no error")
	}
	if _, err := ParseFormat("events-jsonl"); err != nil {
		t.Error(err)
	}
	if _, err := ParseFormat("jsonl"); err == nil {
		t.Error("ParseFormat(jsonl): no error")
	}
}
