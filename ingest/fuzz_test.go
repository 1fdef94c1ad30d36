package ingest

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/maildiag/maildiag"
)

// Fuzz targets for every parser in the package. `go test` runs their seeds
// (and any regression under testdata/fuzz); fuzz one with
//
//	go test -run='^$' -fuzz=FuzzRead -fuzztime=30s ./ingest

// seedFiles adds every sample record, whole files and a few made-up shapes.
func seedFiles(f *testing.F) [][]byte {
	var seeds [][]byte
	for _, name := range []string{eventsFile, webhooksFile} {
		data, err := readFileF(name)
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, data)
		seeds = append(seeds, lines(data)...)
	}
	doc, err := readFileF(suppressionsFile)
	if err != nil {
		f.Fatal(err)
	}
	var d struct {
		Samples []struct {
			Body json.RawMessage `json:"body"`
		} `json:"samples"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		f.Fatal(err)
	}
	for _, s := range d.Samples {
		seeds = append(seeds, s.Body)
	}
	seeds = append(seeds,
		[]byte(eventsCSV),
		[]byte("address,code,error,created_at\nAlice@Example.com,550,No such mailbox,\"Thu, 11 Dec 2025 01:49:40 UTC\"\n"),
		[]byte("address,tags,created_at\na@b.com,*,\n"),
		[]byte("\ufeff[\r\n{\"event\":\"delivered\",\"timestamp\":1,\"id\":\"a\"},\r\n{\"event\":\"x\"\r\n"),
		[]byte(`{"items":[{"event":"failed","timestamp":"1.5"}],"paging":{"next":"https://api.mailgun.net/v3/d.com/events/x"}}{"event":"opened","timestamp":2}`),
		[]byte("{\n\"event\": \"delivered\",\n\"timestamp\": 1\n}\n[1,{\"a\":\"\\\"]\"}]"),
		[]byte(""),
		[]byte("   \n"),
		[]byte("["),
	)
	return seeds
}

func readFileF(name string) ([]byte, error) {
	return os.ReadFile(filepath.Join("testdata", name))
}

// readTimeout runs Read with a deadline: a hang fails instead of blocking.
func readTimeout(t *testing.T, in []byte, opts Options) result {
	t.Helper()
	done := make(chan result, 1)
	go func() { done <- readWith(t, bytes.NewReader(in), opts) }()
	select {
	case r := <-done:
		return r
	case <-time.After(20 * time.Second):
		t.Fatalf("Read did not return in 20 s on %q", in)
		return result{}
	}
}

// checkInvariants checks what must hold of any successful Read.
func checkInvariants(t *testing.T, in []byte, r result) {
	t.Helper()
	checkSummary(t, r)
	if r.sum.Bytes != int64(len(in)) || r.sum.SHA256 != sha(in) {
		t.Fatalf("summary bytes %d sha %s, want %d %s", r.sum.Bytes, r.sum.SHA256, len(in), sha(in))
	}
	plain := in
	if r.sum.Gzip {
		plain = nil // offsets are into the decompressed input
	}
	for i, e := range r.events {
		if e.Type == "" || e.ID == "" || len(e.Raw) == 0 {
			t.Fatalf("event %d: type %q id %q raw %q: want all set", i, e.Type, e.ID, e.Raw)
		}
		if e.RecipientDomain != strings.ToLower(e.RecipientDomain) {
			t.Fatalf("event %d: recipient domain %q not lower-cased", i, e.RecipientDomain)
		}
		if e.TimeUS > 1<<42*1_000_000+1_000_000 || e.TimeUS < -(1<<42*1_000_000+1_000_000) {
			t.Fatalf("event %d: TimeUS %d out of range (raw %q)", i, e.TimeUS, e.Raw)
		}
	}
	for i, s := range r.sups {
		switch s.List {
		case maildiag.ListBounces, maildiag.ListComplaints, maildiag.ListUnsubscribes, maildiag.ListAllowlist:
		default:
			t.Fatalf("suppression %d: list %q", i, s.List)
		}
		if s.Address == "" || s.SendingDomain == "" || len(s.Raw) == 0 {
			t.Fatalf("suppression %d: %+v: want address, domain and raw", i, s)
		}
	}
	for i, rj := range r.rejects {
		if rj.Line < 1 || rj.Item < 0 || rj.Offset < 0 || rj.Reason == "" {
			t.Fatalf("reject %d: %+v", i, rj)
		}
		if plain != nil && rj.Offset > int64(len(plain)) {
			t.Fatalf("reject %d: offset %d past the end (%d)", i, rj.Offset, len(plain))
		}
		if plain != nil && rj.Line > int64(bytes.Count(plain, []byte("\n"))+1) {
			t.Fatalf("reject %d: line %d past the last line", i, rj.Line)
		}
	}
}

// FuzzRead: Read on arbitrary bytes never panics or hangs, keeps its
// invariants, and gives the same result whatever the chunking.
func FuzzRead(f *testing.F) {
	for _, s := range seedFiles(f) {
		f.Add(s)
	}
	f.Add(gz(f, []byte(eventsCSV)))
	f.Fuzz(func(t *testing.T, in []byte) {
		a := readTimeout(t, in, Options{Workers: 1, ChunkSize: 4096})
		b := readTimeout(t, in, Options{Workers: 3, ChunkSize: 5})
		if (a.err == nil) != (b.err == nil) {
			t.Fatalf("chunk 4096: err %v; chunk 5: err %v", a.err, b.err)
		}
		if a.err != nil {
			if !errors.Is(a.err, ErrUnknownShape) && !errors.Is(a.err, ErrNoSendingDomain) && !errors.Is(a.err, ErrDuplicateColumn) &&
				!strings.HasPrefix(a.err.Error(), "gzip") &&
				!errors.Is(a.err, io.ErrUnexpectedEOF) && !strings.Contains(a.err.Error(), "flate") {
				t.Fatalf("unexpected error: %v", a.err)
			}
			return
		}
		checkInvariants(t, in, a)
		checkInvariants(t, in, b)
		compareResults(t, a, b)
	})
}

// compareResults checks that two reads of one input agree.
func compareResults(t *testing.T, a, b result) {
	t.Helper()
	if len(a.events) != len(b.events) || len(a.sups) != len(b.sups) || len(a.rejects) != len(b.rejects) {
		t.Fatalf("reads disagree: %d/%d/%d vs %d/%d/%d events/suppressions/rejects",
			len(a.events), len(a.sups), len(a.rejects), len(b.events), len(b.sups), len(b.rejects))
	}
	for i := range a.events {
		if d := diffEvent(a.events[i], b.events[i]); len(d) > 0 || !bytes.Equal(a.events[i].Raw, b.events[i].Raw) {
			t.Fatalf("event %d differs: %v", i, d)
		}
	}
	for i := range a.rejects {
		x, y := a.rejects[i], b.rejects[i]
		if x.Line != y.Line || x.Item != y.Item || x.Offset != y.Offset || x.Reason != y.Reason || !bytes.Equal(x.Raw, y.Raw) {
			t.Fatalf("reject %d differs:\n%+v\n%+v", i, x, y)
		}
	}
}

const fuzzFirstLine = `{"event":"delivered","id":"first","timestamp":1529692199.626182,"recipient":"a@b.com"}`

// FuzzReadJSONLines: after a valid first line the input is JSON lines; every
// non-blank line is accounted for: one event, suppression or reject each,
// except pages (and arrays) that hold any number. A line-level reject
// carries its line's number, offset and text.
func FuzzReadJSONLines(f *testing.F) {
	for _, s := range seedFiles(f) {
		if !bytes.HasPrefix(s, []byte{0x1f, 0x8b}) {
			f.Add(s)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		in := append([]byte(fuzzFirstLine+"\n"), data...)
		r := readTimeout(t, in, Options{Workers: 2, ChunkSize: 16})
		if r.err != nil {
			t.Fatalf("Read: %v", r.err)
		}
		checkInvariants(t, in, r)
		ls := bytes.Split(in, []byte("\n"))
		starts := make([]int64, len(ls))
		var off int64
		simple, nonBlank := 0, 0
		for i, l := range ls {
			starts[i] = off
			off += int64(len(l)) + 1
			tl := bytes.TrimSpace(l)
			if len(tl) == 0 {
				continue
			}
			nonBlank++
			lower := bytes.ToLower(tl)
			if tl[0] != '[' && !bytes.Contains(lower, []byte("item")) && !bytes.Contains(tl, []byte(`\u`)) && utf8Safe(tl) {
				simple++
			}
		}
		total := len(r.events) + len(r.sups) + len(r.rejects)
		if total < simple {
			t.Fatalf("%d records for %d simple lines (%d non-blank)", total, simple, nonBlank)
		}
		if simple == nonBlank && total != nonBlank {
			t.Fatalf("%d records for %d non-blank lines", total, nonBlank)
		}
		if len(r.events) == 0 || r.events[0].ID != "first" || string(r.events[0].Raw) != fuzzFirstLine {
			t.Fatalf("first line not loaded first")
		}
		seen := map[int64]bool{}
		for _, rj := range r.rejects {
			if rj.Item != 0 {
				continue
			}
			n := rj.Line
			if n < 1 || n > int64(len(ls)) {
				t.Fatalf("reject at line %d of %d", n, len(ls))
			}
			if seen[n] {
				t.Fatalf("two line rejects for line %d", n)
			}
			seen[n] = true
			if rj.Raw != nil && !bytes.Equal(rj.Raw, bytes.TrimSpace(ls[n-1])) {
				t.Fatalf("reject line %d raw %q, want the line %q", n, rj.Raw, ls[n-1])
			}
			// The offset of the line, or of the record after its indentation.
			lead := int64(len(ls[n-1]) - len(bytes.TrimLeftFunc(ls[n-1], unicode.IsSpace)))
			if rj.Offset != starts[n-1] && rj.Offset != starts[n-1]+lead {
				t.Fatalf("reject line %d offset %d, want %d or %d", n, rj.Offset, starts[n-1], starts[n-1]+lead)
			}
		}
		for i, e := range r.events {
			if !bytes.Contains(in, e.Raw) {
				t.Fatalf("event %d: Raw %q is not in the input", i, e.Raw)
			}
		}
	})
}

// utf8Safe excludes lines whose keys could fold to "items" under Unicode
// case folding (encoding/json matches keys case-insensitively).
func utf8Safe(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

// FuzzReadCSV: every non-blank row of an events CSV becomes one event or
// one reject, at the line the row starts on.
func FuzzReadCSV(f *testing.F) {
	f.Add([]byte(eventsCSV[strings.IndexByte(eventsCSV, '\n')+1:]))
	f.Add([]byte("1,delivered,a\"b\n2,delivered,c\n3,delivered,\"d\ne\"\n"))
	f.Add([]byte("\"\n\n\"\"\n,,\n \n\r\n"))
	const header = "timestamp,event,id\n"
	f.Fuzz(func(t *testing.T, data []byte) {
		in := append([]byte(header), data...)
		r := readTimeout(t, in, Options{Workers: 2, ChunkSize: 32})
		if r.err != nil {
			t.Fatalf("Read: %v", r.err)
		}
		checkInvariants(t, in, r)
		// The rows, as the splitter finds them, and what each must yield.
		c := &csvSplitter{br: bufio.NewReader(bytes.NewReader(data))}
		line := int64(2)
		var wantLines []int64
		for range len(data) + 2 {
			row, n, err := c.row()
			if len(bytes.TrimSpace(row)) > 0 && !blankCSVRow(row) {
				wantLines = append(wantLines, line)
			}
			line += int64(n)
			if err != nil {
				break
			}
		}
		if got := len(r.events) + len(r.rejects); got != len(wantLines) {
			t.Fatalf("%d events + rejects, want %d rows", got, len(wantLines))
		}
		for _, rj := range r.rejects {
			if !slices.Contains(wantLines, rj.Line) {
				t.Fatalf("reject at line %d, rows start at %v", rj.Line, wantLines)
			}
		}
	})
}

// blankCSVRow tells a row holding one blank field, which csvRecord skips.
func blankCSVRow(row []byte) bool {
	fields, err := csv.NewReader(bytes.NewReader(row)).Read()
	return err == nil && len(fields) == 1 && strings.TrimSpace(fields[0]) == ""
}

// FuzzSplitArray: on valid JSON arrays splitArray finds the elements
// encoding/json finds; on anything it stays in bounds and terminates.
func FuzzSplitArray(f *testing.F) {
	for _, s := range seedFiles(f) {
		f.Add(s)
	}
	f.Add([]byte(`[1, "a\"]", {"b":[{}]}, [], null, -1.5e+3, true]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		candidates := [][]byte{
			data,
			append(append([]byte("["), data...), ']'),
			append(append(append(append([]byte("[ "), data...), " ,\n"...), data...), "\t]"...),
		}
		for _, c := range candidates {
			checkSpans(t, c)
			i := skipSpace(c, 0)
			if i >= len(c) || c[i] != '[' || !json.Valid(c) {
				continue
			}
			var want []json.RawMessage
			if err := json.Unmarshal(c, &want); err != nil {
				t.Fatal(err)
			}
			spans, err := splitArray(c, i)
			if err != nil {
				t.Fatalf("splitArray(%q): %v", c, err)
			}
			if len(spans) != len(want) {
				t.Fatalf("splitArray(%q): %d elements, encoding/json %d", c, len(spans), len(want))
			}
			for k, s := range spans {
				if !bytes.Equal(c[s.start:s.end], want[k]) {
					t.Fatalf("element %d: %q, encoding/json %q", k, c[s.start:s.end], want[k])
				}
			}
			// The whole array is one value.
			end, err := valueEnd(c, i)
			if err != nil || end != len(bytes.TrimRight(c, " \t\r\n")) {
				t.Fatalf("valueEnd(%q) = %d, %v; want %d", c, end, err, len(bytes.TrimRight(c, " \t\r\n")))
			}
		}
		// Every element of valid JSON, as a value followed by a space.
		if json.Valid(data) {
			v := bytes.TrimSpace(data)
			end, err := valueEnd(append(append([]byte{}, v...), ' '), 0)
			if err != nil || end != len(v) {
				t.Fatalf("valueEnd(%q + space) = %d, %v; want %d", v, end, err, len(v))
			}
		}
	})
}

