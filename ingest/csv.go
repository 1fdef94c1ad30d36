package ingest

import (
	"encoding/csv"
	stdjson "encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/maildiag/maildiag"
)

// csvLayout says what a CSV file holds, decided by its header row.
type csvLayout struct {
	header []string       // column names as written
	col    map[string]int // canonical field -> column index
	list   string         // suppression list, or "" for events
}

// csvAliases maps the canonical fields of an events CSV to the column names
// exports use for them (compared after lower-casing and dropping spaces).
var csvAliases = map[string][]string{
	"time":        {"timestamp", "@timestamp", "time", "date", "datetime", "event-timestamp", "created_at"},
	"event":       {"event", "type", "event-type", "eventtype"},
	"id":          {"id", "event-id", "eventid", "event_id"},
	"domain":      {"domain", "domain.name", "sending-domain", "sending_domain", "sendingdomain"},
	"recipient":   {"recipient", "to", "email", "address", "recipient-email"},
	"rdomain":     {"recipient-domain", "recipient_domain", "recipientdomain"},
	"provider":    {"recipient-provider", "recipient_provider", "provider"},
	"severity":    {"severity"},
	"reason":      {"reason", "reject.reason"},
	"loglevel":    {"log-level", "log_level", "level"},
	"code":        {"delivery-status.code", "code", "status-code", "smtp-code", "delivery_status_code"},
	"enhanced":    {"delivery-status.enhanced-code", "enhanced-code", "enhanced_code", "enhanced"},
	"reply":       {"delivery-status.message", "message", "reply", "response", "error", "smtp-response"},
	"description": {"delivery-status.description", "description", "reject.description"},
	"mx":          {"delivery-status.mx-host", "mx-host", "mx_host", "mx"},
	"attempt":     {"delivery-status.attempt-no", "attempt-no", "attempt", "attempts"},
	"retry":       {"delivery-status.retry-seconds", "retry-seconds"},
	"messageid":   {"message-id", "message.headers.message-id", "messageid", "message_id"},
	"subject":     {"subject", "message.headers.subject"},
	"from":        {"from", "message.headers.from", "sender"},
	"tags":        {"tags", "tag"},
	"ip":          {"envelope.sending-ip", "sending-ip", "sending_ip", "ip"},
	"storage":     {"storage.url", "storage-url", "storage_url"},
	"tls":         {"delivery-status.tls", "tls"},
	"delayed":     {"flags.is-delayed-bounce", "is-delayed-bounce", "delayed-bounce"},
	"bouncetype":  {"delivery-status.bounce-type", "bounce-type", "bounce_type"},
}

// suppressionHeaders are Mailgun's suppression-list CSV import formats.
var suppressionHeaders = map[string]string{
	"address,code,error,created_at": maildiag.ListBounces,
	"address,code,created_at,error": maildiag.ListBounces,
	"address,created_at,tags":       maildiag.ListUnsubscribes,
	"address,created_at":            maildiag.ListComplaints,
	"address,code,error":            maildiag.ListBounces,
	"address,tags":                  maildiag.ListUnsubscribes,
	"address":                       maildiag.ListComplaints,
}

func canonColumn(s string) string {
	return strings.ToLower(strings.ReplaceAll(strings.TrimSpace(strings.TrimPrefix(s, "\ufeff")), " ", ""))
}

// errNotCSV is returned for a header row that names no known columns.
var errNotCSV = errors.New("neither JSON nor a CSV with a known header row")

// parseCSVLayout reads the header row of a CSV export.
func parseCSVLayout(line []byte) (*csvLayout, error) {
	r := csv.NewReader(strings.NewReader(string(line)))
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	header, err := r.Read()
	if err != nil || len(header) == 0 {
		return nil, errNotCSV
	}
	l := &csvLayout{header: header, col: map[string]int{}}
	names := make([]string, len(header))
	for i, h := range header {
		names[i] = canonColumn(h)
	}
	if err := duplicateColumn(header, names); err != nil {
		return nil, err
	}
	sorted := append([]string(nil), names...)
	slices.Sort(sorted)
	if list, ok := suppressionHeaders[strings.Join(sorted, ",")]; ok {
		l.list = list
		for i, n := range names {
			l.col[n] = i
		}
		return l, nil
	}
	for field, aliases := range csvAliases {
		for _, a := range aliases {
			if i := slices.Index(names, a); i >= 0 {
				l.col[field] = i
				break
			}
		}
	}
	_, hasTime := l.col["time"]
	_, hasEvent := l.col["event"]
	if !hasTime || !hasEvent {
		return nil, fmt.Errorf("%w (a CSV of events needs timestamp and event columns; got %s)", errNotCSV, quoteShort(line))
	}
	return l, nil
}

// ErrDuplicateColumn is returned for a CSV header that names a column
// maildiag reads twice: which of the two holds the value is anybody's guess.
var ErrDuplicateColumn = errors.New("a CSV column is named twice")

// duplicateColumn finds a column name that maildiag reads and the header
// gives twice; names the same but for case and spaces are the same.
func duplicateColumn(header, names []string) error {
	first := map[string]int{}
	for i, n := range names {
		if !readColumn(n) {
			continue
		}
		if j, ok := first[n]; ok {
			return fmt.Errorf("%w: %s names columns %d and %d", ErrDuplicateColumn, quoteShort([]byte(strings.TrimSpace(header[i]))), j+1, i+1)
		}
		first[n] = i
	}
	return nil
}

