package ingest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/maildiag/maildiag"
)

// shapeInput is the sample events written in one JSON shape. exact says
// whether each event's Raw must be the sample line byte for byte (otherwise
// it must hold the same JSON value).
type shapeInput struct {
	name  string
	data  []byte
	exact bool
}

// shapeInputs writes the sample lines in every JSON shape ingest reads.
func shapeInputs(t *testing.T, ls [][]byte) []shapeInput {
	t.Helper()
	raws := make([]json.RawMessage, len(ls))
	for i, l := range ls {
		raws[i] = l
	}
	indent := func(b []byte) []byte {
		var out bytes.Buffer
		if err := json.Indent(&out, b, "", "  "); err != nil {
			t.Fatal(err)
		}
		return out.Bytes()
	}
	prettyArray, err := json.MarshalIndent(raws, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	var concat [][]byte
	for _, l := range ls {
		concat = append(concat, indent(l))
	}
	// Pages of up to 10 items, as the Events and Logs APIs return them.
	var eventsPages, logsPages [][]byte
	for i := 0; i < len(ls); i += 10 {
		items := bytes.Join(ls[i:min(i+10, len(ls))], []byte(","))
		eventsPages = append(eventsPages, []byte(fmt.Sprintf(
			`{"items":[%s],"paging":{"first":"https://api.mailgun.net/v3/example.com/events/A%d","last":"https://api.mailgun.net/v3/example.com/events/B","next":"https://api.mailgun.net/v3/example.com/events/C%d","previous":"https://api.mailgun.net/v3/example.com/events/D"}}`, items, i, i)))
		logsPages = append(logsPages, []byte(fmt.Sprintf(
			`{"start":"Mon, 01 Jul 2024 00:00:00 -0000","end":"Wed, 31 Jul 2024 00:00:00 -0000","items":[%s],"pagination":{"next":"tok%d","total":49},"aggregates":{}}`, items, i)))
	}
	var prettyEventsPages, prettyLogsPages [][]byte
	for i := range eventsPages {
		prettyEventsPages = append(prettyEventsPages, indent(eventsPages[i]))
		prettyLogsPages = append(prettyLogsPages, indent(logsPages[i]))
	}
	jsonl := append(bytes.Join(ls, []byte("\n")), '\n')
	nl := []byte("\n")
	return []shapeInput{
		{"json lines", jsonl, true},
		{"json lines without final newline", bytes.Join(ls, nl), true},
		{"json lines with BOM", append([]byte("\ufeff"), jsonl...), true},
		{"json lines with CRLF", append(bytes.Join(ls, []byte("\r\n")), "\r\n"...), true},
		{"json lines with blank lines", append(append([]byte("\n \n"), bytes.Join(ls, []byte("\n\n\t\r\n"))...), "\n\n"...), true},
		{"pretty array", prettyArray, false},
		{"compact array", append(append([]byte("["), bytes.Join(ls, []byte(","))...), ']'), true},
		{"array one element per line", append(append([]byte("[\n"), bytes.Join(ls, []byte(",\n"))...), "\n]\n"...), true},
		{"concatenated pretty objects", bytes.Join(concat, nl), false},
		{"concatenated pretty objects, no separator", bytes.Join(concat, nil), false},
		{"concatenated compact objects on one line", bytes.Join(ls, nil), true},
		{"events api pages, one per line", bytes.Join(eventsPages, nl), true},
		{"events api pages, pretty", bytes.Join(prettyEventsPages, nl), false},
		{"events api pages in an array", append(append([]byte("["), bytes.Join(eventsPages, []byte(",\n"))...), ']'), true},
		{"logs api pages, one per line", bytes.Join(logsPages, nl), true},
		{"logs api pages, pretty", bytes.Join(prettyLogsPages, nl), false},
		{"pretty array with BOM and CRLF", append([]byte("\ufeff"), bytes.ReplaceAll(prettyArray, nl, []byte("\r\n"))...), false},
	}
}

// compareEvents checks that got holds the sample events in order.
func compareEvents(t *testing.T, got, want []maildiag.Event, ls [][]byte, exact bool) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d events, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if strings.HasPrefix(w.ID, "~") && !exact {
			// A synthetic id hashes the raw text, which this shape reformats:
			// see TestSyntheticIDIgnoresFormatting.
			if !strings.HasPrefix(g.ID, "~") {
				t.Errorf("event %d: ID %q, want a synthetic ~ id", i+1, g.ID)
			}
			g.ID = w.ID
		}
		for _, d := range diffEvent(g, w) {
			t.Errorf("event %d: %s", i+1, d)
		}
		if exact {
			if !bytes.Equal(g.Raw, ls[i]) {
				t.Errorf("event %d: Raw %q, want the sample line", i+1, g.Raw)
			}
		} else if !jsonEqual(g.Raw, ls[i]) {
			t.Errorf("event %d: Raw %q does not hold the sample line's JSON", i+1, g.Raw)
		}
	}
}