// checkSpans checks splitArray and valueEnd on arbitrary bytes.
func checkSpans(t *testing.T, c []byte) {
	for i := range min(len(c), 8) {
		end, err := valueEnd(c, i)
		if end < i || end > len(c) || (err == nil && end == i) {
			t.Fatalf("valueEnd(%q, %d) = %d, %v", c, i, end, err)
		}
	}
	i := bytes.IndexByte(c, '[')
	if i < 0 {
		return
	}
	spans, err := splitArray(c, i)
	prev := i + 1
	for k, s := range spans {
		if s.start < prev || s.end <= s.start || s.end > len(c) {
			t.Fatalf("splitArray(%q): span %d = %v after %d", c, k, s, prev)
		}
		prev = s.end
	}
	if err != nil && !errors.Is(err, errUnterminated) {
		t.Fatalf("splitArray: %v", err)
	}
}

var jsonNumber = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$`)

// FuzzParseEpoch: exact microseconds (truncated toward zero) for every JSON
// number in range, as a number or a string; no panic, and no nonsense
// accepted, for anything else.
func FuzzParseEpoch(f *testing.F) {
	for _, s := range []string{
		"1529692198.641821", "1666214138.4046676", "1757598410.9787407", "1376435471.10744", "1555439198.84909",
		"1461261330", `"1461261330"`, "0", "-1.5", "1e9", "1.5e9", "0.000001", "4398046511103.999999",
		"", "null", `""`, "abc", "1.", ".5", "1.2.3", "NaN", "Inf", "-0", "00012.5", "1_000", "0x10",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseEpoch([]byte(s))
		if err == nil && (got > 1<<42*1_000_000+1_000_000 || got < -(1<<42*1_000_000+1_000_000)) {
			t.Fatalf("parseEpoch(%q) = %d, out of range", s, got)
		}
		text := strings.Trim(strings.TrimSpace(s), `"`)
		if err == nil {
			if _, perr := strconv.ParseFloat(text, 64); perr != nil {
				t.Fatalf("parseEpoch(%q) = %d, want an error", s, got)
			}
		}
		if !jsonNumber.MatchString(text) {
			return
		}
		want, ok := exactMicros(text)
		if !ok || want > (1<<42)*1_000_000 || want < -(1<<42)*1_000_000 {
			return
		}
		for _, in := range []string{text, `"` + text + `"`, " " + text + "\n"} {
			got, err := parseEpoch([]byte(in))
			if err != nil {
				t.Fatalf("parseEpoch(%q): %v", in, err)
			}
			if got != want {
				t.Fatalf("parseEpoch(%q) = %d, want %d", in, got, want)
			}
		}
	})
}

