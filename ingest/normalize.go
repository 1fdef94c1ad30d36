package ingest

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	stdjson "encoding/json"
	"errors"
	"net/mail"
	"strconv"
	"strings"
	"time"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/analyze/classify"
)

// Shape names one of the record shapes ingest recognises.
type Shape uint8

// Record shapes, as reported in import provenance.
const (
	ShapeEventsAPI Shape = iota
	ShapeLogsAPI
	ShapeWebhook
	ShapeLegacyWebhook
	ShapeCSV
	ShapeSuppressionJSON
	ShapeSuppressionCSV
	numShapes
)

var shapeNames = [numShapes]string{"events-api", "logs-api", "webhook", "legacy-webhook", "csv", "suppression-json", "suppression-csv"}

func (s Shape) String() string { return shapeNames[s] }

// errNoTime is returned for a record that cannot be placed in time.
var errNoTime = errors.New("no timestamp: an event without a time cannot be indexed")

// normalizer turns decoded records into events and suppression entries.
type normalizer struct {
	sendingDomain string // fallback when a record does not name its sending domain
	asStored      bool   // do not derive class and gateway (ParseEvent)
}

// eventFromWire normalises an Events API or Logs API item (webhook
// event-data has the same shape). raw is the item's JSON.
func (n *normalizer) eventFromWire(w *wire, raw []byte, ev *maildiag.Event) error {
	*ev = maildiag.Event{
		Type:      strings.ToLower(w.Event),
		ID:        w.ID,
		Provider:  w.Provider,
		Severity:  w.Severity,
		Reason:    w.Reason,
		LogLevel:  w.LogLevel,
		Recipient: strings.ToLower(strings.TrimSpace(w.Recipient)),
		SendingIP: w.Envelope.SendingIP,
		MessageID: trimAngle(w.Message.Headers.MessageID),
		Subject:   w.Message.Headers.Subject,
		From:      w.Message.Headers.From,
		Raw:       raw,
	}
	var err error
	switch {
	case w.AtTimestamp != "":
		ev.TimeUS, err = parseISOTime(w.AtTimestamp)
	case len(w.Timestamp) > 0:
		ev.TimeUS, err = parseEpoch(w.Timestamp)
	default:
		err = errNoTime
	}
	if err != nil {
		return err
	}
	ds := &w.Status
	ev.Code, _ = flexInt(ds.Code)
	ev.Attempt, _ = flexInt(ds.AttemptNo)
	ev.RetrySeconds, _ = flexInt(ds.RetrySeconds)
	if us, err := parseEpoch(ds.Session); err == nil && len(ds.Session) > 0 {
		ev.SessionMS = int(us / 1000) // exact: float math makes 1.001 s 1000 ms
	}
	ev.Reply = ds.Message
	ev.Description = ds.Description
	ev.MXHost = strings.ToLower(ds.MXHost)
	ev.BounceType = ds.BounceType
	if ds.TLS != nil {
		ev.TLS = maildiag.TriOf(*ds.TLS)
	}
	ev.EnhancedCode = ds.EnhancedCode
	if ev.EnhancedCode == "" {
		ev.EnhancedCode = ds.BounceCode
	}
	if w.Flags.DelayedBounce != nil {
		ev.DelayedBounce = *w.Flags.DelayedBounce
	}
	if ev.Type == maildiag.Rejected {
		ev.Reason = w.Reject.Reason
		ev.Description = w.Reject.Description
	}
	if ev.Recipient == "" {
		ev.Recipient = singleAddress(w.Envelope.Targets)
		if ev.Recipient == "" && ev.Type == maildiag.Rejected {
			ev.Recipient = singleAddress(w.Message.Headers.To)
		}
	}
	ev.RecipientDomain = strings.ToLower(w.RecipDomain)
	ev.Tags = stringList(w.Tags)
	ev.StorageURL = firstString(w.Storage.URL)
	ev.SendingDomain = n.sendingDomainOf(w.Domain, ev, w.Envelope.Sender)
	n.finish(ev)
	return nil
}

// finish fills the fields every shape derives the same way, then the
// class and gateway (but for a stored event read again: its class is the
// store's).
func (n *normalizer) finish(ev *maildiag.Event) {
	if ev.RecipientDomain == "" {
		ev.RecipientDomain = maildiag.DomainOf(ev.Recipient)
	}
	if ev.EnhancedCode == "" {
		ev.EnhancedCode = classify.EnhancedIn(ev.Reply)
		if ev.EnhancedCode == "" && ev.Code >= 400 {
			ev.EnhancedCode = classify.EnhancedIn(ev.Description)
		}
	}
	if ev.Code == 0 {
		ev.Code = classify.CodeIn(ev.Reply)
	}
	if ev.ID == "" {
		ev.ID = syntheticID(ev.Raw)
	}
	if !n.asStored {
		classify.Derive(ev)
	}
}

