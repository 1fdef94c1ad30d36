package synth

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
)

// Format names an output shape.
type Format string

// Formats Write can produce.
const (
	// FormatEventsJSONL is one Events API item per line.
	FormatEventsJSONL Format = "events-jsonl"
	// FormatEventsArray is one JSON array of Events API items.
	FormatEventsArray Format = "events-array"
	// FormatEventsPages is one Events API page per line, per sending domain:
	// {"items":[...],"paging":{...}}, up to 300 items, ending with an empty page.
	FormatEventsPages Format = "events-pages"
	// FormatLogsJSONL is one Logs API item per line.
	FormatLogsJSONL Format = "logs-jsonl"
	// FormatLogsPages is one Logs API response per line, up to 100 items,
	// the last with "pagination":{}.
	FormatLogsPages Format = "logs-pages"
	// FormatWebhooks is one signed webhook payload per line.
	FormatWebhooks Format = "webhooks"
	// FormatLegacyWebhooks is one legacy webhook per line, for the events
	// legacy webhooks had.
	FormatLegacyWebhooks Format = "legacy-webhooks"
	// FormatCSV is the events as CSV with a header row (CSVHeader).
	FormatCSV Format = "csv"
	// FormatBouncesCSV, FormatUnsubscribesCSV and FormatComplaintsCSV are
	// one sending domain's list in Mailgun's import format.
	FormatBouncesCSV      Format = "bounces-csv"
	FormatUnsubscribesCSV Format = "unsubscribes-csv"
	FormatComplaintsCSV   Format = "complaints-csv"
)

// Formats lists every format, for help texts and validation.
var Formats = []Format{
	FormatEventsJSONL, FormatEventsArray, FormatEventsPages, FormatLogsJSONL, FormatLogsPages,
	FormatWebhooks, FormatLegacyWebhooks, FormatCSV, FormatBouncesCSV, FormatUnsubscribesCSV, FormatComplaintsCSV,
}

// IsSuppressionList reports whether f writes a suppression list rather
// than events.
func (f Format) IsSuppressionList() bool {
	return f == FormatBouncesCSV || f == FormatUnsubscribesCSV || f == FormatComplaintsCSV
}

// Output says what Write writes.
type Output struct {
	Format Format
	// Pretty indents FormatEventsArray.
	Pretty bool
	// SendingDomain selects the list of the suppression formats.
	SendingDomain string
}

// Write generates the account described by cfg and writes it to w in the
// requested shape. Suppression lists are written after the whole account
// has been generated (they depend on all of it); events stream.
func Write(ctx context.Context, w io.Writer, cfg Config, out Output) (*Result, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	known := false
	for _, f := range Formats {
		known = known || f == out.Format
	}
	if !known {
		return nil, fmt.Errorf("format %q: unknown", out.Format)
	}
	cw := &chunkWriter{w: w, buf: make([]byte, 0, 1<<18)}
	if out.Format.IsSuppressionList() {
		return writeList(ctx, cw, cfg, out)
	}
	rd := newRenderer(cfg, out, cw)
	res, err := generate(ctx, cfg, rd.emit, true)
	if err != nil {
		return nil, err
	}
	if err := rd.finish(); err != nil {
		return nil, err
	}
	return res, nil
}

func writeList(ctx context.Context, cw *chunkWriter, cfg Config, out Output) (*Result, error) {
	if out.SendingDomain == "" {
		return nil, fmt.Errorf("format %s: needs a sending domain (one of %v)", out.Format, cfg.SendingDomains)
	}
	res, err := generate(ctx, cfg, func(*Event) error { return nil }, true)
	if err != nil {
		return nil, err
	}
	lists := res.Suppressions[out.SendingDomain]
	if lists == nil {
		return nil, fmt.Errorf("sending domain %q: not one of %v", out.SendingDomain, cfg.SendingDomains)
	}
	cv := csv.NewWriter(cw)
	switch out.Format {
	case FormatBouncesCSV:
		cv.Write(BouncesCSVHeader)
		for _, b := range lists.Bounces {
			cv.Write(b.CSVRecord())
		}
	case FormatUnsubscribesCSV:
		cv.Write(UnsubscribesCSVHeader)
		for _, u := range lists.Unsubscribes {
			cv.Write(u.CSVRecord())
		}
	default:
		cv.Write(ComplaintsCSVHeader)
		for _, c := range lists.Complaints {
			cv.Write(c.CSVRecord())
		}
	}
	cv.Flush()
	if err := cv.Error(); err != nil {
		return nil, err
	}
	return res, cw.flush()
}

// chunkWriter batches output into large writes and keeps the first error.
type chunkWriter struct {
	w   io.Writer
	buf []byte
	err error
}

func (c *chunkWriter) Write(p []byte) (int, error) {
	c.buf = append(c.buf, p...)
	return len(p), c.maybeFlush()
}

func (c *chunkWriter) maybeFlush() error {
	if len(c.buf) >= 1<<18 {
		return c.flush()
	}
	return c.err
}