// FuzzParseAnyTime: parseAnyTime never panics on a non-empty string and
// reads every RFC 822 date it is given back exactly.
func FuzzParseAnyTime(f *testing.F) {
	for _, s := range []string{"Thu, 11 Dec 2025 01:49:40 UTC", "Fri, 21 Oct 2011 11:02:55 GMT", "2024-07-08T16:30:18.530Z", "1765417780", "1.5", "x", "1-"} {
		f.Add(s, int64(0))
	}
	f.Fuzz(func(t *testing.T, s string, sec int64) {
		if s != "" {
			parseAnyTime(s)
		}
		sec %= 1 << 35
		tm := time.Unix(sec, 0).UTC()
		for _, layout := range []string{"Mon, 02 Jan 2006 15:04:05 MST", time.RFC3339, time.RFC3339Nano} {
			text := tm.Format(layout)
			got, err := parseAnyTime(text)
			if err != nil || got != sec*1_000_000 {
				t.Fatalf("parseAnyTime(%q) = %d, %v; want %d", text, got, err, sec*1_000_000)
			}
		}
	})
}

// FuzzCSVRows: the splitter loses and invents no byte (rows rejoined equal
// the input less its line breaks), counts every physical line, terminates,
// and on valid CSV finds the records encoding/csv finds.
func FuzzCSVRows(f *testing.F) {
	f.Add([]byte(eventsCSV))
	f.Add([]byte("a,\"b\nc\",d\r\ne,f\n\n\"g\"\"h\",i"))
	f.Add([]byte("a\"b\nc\nd\"e\n"))
	f.Add([]byte("\"unterminated\nx\ny"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c := &csvSplitter{br: bufio.NewReader(bytes.NewReader(data))}
		var rows [][]byte
		physical := 0
		for i := 0; ; i++ {
			if i > len(data)+1 {
				t.Fatalf("row() did not reach the end of %q", data)
			}
			row, n, err := c.row()
			if n > 0 || len(row) > 0 {
				rows = append(rows, row)
			}
			physical += n
			if err != nil {
				if !errors.Is(err, io.EOF) {
					t.Fatal(err)
				}
				break
			}
		}
		strip := func(b []byte) []byte {
			return bytes.ReplaceAll(bytes.ReplaceAll(b, []byte("\n"), nil), []byte("\r"), nil)
		}
		if got, want := strip(bytes.Join(rows, nil)), strip(data); !bytes.Equal(got, want) {
			t.Fatalf("rows rejoined %q, want %q", got, want)
		}
		wantLines := bytes.Count(data, []byte("\n"))
		if len(data) > 0 && data[len(data)-1] != '\n' {
			wantLines++
		}
		if physical != wantLines {
			t.Fatalf("rows span %d lines, input has %d", physical, wantLines)
		}
		if c.consumed != int64(len(data)) {
			t.Fatalf("consumed %d of %d bytes", c.consumed, len(data))
		}
		// Differential check against encoding/csv on valid CSV.
		if bytes.Count(data, []byte("\n")) > maxRowLines || bytes.IndexByte(data, '\r') >= 0 {
			return
		}
		r := csv.NewReader(bytes.NewReader(data))
		r.FieldsPerRecord = -1
		want, err := r.ReadAll()
		if err != nil {
			return
		}
		var got [][]string
		for _, row := range rows {
			if len(row) == 0 {
				continue // encoding/csv skips empty lines
			}
			fields, err := csv.NewReader(bytes.NewReader(row)).Read()
			if err != nil {
				t.Fatalf("row %q of valid CSV: %v", row, err)
			}
			got = append(got, fields)
		}
		if len(got) != len(want) {
			t.Fatalf("%d rows, encoding/csv %d records", len(got), len(want))
		}
		for i := range want {
			if !slices.Equal(got[i], want[i]) {
				t.Fatalf("row %d: %q, encoding/csv %q", i, got[i], want[i])
			}
		}
	})
}

