package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/analyze"
	"github.com/maildiag/maildiag/ingest"
	"github.com/maildiag/maildiag/remedy"
)

type showOpts struct {
	message, keep bool
	tz            string
	api           apiOptions
}

func newShowCmd(s *streams, g *globals) *cobra.Command {
	o := &showOpts{}
	cmd := &cobra.Command{
		Use:   "show EVENT-ID | MESSAGE-ID",
		Short: "One event's details, the other events of its message, and with --message the stored message",
		Long: `show prints everything an event says, laid out for reading: the delivery status
(code, enhanced code, the remote server's reply, Mailgun's description, MX host,
TLS and certificate, attempt, retry and session times), the envelope (sender,
targets, sending IP, transport), the message headers, user-variables, tags,
flags, the storage URL, and the other events of the same message. A message-id
shows the message's accepted event (else its first). Mailgun's event ids are
unique only within a day: an id naming several events lists them (exit 2).

--message is the quick view: the stored message's headers and text part (HTML
turned into readable text), fetched from Mailgun's storage URL through the API
while Mailgun still keeps it (3 days; 0 to 7 by plan). The body is not written
anywhere unless --keep is given, since confirmation links are secrets; with
--keep it is stored compressed in the index, beside the events, and a later
show --message prints it from there without the API.

With --api-base, the storage URL's host is replaced by the API base's (a local
test server); otherwise the API key is sent only to Mailgun's own hosts.

Exit status: 0 when shown, 1 when the index has no such event or message, or
the stored message is gone, 2 on usage errors and ambiguous ids, 3 on failure.`,
		Example: `  maildiag show czsjqFATSlC3QtAK-C80nw
  maildiag show '<20261118101500.2.ABCDEF@mg.example.com>'
  maildiag show 20261118101500.2.ABCDEF@mg.example.com --message
  maildiag show 20261118101500.2.ABCDEF@mg.example.com --message --keep
  maildiag show czsjqFATSlC3QtAK-C80nw --output json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.keep && !o.message {
				return usageErrorf("--keep goes with --message")
			}
			t, err := g.dbTarget()
			if err != nil {
				return err
			}
			loc, err := location(o.tz)
			if err != nil {
				return err
			}
			err = showRun(cmd.Context(), s, t, g.output, strings.TrimSpace(args[0]), o, loc, g.now())
			return redactKey(err, o.api.apiKey, o.api.urlKey)
		},
	}
	cmd.Flags().BoolVar(&o.message, "message", false, "the stored message (quick view): headers and text, from Mailgun's storage, or from the index when kept")
	cmd.Flags().BoolVar(&o.keep, "keep", false, "with --message: store the message in the index (compressed) so that it can be shown after Mailgun has dropped it")
	cmd.Flags().StringVar(&o.tz, "tz", "", "time zone of the times printed for people (default: $TZ, else the system's)")
	o.api.addFlags(cmd.Flags(), "retries of the fetch after 5xx answers, timeouts or dropped connections")
	return cmd
}

// shownMessage is a stored message's quick view.
type shownMessage struct {
	Headers   [][2]string `json:"headers"`
	Text      string      `json:"text"`
	FetchedAt time.Time   `json:"fetched_at"`
	From      string      `json:"from"` // "mailgun" or "index"
}

// shown is the JSON of show.
type shown struct {
	Event   json.RawMessage     `json:"event"` // the original Mailgun JSON
	Summary analyze.EventItem   `json:"summary"`
	Others  []analyze.EventItem `json:"other_events"`
	Message *shownMessage       `json:"message,omitempty"`
}

func showRun(ctx context.Context, s *streams, t target, format, id string, o *showOpts, loc *time.Location, now time.Time) error {
	db, err := openReader(ctx, t)
	if err != nil {
		return failure(err)
	}
	defer db.Close()
	ev, others, err := findShown(ctx, db, id)
	if err != nil {
		return err
	}
	res := shown{Event: compactJSON(ev.Raw), Summary: analyze.ItemOf(ev), Others: []analyze.EventItem{}}
	for i := range others {
		res.Others = append(res.Others, analyze.ItemOf(&others[i]))
	}
	if o.message {
		m, err := quickView(ctx, db, t, ev, others, o, now)
		if err != nil {
			return err
		}
		res.Message = m
	}
	if format == "json" {
		if err := render(s.out, "json", res); err != nil {
			return failure(err)
		}
		return nil
	}
	if format == "csv" {
		t := &table{columns: eventColumns}
		for _, it := range append([]analyze.EventItem{res.Summary}, res.Others...) {
			t.add(it.Time, it.Event, it.Recipient, it.SendingDomain, it.Subject, zeroBlank(it.Code), it.Enhanced, it.Class, it.MXHost, it.Words())
		}
		if err := render(s.out, "csv", res, t); err != nil {
			return failure(err)
		}
		return nil
	}
	writeShown(s.out, ev, others, res.Message, loc)
	return nil
}

// findShown finds the event an id names, or a message's main event, with
// the other events of its message to its recipient.
func findShown(ctx context.Context, db readStore, id string) (*maildiag.Event, []maildiag.Event, error) {
	var ev *maildiag.Event
	if strings.Contains(id, "@") {
		mid := strings.Trim(id, "<>")
		evs, err := db.Events(ctx, analyze.EventQuery{MessageID: mid, Full: true})
		if err != nil {
			return nil, nil, failure(err)
		}
		if len(evs) == 0 {
			return nil, nil, &exitError{code: exitNo, err: fmt.Errorf("message-id %s: %w", mid, remedy.ErrNotInIndex)}
		}
		ev = &evs[0]
		for i := range evs {
			if evs[i].Type == maildiag.Accepted {
				ev = &evs[i]
				break
			}
		}
		var others []maildiag.Event
		for i := range evs {
			if &evs[i] != ev {
				others = append(others, evs[i])
			}
		}
		return ev, others, nil
	}
	found, err := db.Events(ctx, analyze.EventQuery{EventID: id, Full: true})
	if err != nil {
		return nil, nil, failure(err)
	}
	if len(found) == 0 {
		return nil, nil, &exitError{code: exitNo, err: fmt.Errorf("event %s: %w", id, remedy.ErrNotInIndex)}
	}
	if len(found) > 1 {
		return nil, nil, &exitError{code: exitUsage, err: ambiguous(id, found)}
	}
	ev = &found[0]
	var others []maildiag.Event
	if ev.MessageID != "" {
		q := analyze.EventQuery{MessageID: ev.MessageID, Full: true}
		if ev.Recipient != "" {
			q.Addresses = []string{ev.Recipient}
		}
		evs, err := db.Events(ctx, q)
		if err != nil {
			return nil, nil, failure(err)
		}
		for _, o := range evs {
			if o.ID != ev.ID || o.Type != ev.Type {
				others = append(others, o)
			}
		}
	}
	return ev, others, nil
}

// ambiguous lists the events an id names, each with how to name it alone.
func ambiguous(id string, evs []maildiag.Event) error {
	var b strings.Builder
	fmt.Fprintf(&b, "event id %s names %d events (Mailgun's ids are unique only within a day); name one by its message-id:", id, len(evs))
	for _, e := range evs {
		fmt.Fprintf(&b, "\n  %s  %-14s %s  maildiag show %s", e.Time().Format("2006-01-02 15:04:05 UTC"), analyze.EventName(&e), e.Recipient, e.MessageID)
	}
	return errors.New(b.String())
}

func compactJSON(raw []byte) json.RawMessage {
	var b strings.Builder
	if len(raw) == 0 {
		return json.RawMessage("null")
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return json.RawMessage("null")
	}
	out, _ := json.Marshal(v)
	b.Write(out)
	return json.RawMessage(b.String())
}

// quickView returns the stored message: kept in the index, else fetched
// from Mailgun (and kept with --keep).
func quickView(ctx context.Context, db readStore, t target, ev *maildiag.Event, others []maildiag.Event, o *showOpts, now time.Time) (*shownMessage, error) {
	if ev.MessageID != "" && !o.keep {
		doc, at, err := db.KeptMessage(ctx, ev.MessageID)
		if err != nil {
			return nil, failure(err)
		}
		if doc != nil {
			m := &shownMessage{}
			if err := json.Unmarshal(doc, m); err != nil {
				return nil, failure(fmt.Errorf("read kept message: %w", err))
			}
			m.FetchedAt, m.From = at, "index"
			return m, nil
		}
	}
	storage, accepted := ev.StorageURL, ev.Time()
	for _, e := range others {
		if storage == "" {
			storage = e.StorageURL
		}
		if e.Type == maildiag.Accepted {
			accepted = e.Time()
		}
	}
	if storage == "" {
		return nil, &exitError{code: exitNo, err: errors.New("the events of this message carry no storage URL: Mailgun did not store it (or its events came from a source without one)")}
	}
	if err := o.api.resolve(); err != nil {
		return nil, err
	}
	u, err := remedy.StorageURLFor(storage, o.api.base)
	if err != nil {
		return nil, failure(err)
	}
	c, err := o.api.client(0)
	if err != nil {
		return nil, err
	}
	body, err := c.Get(ctx, u)
	if ae, ok := ingest.AsAPIError(err); ok && ae.Status == 404 {
		return nil, &exitError{code: exitNo, err: fmt.Errorf("the stored message is gone: Mailgun keeps messages 3 days (0 to 7 by plan) and this one was accepted %s ago; it can only be sent again from the application",
			age(now.Sub(accepted)))}
	}
	if err != nil {
		return nil, failure(fmt.Errorf("fetch stored message: %w", err))
	}
	m, err := parseStored(body)
	if err != nil {
		return nil, failure(err)
	}
	m.FetchedAt, m.From = now, "mailgun"
	if o.keep {
		doc, _ := json.Marshal(m)
		wdb, err := openKeeper(ctx, t)
		if err != nil {
			return nil, failure(err)
		}
		defer wdb.Close()
		key := storage[strings.LastIndexByte(storage, '/')+1:]
		if err := wdb.KeepMessage(ctx, ev.MessageID, key, doc, now); err != nil {
			return nil, failure(err)
		}
	}
	return m, nil
}

// parseStored reads Mailgun's stored-message JSON: its headers and its
// text part, else its HTML part as text.
func parseStored(body []byte) (*shownMessage, error) {
	var doc struct {
		Headers [][2]string `json:"message-headers"`
		Plain   string      `json:"body-plain"`
		HTML    string      `json:"body-html"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("read stored message: %w", err)
	}
	m := &shownMessage{Headers: doc.Headers, Text: strings.ReplaceAll(doc.Plain, "\r\n", "\n")}
	if strings.TrimSpace(m.Text) == "" {
		m.Text = htmlText(doc.HTML)
	}
	if m.Headers == nil {
		m.Headers = [][2]string{}
	}
	return m, nil
}