// TestShapesYieldSameEvents reads the sample events in every shape, plain
// and gzipped, in one piece and a byte at a time, with tiny chunks and with 1
// and 4 workers: every way must give the same events in input order.
func TestShapesYieldSameEvents(t *testing.T) {
	data := readFile(t, eventsFile)
	ls := lines(data)
	base := mustRead(t, data, Options{})
	if len(base.events) != len(ls) {
		t.Fatalf("base: %d events, want %d", len(base.events), len(ls))
	}
	type variant struct {
		name     string
		opts     Options
		oneByte  bool
		compress int // 0 plain, 1 gzip, 2 multi-member gzip
	}
	variants := []variant{
		{name: "default"},
		{name: "workers=1 chunk=64", opts: Options{Workers: 1, ChunkSize: 64}},
		{name: "workers=4 chunk=64", opts: Options{Workers: 4, ChunkSize: 64}},
		{name: "workers=4 chunk=1000", opts: Options{Workers: 4, ChunkSize: 1000}},
		{name: "one byte reads, workers=4 chunk=64", opts: Options{Workers: 4, ChunkSize: 64}, oneByte: true},
		{name: "gzip", opts: Options{Workers: 4}, compress: 1},
		{name: "gzip, one byte reads, chunk=64", opts: Options{Workers: 1, ChunkSize: 64}, oneByte: true, compress: 1},
		{name: "multi-member gzip, chunk=100", opts: Options{Workers: 4, ChunkSize: 100}, compress: 2},
	}
	for _, in := range shapeInputs(t, ls) {
		for _, v := range variants {
			t.Run(in.name+"/"+v.name, func(t *testing.T) {
				src := in.data
				switch v.compress {
				case 1:
					src = gz(t, in.data)
				case 2:
					third := len(in.data) / 3
					src = multiGz(t, in.data[:third], in.data[third:2*third], in.data[2*third:])
				}
				var rd io.Reader = bytes.NewReader(src)
				if v.oneByte {
					rd = &oneByteReader{rd}
				}
				r := readWith(t, rd, v.opts)
				if r.err != nil {
					t.Fatalf("Read: %v", r.err)
				}
				checkSummary(t, r)
				if len(r.rejects) != 0 {
					t.Fatalf("%d rejects: %s", len(r.rejects), reasons(r.rejects))
				}
				compareEvents(t, r.events, base.events, ls, in.exact)
				if r.sum.Bytes != int64(len(src)) {
					t.Errorf("Summary.Bytes %d, want %d", r.sum.Bytes, len(src))
				}
				if r.sum.Gzip != (v.compress > 0) {
					t.Errorf("Summary.Gzip %v, want %v", r.sum.Gzip, v.compress > 0)
				}
			})
		}
	}
}

// TestShapesCounted: whatever the container, an item counts as logs-api when
// it carries @timestamp, events-api otherwise.
func TestShapesCounted(t *testing.T) {
	ls := lines(readFile(t, eventsFile))
	for _, in := range shapeInputs(t, ls) {
		r := mustRead(t, in.data, Options{})
		if got, want := r.sum.Shapes, map[string]int{"events-api": 47, "logs-api": 2}; !mapsEqual(got, want) {
			t.Errorf("%s: shapes %v, want %v", in.name, got, want)
		}
	}
}

// TestShapesSmallChunksLineNumbers: a malformed line keeps its exact line
// number and offset whatever the chunking, and the lines after it load.
func TestShapesSmallChunksLineNumbers(t *testing.T) {
	ls := lines(readFile(t, eventsFile))
	var in []byte
	var badOffsets []int64
	var badLines []int64
	var want int
	for i, l := range ls {
		in = append(in, l...)
		in = append(in, '\n')
		want++
		if i%7 == 3 {
			badOffsets = append(badOffsets, int64(len(in)))
			badLines = append(badLines, int64(i+2+len(badLines)))
			in = append(in, fmt.Sprintf(`{"event":"delivered","timestamp":1,"bad %d`+"\n", i)...)
		}
	}
	for _, opts := range []Options{{Workers: 1, ChunkSize: 1}, {Workers: 4, ChunkSize: 64}, {Workers: 3, ChunkSize: 333}, {}} {
		for _, oneByte := range []bool{false, true} {
			var rd io.Reader = bytes.NewReader(in)
			if oneByte {
				rd = &oneByteReader{rd}
			}
			r := readWith(t, rd, opts)
			if r.err != nil {
				t.Fatalf("%+v: %v", opts, r.err)
			}
			if len(r.events) != want || len(r.rejects) != len(badLines) {
				t.Fatalf("%+v one byte %v: %d events %d rejects, want %d and %d", opts, oneByte, len(r.events), len(r.rejects), want, len(badLines))
			}
			for i, rj := range r.rejects {
				if rj.Line != badLines[i] || rj.Offset != badOffsets[i] || rj.Item != 0 {
					t.Errorf("%+v: reject %d at line %d offset %d item %d, want line %d offset %d item 0",
						opts, i, rj.Line, rj.Offset, rj.Item, badLines[i], badOffsets[i])
				}
				if !strings.HasPrefix(rj.Reason, "invalid JSON") {
					t.Errorf("reject %d: reason %q, want invalid JSON", i, rj.Reason)
				}
			}
		}
	}
}