// FuzzParseCSVLayout: a header is either refused with errNotCSV or gives a
// layout whose columns exist and which is a suppression list or has time
// and event columns.
func FuzzParseCSVLayout(f *testing.F) {
	for _, h := range []string{
		"timestamp,event,id,recipient,delivery-status.code,delivery-status.message,message-id,subject,tags",
		"address,code,error,created_at", "address,tags,created_at", "address,created_at", "created_at,address",
		"\ufeffEvent Type, Date ,Email", `"timestamp","event"`, "name,age", "", ",,,", `"a,b",c`,
	} {
		f.Add([]byte(h))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		l, err := parseCSVLayout(line)
		if err != nil {
			if !errors.Is(err, errNotCSV) || l != nil {
				t.Fatalf("parseCSVLayout(%q) = %v, %v", line, l, err)
			}
			return
		}
		for field, i := range l.col {
			if i < 0 || i >= len(l.header) {
				t.Fatalf("column %s at %d of %d", field, i, len(l.header))
			}
		}
		if l.list != "" {
			names := make([]string, len(l.header))
			for i, h := range l.header {
				names[i] = canonColumn(h)
			}
			slices.Sort(names)
			if suppressionHeaders[strings.Join(names, ",")] != l.list {
				t.Fatalf("header %q taken as the %s list", l.header, l.list)
			}
			return
		}
		_, hasTime := l.col["time"]
		_, hasEvent := l.col["event"]
		if !hasTime || !hasEvent {
			t.Fatalf("events layout without time or event: %v", l.col)
		}
	})
}

// FuzzCSVLayoutPermutations: the suppression headers in any column order
// and case are recognised as their list.
func FuzzCSVLayoutPermutations(f *testing.F) {
	f.Add(uint8(0), uint8(0), false)
	f.Fuzz(func(t *testing.T, which, perm uint8, upper bool) {
		headers := [][]string{{"address", "code", "error", "created_at"}, {"address", "tags", "created_at"}, {"address", "created_at"}}
		lists := []string{maildiag.ListBounces, maildiag.ListUnsubscribes, maildiag.ListComplaints}
		k := int(which) % len(headers)
		h := slices.Clone(headers[k])
		for i := range h { // a permutation chosen by perm
			j := i + int(perm)%(len(h)-i)
			h[i], h[j] = h[j], h[i]
			perm /= 2
		}
		line := strings.Join(h, ",")
		if upper {
			line = strings.ToUpper(line)
		}
		l, err := parseCSVLayout([]byte(line))
		if err != nil || l.list != lists[k] {
			t.Fatalf("parseCSVLayout(%q) = %+v, %v; want the %s list", line, l, err, lists[k])
		}
	})
}
