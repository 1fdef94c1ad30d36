package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/analyze"
	"github.com/maildiag/maildiag/index/pg"
)

type eventsOpts struct {
	events, codes, enhanced, classes, severities []string
	sendingDomains, ips, tags, vars              []string
	to, toContains, from, subject                string
	mx, provider, gateway, messageID             string
	since, until, cursor, tz                     string
	limit                                        int
	asc, raw                                     bool
}

func newEventsCmd(s *streams, g *globals) *cobra.Command {
	o := &eventsOpts{limit: -1}
	cmd := &cobra.Command{
		Use:     "events",
		Aliases: []string{"logs"},
		Short:   "Search the events like Mailgun's log search, over everything the index holds",
		Long: `events lists the events the filters select, newest first (or --asc), one line
each: time, event, recipient, sending domain, subject, code, enhanced code, class,
MX host and the remote server's reply (or Mailgun's description). Filters combine
(all must hold); a filter given several values takes any of them.

Failed events are listed as Mailgun's log search names them: permanent-fail and
temporary-fail. --subject and --from match text anywhere in the subject or From
header, case-insensitively; --to takes wildcards (*@acme.com, j*@*.acme.com).

Paging: --limit events per page (default: what fits the terminal, 100 in a pipe,
all with --output jsonl; 0 for all). When more events follow, the command to
continue is printed on stderr with a --cursor; a cursor is a position in time
order, so events stored meanwhile do not repeat or shift the pages.

--output jsonl writes one JSON object per line; with --raw each is the event's
original Mailgun JSON, which maildiag import reads back.

Exit status: 0 when events were listed, 1 when none matched, 2 on usage errors,
3 on failure.`,
		Example: `  # every suppressed address at a customer domain ("Not delivering to previously bounced address")
  maildiag events --to '*@acme.com' --event permanent-fail --class suppressed-bounce
  # status code 550 to anyone at gmail.com
  maildiag events --code 550 --to-contains gmail.com
  # the password-reset email of one customer, and the sending domain it went from
  maildiag events --to jane@initech.example --subject 'password'
  # the "Verify your identity" messages to one address, then the quick view of one
  maildiag events --to jane@initech.example --subject 'verify your identity'
  maildiag show EVENT-ID --message
  # one sending IP's deferrals this week, then the next page
  maildiag events --sending-ip 198.51.100.7 --event temporary-fail --since 7d
  maildiag events --sending-ip 198.51.100.7 --event temporary-fail --since 7d --cursor 1763596800123456.5012
  # everything of one message, oldest first
  maildiag events --message-id '20261128164207.1.DAB9F310278E2116@mg.example.com' --asc
  # a month of one sending domain, as Mailgun's own JSON, for jq or another maildiag
  maildiag events --sending-domain mg.example.com --since 30d --output jsonl --raw > march.jsonl`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := g.dbTarget()
			if err != nil {
				return err
			}
			f, err := o.filter(g.now(), g.output)
			if err != nil {
				return err
			}
			loc, err := location(o.tz)
			if err != nil {
				return err
			}
			return eventsRun(cmd.Context(), s, t, g.output, f, o.raw, loc, o.again)
		},
	}
	fl := cmd.Flags()
	fl.StringSliceVar(&o.events, "event", nil, "event types: accepted, delivered, failed, permanent-fail, temporary-fail, opened, clicked, unsubscribed, complained, stored, rejected")
	fl.StringVar(&o.to, "to", "", "recipient address or pattern: jane@acme.com, *@acme.com, *@*.acme.com")
	fl.StringVar(&o.toContains, "to-contains", "", "recipient address contains this (case-insensitive)")
	fl.StringVar(&o.from, "from", "", "From header contains this (case-insensitive)")
	fl.StringVar(&o.subject, "subject", "", "subject contains this (case-insensitive)")
	fl.StringSliceVar(&o.codes, "code", nil, "SMTP or Mailgun code: 550, 421, 250")
	fl.StringSliceVar(&o.enhanced, "enhanced", nil, "enhanced status code, exact (5.7.1) or a prefix ending in a dot (5.7.)")
	fl.StringSliceVar(&o.classes, "class", nil, "failure class: "+strings.Join(classNames(), ", "))
	fl.StringSliceVar(&o.severities, "severity", nil, "severity of failed events: permanent, temporary")
	fl.StringSliceVar(&o.sendingDomains, "sending-domain", nil, "sending domains")
	fl.StringSliceVar(&o.ips, "sending-ip", nil, "sending IP addresses")
	fl.StringVar(&o.mx, "mx", "", "MX host the event went to: mx.acme.com or *.mail.protection.outlook.com")
	fl.StringVar(&o.provider, "provider", "", "Mailgun's recipient-provider: Gmail, Yahoo, ...")
	fl.StringVar(&o.gateway, "gateway", "", "who receives the mail: Gmail, Microsoft 365, Mimecast, ...")
	fl.StringSliceVar(&o.tags, "tag", nil, "tags")
	fl.StringSliceVar(&o.vars, "var", nil, "user-variable: key=value")
	fl.StringVar(&o.messageID, "message-id", "", "message-id, with or without angle brackets")
	fl.StringVar(&o.since, "since", "", "from this time: 7d, 36h, 2026-11-01 or RFC 3339")
	fl.StringVar(&o.until, "until", "", "before this time (same forms)")
	fl.IntVar(&o.limit, "limit", -1, "events per page; 0: all (default: a screen, 100 in a pipe, all in jsonl)")
	fl.StringVar(&o.cursor, "cursor", "", "continue where the last page ended (printed on stderr)")
	fl.BoolVar(&o.asc, "asc", false, "oldest first")
	fl.BoolVar(&o.raw, "raw", false, "with --output jsonl: each event's original Mailgun JSON")
	fl.StringVar(&o.tz, "tz", "", "time zone of the times in tables: UTC, Europe/Berlin, Local (default: $TZ, else the system's); JSON and CSV are UTC")
	return cmd
}