func (c *chunkWriter) flush() error {
	if c.err == nil && len(c.buf) > 0 {
		_, c.err = c.w.Write(c.buf)
	}
	c.buf = c.buf[:0]
	return c.err
}

// renderer turns the event stream into one output format.
type renderer struct {
	cfg   Config
	out   Output
	cw    *chunkWriter
	n     int
	item  []byte
	csv   *csv.Writer
	row   []string
	pages []*page // events-pages: one per sending domain
	logs  *page   // logs-pages
	sign  *signer
	r     rng
}

type page struct {
	domain string
	items  []byte
	n      int
	first  int64
	last   int64
	lastID [22]byte // a copy: the event's memory is reused after emit
}

const (
	eventsPageSize = 300
	logsPageSize   = 100
)

func newRenderer(cfg Config, out Output, cw *chunkWriter) *renderer {
	rd := &renderer{cfg: cfg, out: out, cw: cw, r: newRNG(cfg.Seed, streamRender+7), sign: &signer{key: cfg.SigningKey}}
	switch out.Format {
	case FormatCSV:
		rd.csv = csv.NewWriter(cw)
		rd.csv.Write(CSVHeader)
	case FormatEventsArray:
		cw.buf = append(cw.buf, '[')
	case FormatEventsPages:
		for _, d := range cfg.SendingDomains {
			rd.pages = append(rd.pages, &page{domain: d})
		}
	case FormatLogsPages:
		rd.logs = &page{}
	}
	return rd
}

func (rd *renderer) emit(e *Event) error {
	cw := rd.cw
	rd.n++
	switch rd.out.Format {
	case FormatEventsJSONL:
		cw.buf = e.AppendEventsJSON(cw.buf)
		cw.buf = append(cw.buf, '\n')
	case FormatLogsJSONL:
		cw.buf = e.AppendLogsJSON(cw.buf, rd.cfg.AccountID)
		cw.buf = append(cw.buf, '\n')
	case FormatWebhooks:
		cw.buf = e.appendWebhook(cw.buf, rd.sign)
		cw.buf = append(cw.buf, '\n')
	case FormatLegacyWebhooks:
		var ok bool
		if cw.buf, ok = e.appendLegacy(cw.buf, rd.sign); ok {
			cw.buf = append(cw.buf, '\n')
		}
	case FormatEventsArray:
		if rd.n > 1 {
			cw.buf = append(cw.buf, ',')
		}
		cw.buf = append(cw.buf, '\n')
		if rd.out.Pretty {
			rd.item = e.AppendEventsJSON(rd.item[:0])
			var b bytes.Buffer
			cw.buf = append(cw.buf, ' ', ' ')
			if err := json.Indent(&b, rd.item, "  ", "  "); err != nil {
				return fmt.Errorf("indent event %s: %w", e.ID, err)
			}
			cw.buf = append(cw.buf, b.Bytes()...)
		} else {
			cw.buf = e.AppendEventsJSON(cw.buf)
		}
	case FormatCSV:
		rd.row = e.CSVRecord(rd.row[:0])
		if err := rd.csv.Write(rd.row); err != nil {
			return err
		}
	case FormatEventsPages:
		p := rd.pages[e.Msg.sender]
		if p.n == eventsPageSize {
			rd.writeEventsPage(p, false)
		}
		p.add(e, e.AppendEventsJSON)
	case FormatLogsPages:
		p := rd.logs
		if p.n == logsPageSize {
			rd.writeLogsPage(p, false)
		}
		p.add(e, func(dst []byte) []byte { return e.AppendLogsJSON(dst, rd.cfg.AccountID) })
	}
	return cw.maybeFlush()
}

func (p *page) add(e *Event, render func([]byte) []byte) {
	if p.n > 0 {
		p.items = append(p.items, ',')
	} else {
		p.first = e.Time
	}
	p.items = render(p.items)
	p.n++
	p.last = e.Time
	copy(p.lastID[:], e.ID)
}

func (rd *renderer) finish() error {
	cw := rd.cw
	switch rd.out.Format {
	case FormatEventsArray:
		cw.buf = append(cw.buf, "\n]\n"...)
	case FormatCSV:
		rd.csv.Flush()
		if err := rd.csv.Error(); err != nil {
			return err
		}
	case FormatEventsPages:
		for _, p := range rd.pages {
			if p.n > 0 {
				rd.writeEventsPage(p, false)
			}
			rd.writeEventsPage(p, true) // an empty page ends the listing
		}
	case FormatLogsPages:
		rd.writeLogsPage(rd.logs, true)
	}
	return cw.flush()
}

// ParseFormat returns the Format named s.
func ParseFormat(s string) (Format, error) {
	for _, f := range Formats {
		if string(f) == s {
			return f, nil
		}
	}
	return "", fmt.Errorf("format %q: unknown, want one of %s", s, formatList())
}

func formatList() string {
	var b []byte
	for i, f := range Formats {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, f...)
	}
	return string(b)
}