// readColumn tells whether maildiag reads a column of this canonical name,
// in a CSV of events or of a suppression list.
func readColumn(name string) bool {
	switch name {
	case "address", "code", "error", "created_at", "tags":
		return true
	}
	for _, aliases := range csvAliases {
		if slices.Contains(aliases, name) {
			return true
		}
	}
	return false
}

// csvRecord normalises one CSV record (the raw text of one logical row).
func (n *normalizer) csvRecord(l *csvLayout, text []byte, at loc, out *Batch) {
	r := csv.NewReader(strings.NewReader(string(text)))
	r.FieldsPerRecord = -1
	fields, err := r.Read()
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		out.reject(at, "bad CSV row: "+err.Error(), text)
		return
	}
	if len(fields) == 1 && strings.TrimSpace(fields[0]) == "" {
		return // blank line
	}
	if len(fields) != len(l.header) {
		out.reject(at, fmt.Sprintf("bad CSV row: %d fields, the header has %d", len(fields), len(l.header)), text)
		return
	}
	raw := rowJSON(l.header, fields)
	get := func(field string) string {
		if i, ok := l.col[field]; ok {
			return strings.TrimSpace(fields[i])
		}
		return ""
	}
	if l.list != "" {
		n.csvSuppression(l, get, raw, at, out)
		return
	}
	ev := maildiag.Event{
		Type:            strings.ToLower(get("event")),
		ID:              get("id"),
		Recipient:       strings.ToLower(get("recipient")),
		RecipientDomain: strings.ToLower(get("rdomain")),
		Provider:        get("provider"),
		Severity:        get("severity"),
		Reason:          get("reason"),
		LogLevel:        get("loglevel"),
		EnhancedCode:    get("enhanced"),
		Reply:           get("reply"),
		Description:     get("description"),
		MXHost:          strings.ToLower(get("mx")),
		MessageID:       trimAngle(get("messageid")),
		Subject:         get("subject"),
		From:            get("from"),
		SendingIP:       get("ip"),
		StorageURL:      get("storage"),
		BounceType:      get("bouncetype"),
		Raw:             raw,
	}
	if ev.Type == "" {
		out.reject(at, "CSV row without an event type", text)
		return
	}
	t := get("time")
	if t == "" {
		out.reject(at, errNoTime.Error(), text)
		return
	}
	if ev.TimeUS, err = parseAnyTime(t); err != nil {
		out.reject(at, err.Error(), text)
		return
	}
	ev.Code, _ = flexInt([]byte(get("code")))
	ev.Attempt, _ = flexInt([]byte(get("attempt")))
	ev.RetrySeconds, _ = flexInt([]byte(get("retry")))
	ev.TLS = csvTri(get("tls"))
	ev.DelayedBounce = csvTri(get("delayed")) == maildiag.Yes
	if tags := get("tags"); tags != "" {
		for _, t := range strings.FieldsFunc(tags, func(r rune) bool { return r == ';' || r == ',' || r == '|' }) {
			if t = strings.TrimSpace(t); t != "" {
				ev.Tags = append(ev.Tags, t)
			}
		}
	}
	ev.SendingDomain = strings.ToLower(get("domain"))
	if ev.SendingDomain == "" {
		ev.SendingDomain = n.sendingDomainOf(nil, &ev, "")
	}
	n.finish(&ev)
	out.Shapes[ShapeCSV]++
	out.Events = append(out.Events, ev)
}

func (n *normalizer) csvSuppression(l *csvLayout, get func(string) string, raw []byte, at loc, out *Batch) {
	s := maildiag.Suppression{
		SendingDomain: n.sendingDomain,
		List:          l.list,
		Address:       strings.ToLower(get("address")),
		Code:          get("code"),
		Error:         get("error"),
		Raw:           raw,
	}
	if tags := get("tags"); tags != "" {
		for _, t := range strings.FieldsFunc(tags, func(r rune) bool { return r == ';' || r == ',' || r == '|' }) {
			s.Tags = append(s.Tags, strings.TrimSpace(t))
		}
	}
	if s.SendingDomain == "" {
		out.reject(at, errNoSendingDomain.Error(), raw)
		return
	}
	if err := finishSuppression(&s, get("created_at")); err != nil {
		out.reject(at, err.Error(), raw)
		return
	}
	out.Shapes[ShapeSuppressionCSV]++
	out.Suppressions = append(out.Suppressions, s)
}

func csvTri(s string) maildiag.Tri {
	switch strings.ToLower(s) {
	case "true", "yes", "1", "t", "y":
		return maildiag.Yes
	case "false", "no", "0", "f", "n":
		return maildiag.No
	}
	return maildiag.Unknown
}

// rowJSON keeps a CSV row as a JSON object of header -> value, so the index
// holds the original for CSV input as it does for JSON.
func rowJSON(header, fields []string) []byte {
	b := make([]byte, 0, 256)
	b = append(b, '{')
	for i, h := range header {
		if i > 0 {
			b = append(b, ',')
		}
		k, _ := stdjson.Marshal(h)
		v, _ := stdjson.Marshal(fields[i])
		b = append(append(append(b, k...), ':'), v...)
	}
	return append(b, '}')
}