// sendingDomainOf finds the sending domain: named in the record, else the
// importer's --sending-domain, else derived from the stored-message URL, the
// Mailgun message-id or the envelope sender.
func (n *normalizer) sendingDomainOf(domain stdjson.RawMessage, ev *maildiag.Event, sender string) string {
	if d := domainField(domain); d != "" {
		return d
	}
	if n.sendingDomain != "" {
		return n.sendingDomain
	}
	if d := storageDomain(ev.StorageURL); d != "" {
		return d
	}
	if d := maildiag.DomainOf(ev.MessageID); d != "" {
		return d
	}
	if d := maildiag.DomainOf(sender); d != "" {
		return d
	}
	return maildiag.DomainOf(singleAddress(ev.From))
}

// domainField reads the Logs API {"name": ...} object or a plain string.
func domainField(raw stdjson.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] == 'n' {
		return ""
	}
	if raw[0] == '"' {
		var s string
		if stdjson.Unmarshal(raw, &s) == nil {
			return strings.ToLower(s)
		}
		return ""
	}
	var o struct {
		Name string `json:"name"`
	}
	if stdjson.Unmarshal(raw, &o) == nil {
		return strings.ToLower(o.Name)
	}
	return ""
}

// storageDomain extracts the domain from .../v3/domains/<domain>/messages/<key>.
func storageDomain(url string) string {
	const marker = "/domains/"
	i := strings.Index(url, marker)
	if i < 0 {
		return ""
	}
	rest := url[i+len(marker):]
	j := strings.IndexByte(rest, '/')
	if j <= 0 {
		return ""
	}
	return strings.ToLower(rest[:j])
}

// parseEpoch reads epoch seconds as a JSON number or string, exactly to the
// microsecond, truncating toward zero (a float64 would round
// 1529692198.641821 the wrong way). Exponent forms are read exactly too.
func parseEpoch(raw []byte) (int64, error) {
	if us, ok := plainEpoch(raw); ok {
		return us, nil
	}
	s := string(bytes.Trim(bytes.TrimSpace(raw), `"`))
	if s == "" || s == "null" {
		return 0, errNoTime
	}
	bad := errors.New("bad timestamp " + quoteShort([]byte(s)))
	num, neg := s, false
	if num[0] == '-' || num[0] == '+' {
		neg, num = num[0] == '-', num[1:]
	}
	mant, exp := num, 0
	if i := strings.IndexAny(num, "eE"); i >= 0 {
		e := num[i+1:]
		eneg := false
		if e != "" && (e[0] == '-' || e[0] == '+') {
			eneg, e = e[0] == '-', e[1:]
		}
		if e == "" || !allDigits(e) {
			return 0, bad
		}
		if e = strings.TrimLeft(e, "0"); len(e) > 7 {
			e = "9999999" // saturate: far out of range either way
		}
		exp, _ = strconv.Atoi("0" + e)
		if eneg {
			exp = -exp
		}
		mant = num[:i]
	}
	intPart, frac, _ := strings.Cut(mant, ".")
	if intPart == "" && frac == "" || !allDigits(intPart) || !allDigits(frac) {
		return 0, bad
	}
	// value = digits * 10^shift microseconds
	digits := strings.TrimLeft(intPart+frac, "0")
	shift := exp + 6 - len(frac)
	switch {
	case digits == "":
	case shift < 0 && -shift >= len(digits):
		digits = ""
	case shift < 0:
		digits = digits[:len(digits)+shift]
	case len(digits)+shift > 19:
		return 0, errors.New("timestamp out of range " + quoteShort([]byte(s)))
	default:
		digits += strings.Repeat("0", shift)
	}
	if digits == "" {
		return 0, nil
	}
	us, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || us > (1<<42)*1_000_000+999_999 {
		return 0, errors.New("timestamp out of range " + quoteShort([]byte(s)))
	}
	if neg {
		us = -us
	}
	return us, nil
}