var (
	htmlDrop  = regexp.MustCompile(`(?is)<(script|style|head)\b.*?</(script|style|head)>`)
	htmlBreak = regexp.MustCompile(`(?i)<(br|/p|/div|/tr|/h[1-6]|/li)\b[^>]*>`)
	htmlLink  = regexp.MustCompile(`(?is)<a\b[^>]*\bhref\s*=\s*["']([^"']*)["'][^>]*>(.*?)</a>`)
	htmlTag   = regexp.MustCompile(`(?s)<[^>]*>`)
	blankRuns = regexp.MustCompile(`\n{3,}`)
)

// htmlText turns an HTML body into readable text: blocks on lines, links
// as "text [url]", tags dropped, entities decoded.
func htmlText(h string) string {
	h = htmlDrop.ReplaceAllString(h, "")
	h = htmlLink.ReplaceAllString(h, "$2 [$1]")
	h = htmlBreak.ReplaceAllString(h, "\n")
	h = htmlTag.ReplaceAllString(h, "")
	h = html.UnescapeString(h)
	lines := strings.Split(h, "\n")
	for i, l := range lines {
		lines[i] = strings.Join(strings.Fields(l), " ")
	}
	return strings.TrimSpace(blankRuns.ReplaceAllString(strings.Join(lines, "\n"), "\n\n"))
}