// again is the command line of the next page: this one with its cursor.
func (o *eventsOpts) again(next string) string {
	args := append([]string{"maildiag"}, os.Args[1:]...)
	for i := 1; i < len(args); i++ {
		if args[i] == "--cursor" && i+1 < len(args) {
			args = append(args[:i], args[i+2:]...)
			i--
		} else if strings.HasPrefix(args[i], "--cursor=") {
			args = append(args[:i], args[i+1:]...)
			i--
		}
	}
	for i, a := range args {
		// A connection URL is shown without its password.
		if k, v, ok := strings.Cut(a, "="); ok && k == "--db" && pg.IsURL(v) {
			a = "--db=" + pg.Redact(v)
		} else if pg.IsURL(a) {
			a = pg.Redact(a)
		}
		args[i] = a
		if a == "" || strings.ContainsAny(a, " *?'\"$<>|&;()") {
			args[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(append(args, "--cursor", next), " ")
}

// filter checks the flags and turns them into the search's filter.
func (o *eventsOpts) filter(now time.Time, format string) (analyze.EventFilter, error) {
	f := analyze.EventFilter{From: o.from, Subject: o.subject, ToContains: strings.TrimSpace(o.toContains),
		SendingDomains: o.sendingDomains, SendingIPs: o.ips, MX: o.mx, Provider: o.provider, Gateway: o.gateway,
		Tags: o.tags, MessageID: o.messageID, Asc: o.asc, Cursor: o.cursor, Enhanced: o.enhanced}
	var err error
	if f.Types, f.Severities, err = analyze.ParseEventNames(o.events); err != nil {
		return f, usageErrorf("%v", err)
	}
	for _, s := range o.severities {
		s = strings.ToLower(strings.TrimSpace(s))
		if s != "permanent" && s != "temporary" {
			return f, usageErrorf("--severity %q: permanent or temporary", s)
		}
		f.Severities = append(f.Severities, s)
	}
	for _, c := range o.codes {
		n, err := strconv.Atoi(strings.TrimSpace(c))
		if err != nil || n < 100 || n > 999 {
			return f, usageErrorf("--code %q: a three-digit code such as 550", c)
		}
		f.Codes = append(f.Codes, n)
	}
	for _, c := range o.classes {
		c = strings.ToLower(strings.TrimSpace(c))
		if !knownClass(c) {
			return f, usageErrorf("--class %q: not a class (%s)", c, strings.Join(classNames(), ", "))
		}
		f.Classes = append(f.Classes, c)
	}
	if o.to != "" {
		if o.toContains != "" {
			return f, usageErrorf("give --to or --to-contains, not both")
		}
		p, err := analyze.ParsePattern(o.to)
		if err != nil {
			return f, usageErrorf("--to: %v", err)
		}
		f.To = &p
	}
	for _, v := range o.vars {
		k, val, ok := strings.Cut(v, "=")
		if !ok || k == "" {
			return f, usageErrorf("--var %q: key=value", v)
		}
		if f.Vars == nil {
			f.Vars = map[string]string{}
		}
		f.Vars[k] = val
	}
	if f.Since, f.Until, err = period(o.since, o.until, now); err != nil {
		return f, err
	}
	if o.raw && format != "jsonl" {
		return f, usageErrorf("--raw goes with --output jsonl")
	}
	f.RawOnly = o.raw
	switch {
	case o.limit >= 0:
		f.Limit = o.limit
	case format == "jsonl":
		f.Limit = 0
	default:
		f.Limit = 100
		if w, h, err := term.GetSize(int(os.Stdout.Fd())); err == nil && w > 0 && h > 6 {
			f.Limit = h - 4
		}
	}
	return f, nil
}

var eventColumns = []string{"time", "event", "recipient", "sending_domain", "subject", "code", "enhanced", "class", "mx_host", "reply"}

func eventsRun(ctx context.Context, s *streams, t target, format string, f analyze.EventFilter, raw bool, loc *time.Location,
	again func(string) string) error {
	db, err := openReader(ctx, t)
	if err != nil {
		return failure(err)
	}
	defer db.Close()
	textFilter := f.Subject != "" || f.From != "" || len(f.SendingIPs) > 0 || len(f.Tags) > 0 || f.MX != "" || f.Provider != "" || f.Gateway != ""
	if pending, err := db.TextsPending(ctx); err != nil {
		return failure(err)
	} else if pending && textFilter {
		fmt.Fprintln(s.err, "note: events stored by an older maildiag (SQLite schema before version 4, PostgreSQL before 8) are not searched by subject, From, IP, tags or route until `maildiag migrate` gives them their texts")
	}
	// Exports write through a buffer: a write per event cost a third of
	// a 1M-event jsonl --raw export in system calls.
	bw := bufio.NewWriterSize(s.out, 1<<18)
	out := &eventSink{w: bw, format: format, raw: raw, loc: loc}
	if format == "table" {
		out.w = s.out // the table cuts to the terminal's width
	}
	if err := out.start(); err != nil {
		return failure(err)
	}
	next, err := db.SearchEvents(ctx, f, out.add)
	if err != nil {
		if strings.HasPrefix(err.Error(), "cursor ") {
			return usageErrorf("%v", err)
		}
		return failure(err)
	}
	if err := out.finish(); err != nil {
		return failure(err)
	}
	if err := bw.Flush(); err != nil {
		return failure(err)
	}
	if next != "" {
		fmt.Fprintf(s.err, "more events: %s\n", again(next))
	}
	if out.n == 0 {
		return errNo
	}
	return nil
}

// eventSink writes events as they come: JSON lines and CSV straight
// away, a table and a JSON array once complete.
type eventSink struct {
	w      io.Writer
	format string
	raw    bool
	loc    *time.Location
	n      int
	items  []analyze.EventItem
	csv    *csv.Writer
	buf    bytes.Buffer
}

func (k *eventSink) start() error {
	if k.format == "csv" {
		k.csv = csv.NewWriter(k.w)
		return k.csv.Write(append(eventColumns, "id", "message_id", "sending_ip", "provider", "gateway", "tags"))
	}
	return nil
}

func (k *eventSink) add(e *maildiag.Event) error {
	k.n++
	switch k.format {
	case "jsonl":
		if k.raw {
			k.buf.Reset()
			if bytes.IndexByte(e.Raw, '\n') >= 0 || bytes.IndexByte(e.Raw, '\r') >= 0 {
				// One event per line: an original spread over lines is compacted.
				if err := json.Compact(&k.buf, e.Raw); err != nil {
					return fmt.Errorf("event %s: stored JSON: %w", e.ID, err)
				}
			} else {
				k.buf.Write(e.Raw)
			}
			k.buf.WriteByte('\n')
			_, err := k.w.Write(k.buf.Bytes())
			return err
		}
		b, err := json.Marshal(analyze.ItemOf(e))
		if err != nil {
			return err
		}
		_, err = k.w.Write(append(b, '\n'))
		return err
	case "csv":
		it := analyze.ItemOf(e)
		return k.csv.Write([]string{it.Time.Format(time.RFC3339Nano), it.Event, it.Recipient, it.SendingDomain, it.Subject,
			cellText(zeroBlank(it.Code)), it.Enhanced, it.Class, it.MXHost, it.Words(), it.ID, it.MessageID, it.SendingIP,
			it.Provider, it.Gateway, strings.Join(it.Tags, " ")})
	}
	k.items = append(k.items, analyze.ItemOf(e))
	return nil
}

func (k *eventSink) finish() error {
	switch k.format {
	case "jsonl":
		return nil
	case "csv":
		k.csv.Flush()
		return k.csv.Error()
	case "json":
		if k.items == nil {
			k.items = []analyze.EventItem{}
		}
		return render(k.w, "json", k.items)
	}
	return writeEventTable(k.w, k.items, k.loc)
}

// writeEventTable prints events for a person; on a terminal the subject
// and the reply are cut to fit its width (JSON and CSV give them whole).
func writeEventTable(w io.Writer, items []analyze.EventItem, loc *time.Location) error {
	width := 0
	if f, ok := unwrap(w).(*os.File); ok {
		if cols, _, err := term.GetSize(int(f.Fd())); err == nil {
			width = cols
		}
	}
	clean := strings.NewReplacer("\t", " ", "\r\n", " ", "\n", " ", "\r", " ")
	rows := make([][]string, 0, len(items)+1)
	rows = append(rows, eventColumns)
	for _, it := range items {
		cells := []string{it.Time.In(loc).Format("2006-01-02 15:04:05"), it.Event, it.Recipient, it.SendingDomain,
			it.Subject, cellText(zeroBlank(it.Code)), it.Enhanced, it.Class, it.MXHost, it.Words()}
		for i, c := range cells {
			cells[i] = clean.Replace(c)
		}
		rows = append(rows, cells)
	}
	if width == 0 {
		for _, r := range rows {
			if _, err := fmt.Fprintln(w, strings.Join(r, "\t")); err != nil {
				return err
			}
		}
		return nil
	}
	rows[0] = slices.Clone(rows[0])
	for i := range rows[0] {
		rows[0][i] = strings.ToUpper(rows[0][i])
	}
	for _, r := range rows[1:] {
		r[4] = truncate(r[4], 40)
	}
	used := 0
	for c := 0; c < len(eventColumns)-1; c++ {
		wc := 0
		for _, r := range rows {
			wc = max(wc, utf8.RuneCountInString(r[c]))
		}
		used += wc + 2
	}
	room := max(width-used, 20)
	for _, r := range rows[1:] {
		r[9] = truncate(r[9], room)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	if len(items) == 0 {
		fmt.Fprintln(tw, "(none)")
	}
	return tw.Flush()
}

func unwrap(w io.Writer) io.Writer {
	if p, ok := w.(*printableWriter); ok {
		return p.w
	}
	return w
}

// classNames lists the failure classes.
func classNames() []string {
	names := make([]string, len(maildiag.Classes))
	for i, c := range maildiag.Classes {
		names[i] = c.Name
	}
	return names
}