// plainEpoch reads the form every Mailgun timestamp takes, digits with an
// optional fraction (1529692198.641821), without allocating; anything else
// goes to the general parser.
func plainEpoch(raw []byte) (int64, bool) {
	i, n := 0, int64(0)
	for ; i < len(raw) && raw[i] >= '0' && raw[i] <= '9'; i++ {
		if i >= 13 {
			return 0, false
		}
		n = n*10 + int64(raw[i]-'0')
	}
	if i == 0 {
		return 0, false
	}
	us, digits := int64(0), 0
	if i < len(raw) && raw[i] == '.' {
		i++
		for ; i < len(raw) && raw[i] >= '0' && raw[i] <= '9'; i++ {
			if digits < 6 {
				us = us*10 + int64(raw[i]-'0')
				digits++
			}
		}
		if digits == 0 {
			return 0, false
		}
	}
	if i != len(raw) || n > 1<<42 {
		return 0, false
	}
	for ; digits < 6; digits++ {
		us *= 10
	}
	return n*1_000_000 + us, true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// parseISOTime reads an ISO-8601 time like the Logs API's @timestamp.
func parseISOTime(s string) (int64, error) {
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s))
	if err != nil {
		// Exports sometimes drop the zone: read it as UTC.
		t, err = time.Parse("2006-01-02T15:04:05.999999999", strings.TrimSpace(s))
		if err != nil {
			t, err = time.Parse("2006-01-02 15:04:05.999999999", strings.TrimSpace(s))
		}
		if err != nil {
			return 0, errors.New("bad timestamp " + quoteShort([]byte(s)))
		}
	}
	return t.UnixMicro(), nil
}

// flexInt reads a JSON number or a numeric string.
func flexInt(raw []byte) (int, bool) {
	f, ok := flexFloat(raw)
	if !ok || f > 1<<31 || f < -(1<<31) {
		return 0, false
	}
	return int(f), true
}

func flexFloat(raw []byte) (float64, bool) {
	if len(raw) == 0 {
		return 0, false
	}
	s := string(bytes.Trim(bytes.TrimSpace(raw), `"`))
	if s == "" || s == "null" {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil
}

// flexString reads a JSON string or number as text.
func flexString(raw []byte) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	if raw[0] == '"' {
		if len(raw) >= 2 && raw[len(raw)-1] == '"' && bytes.IndexByte(raw, '\\') < 0 {
			return string(raw[1 : len(raw)-1]) // nothing to unescape
		}
		var s string
		if stdjson.Unmarshal(raw, &s) == nil {
			return s
		}
		return ""
	}
	return string(raw)
}

// stringList reads a JSON array of strings, or a single string.
func stringList(raw []byte) []string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] == 'n' || string(raw) == "[]" {
		return nil
	}
	if raw[0] == '"' {
		if s := flexString(raw); s != "" {
			return []string{s}
		}
		return nil
	}
	// Nearly always an array of strings: decode it fast, and take the slow
	// path that turns numbers into text only when that fails.
	var strs []string
	if fastDecode(raw, &strs) == nil {
		out := strs[:0]
		for _, s := range strs {
			if s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	var items []stdjson.RawMessage
	if stdjson.Unmarshal(raw, &items) != nil {
		return nil
	}
	out := make([]string, 0, len(items))
	for _, it := range items {
		if s := flexString(it); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// firstString reads a string, or the first string of an array (Logs API storage.url).
func firstString(raw []byte) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		return flexString(raw)
	}
	if l := stringList(raw); len(l) > 0 {
		return l[0]
	}
	return ""
}

// trimAngle strips the angle brackets of a message-id.
func trimAngle(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && s[0] == '<' && s[len(s)-1] == '>' {
		return s[1 : len(s)-1]
	}
	return s
}

// singleAddress returns the lower-cased address when s holds exactly one.
func singleAddress(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || strings.Contains(s, ",") {
		return ""
	}
	if !strings.ContainsAny(s, "<\" ") {
		if strings.Count(s, "@") == 1 {
			return strings.ToLower(s)
		}
		return ""
	}
	a, err := mail.ParseAddress(s)
	if err != nil {
		return ""
	}
	return strings.ToLower(a.Address)
}

// syntheticID derives a stable id for a record that has none (legacy
// webhooks, CSV rows), so that importing it twice stores it once.
func syntheticID(raw []byte) string {
	// Hash a canonical form, so that the same record pretty-printed,
	// compact or with other escapes gets the same id.
	var v any
	d := stdjson.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if d.Decode(&v) == nil {
		if c, err := stdjson.Marshal(v); err == nil {
			raw = c
		}
	}
	sum := sha256.Sum256(raw)
	return "~" + base64.RawURLEncoding.EncodeToString(sum[:15])
}