// writeShown lays an event out for reading, from its original JSON.
func writeShown(w io.Writer, ev *maildiag.Event, others []maildiag.Event, m *shownMessage, loc *time.Location) {
	at := func(t time.Time) string { return t.In(loc).Format("2006-01-02 15:04:05.000 MST") }
	var doc map[string]any
	_ = json.Unmarshal(ev.Raw, &doc)
	get := func(path ...string) any {
		var cur any = doc
		for _, p := range path {
			mm, ok := cur.(map[string]any)
			if !ok {
				return nil
			}
			cur = mm[p]
		}
		return cur
	}
	line := func(label string, v any) {
		s := valueText(v)
		if s != "" {
			fmt.Fprintf(w, "  %-20s %s\n", label, s)
		}
	}
	fmt.Fprintf(w, "%s  %s  %s\n", analyze.EventName(ev), ev.ID, at(ev.Time()))
	line("recipient", ev.Recipient)
	line("sending domain", ev.SendingDomain)
	line("message-id", ev.MessageID)
	line("subject", ev.Subject)
	line("from", ev.From)
	line("class", ev.Class)
	line("gateway", ev.Gateway)
	section := func(title string, rows [][2]any) {
		some := false
		for _, r := range rows {
			if valueText(r[1]) != "" {
				some = true
			}
		}
		if !some {
			return
		}
		fmt.Fprintln(w, "\n"+title)
		for _, r := range rows {
			line(r[0].(string), r[1])
		}
	}
	ds := func(k string) any { return get("delivery-status", k) }
	section("Delivery status", [][2]any{{"code", ds("code")}, {"enhanced code", ev.EnhancedCode}, {"message", ds("message")},
		{"description", ds("description")}, {"MX host", ds("mx-host")}, {"TLS", ds("tls")}, {"certificate verified", ds("certificate-verified")},
		{"utf8", ds("utf8")}, {"attempt", ds("attempt-no")}, {"retry seconds", ds("retry-seconds")}, {"session seconds", ds("session-seconds")},
		{"severity", get("severity")}, {"reason", get("reason")}, {"log level", get("log-level")}, {"provider", get("recipient-provider")}})
	section("Envelope", [][2]any{{"sender", get("envelope", "sender")}, {"targets", get("envelope", "targets")},
		{"sending IP", get("envelope", "sending-ip")}, {"transport", get("envelope", "transport")}, {"method", get("method")}})
	if h, ok := get("message", "headers").(map[string]any); ok {
		var rows [][2]any
		for _, k := range sortedKeys(h) {
			rows = append(rows, [2]any{k, h[k]})
		}
		rows = append(rows, [2]any{"size", get("message", "size")})
		section("Headers", rows)
	}
	for _, sec := range []struct{ title, key string }{{"User variables", "user-variables"}, {"Flags", "flags"}} {
		if mm, ok := get(sec.key).(map[string]any); ok {
			var rows [][2]any
			for _, k := range sortedKeys(mm) {
				rows = append(rows, [2]any{k, mm[k]})
			}
			section(sec.title, rows)
		}
	}
	section("Tags", [][2]any{{"tags", get("tags")}, {"campaigns", get("campaigns")}})
	section("Storage", [][2]any{{"url", get("storage", "url")}, {"key", get("storage", "key")}})
	if len(others) > 0 {
		fmt.Fprintln(w, "\nOther events of the message")
		for i := range others {
			o := &others[i]
			l := fmt.Sprintf("  %s  %-14s %s", at(o.Time()), analyze.EventName(o), o.Recipient)
			if o.Code != 0 {
				l += fmt.Sprintf("  %d %s", o.Code, o.EnhancedCode)
			}
			if o.MXHost != "" {
				l += "  via " + o.MXHost
			}
			l += "  " + o.ID
			fmt.Fprintln(w, l)
		}
	}
	if m != nil {
		src := "fetched from Mailgun's storage"
		if m.From == "index" {
			src = "kept in the index"
		}
		fmt.Fprintf(w, "\nMessage (%s %s)\n", src, at(m.FetchedAt))
		for _, h := range m.Headers {
			fmt.Fprintf(w, "  %s: %s\n", h[0], h[1])
		}
		fmt.Fprintln(w)
		for _, l := range strings.Split(strings.TrimRight(m.Text, "\n"), "\n") {
			fmt.Fprintln(w, "  "+l)
		}
	}
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// valueText is a JSON value on one line: lists joined by commas, objects
// as JSON.
func valueText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return strings.TrimSuffix(fmt.Sprintf("%.3f", x), ".000")
	case bool:
		return fmt.Sprint(x)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = valueText(e)
		}
		return strings.Join(parts, ", ")
	case int:
		if x == 0 {
			return ""
		}
		return fmt.Sprint(x)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// age is a duration as people say it: 3 days, 5 hours, 40 minutes.
func age(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		return maildiag.Plural(int(d/(24*time.Hour)), "day")
	case d >= 2*time.Hour:
		return maildiag.Plural(int(d/time.Hour), "hour")
	}
	return maildiag.Plural(int(d/time.Minute), "minute")
}