// TestShapesBOMTinyChunks: a BOM is skipped whatever the chunk size.
func TestShapesBOMTinyChunks(t *testing.T) {
	ev := `{"event":"delivered","id":"a","timestamp":1,"recipient":"x@test.com"}`
	in := []byte("\ufeff" + ev + "\n" + ev + "\n")
	for _, chunk := range []int{64, 4, 3} {
		r := read(t, in, Options{ChunkSize: chunk})
		if r.err != nil || len(r.events) != 2 {
			t.Errorf("chunk %d: err %v, %d events, want 2", chunk, r.err, len(r.events))
		}
	}
	t.Run("chunk smaller than the BOM", func(t *testing.T) {
		for _, chunk := range []int{1, 2} {
			r := read(t, in, Options{ChunkSize: chunk})
			if r.err != nil || len(r.events) != 2 {
				t.Errorf("chunk %d: err %v, %d events, want 2", chunk, r.err, len(r.events))
			}
		}
	})
}

// TestSyntheticIDIgnoresFormatting: an event without an id gets the same
// synthetic id whether it was exported compact or pretty-printed, so that
// importing both stores it once.
func TestSyntheticIDIgnoresFormatting(t *testing.T) {
	ev := `{"event":"rejected","timestamp":1529704976.104692,"reject":{"reason":"x"},"message":{"headers":{"to":"Recipient Name <recipient@example.org>"}}}`
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, []byte(ev), "", "  "); err != nil {
		t.Fatal(err)
	}
	a := mustRead(t, []byte(ev), Options{})
	b := mustRead(t, pretty.Bytes(), Options{})
	if len(a.events) != 1 || len(b.events) != 1 {
		t.Fatalf("got %d and %d events", len(a.events), len(b.events))
	}
	if a.events[0].ID != b.events[0].ID {
		t.Errorf("compact id %q, pretty id %q: want the same", a.events[0].ID, b.events[0].ID)
	}
}

// TestLeadingWhitespace: blank lines before the first record do not hide it.
func TestLeadingWhitespace(t *testing.T) {
	ev := `{"event":"delivered","id":"a","timestamp":1,"recipient":"x@test.com"}`
	for _, n := range []int{1, 100, 4000} {
		r := read(t, []byte(strings.Repeat("\n", n)+ev+"\n"), Options{})
		if r.err != nil || len(r.events) != 1 {
			t.Errorf("%d blank lines: err %v, %d events, want 1", n, r.err, len(r.events))
		}
	}
	t.Run("more than 4096 bytes", func(t *testing.T) {
		r := read(t, []byte(strings.Repeat("\n", 5000)+ev+"\n"), Options{})
		if r.err != nil || len(r.events) != 1 {
			t.Errorf("err %v, %d events, want 1", r.err, len(r.events))
		}
	})
}

// TestDetectionIndependentOfChunkSize: two objects on the first line are
// concatenated JSON, not JSON lines, however the input is chunked.
func TestDetectionIndependentOfChunkSize(t *testing.T) {
	a := `{"event":"delivered","id":"a","timestamp":1,"recipient":"x@test.com"}`
	b := `{"event":"opened","id":"b","timestamp":2,"recipient":"x@test.com"}`
	in := []byte(a + b + "\n")
	for _, chunk := range []int{4096, 100, 10} {
		r := mustRead(t, in, Options{ChunkSize: chunk})
		if len(r.events) != 2 {
			t.Errorf("chunk %d: %d events %d rejects, want 2 events", chunk, len(r.events), len(r.rejects))
		}
	}
	t.Run("first chunk ends with the first object", func(t *testing.T) {
		r := mustRead(t, in, Options{ChunkSize: len(a)})
		if len(r.events) != 2 {
			t.Errorf("%d events %d rejects (%s), want 2 events", len(r.events), len(r.rejects), reasons(r.rejects))
		}
	})
}
