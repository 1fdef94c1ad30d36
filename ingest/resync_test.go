package ingest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// sampleEvents returns n distinct events, one compact JSON object each,
// made from the Mailgun samples with ids of their own.
func sampleEvents(t *testing.T, n int) [][]byte {
	t.Helper()
	ls := lines(readFile(t, eventsFile))
	var out [][]byte
	for i := 0; len(out) < n; i++ {
		var m map[string]any
		if err := json.Unmarshal(ls[i%len(ls)], &m); err != nil {
			t.Fatal(err)
		}
		if m["event"] == nil {
			continue
		}
		m["id"] = fmt.Sprintf("resync%05d", i)
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// pretty indents a compact JSON object as jq . does, with prefix before
// every line but the first.
func pretty(t *testing.T, compact []byte, prefix string) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := json.Indent(&b, compact, prefix, "  "); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// lineOf returns the 1-based line of offset off in data.
func lineOf(data []byte, off int) int64 { return int64(bytes.Count(data[:off], nl)) + 1 }

// TestResyncAfterBadRecord: after a record whose brackets or quotes do not
// balance, reading goes on at the next record boundary: every good record
// after the bad one loads, and the bad one is one reject at its own line.
// Before, a JSON-lines file whose first line was cut loaded nothing of the
// lines after it (one reject holding the whole file), and in jq . output
// or a JSON array everything after an unbalanced record was lost.
func TestResyncAfterBadRecord(t *testing.T) {
	evs := sampleEvents(t, 200)
	const bad = 57 // the record that is cut short or broken
	type input struct {
		name    string
		data    []byte
		badLine int64 // where the reject must be
	}
	var ins []input

	// JSON lines, first line cut in the middle.
	{
		var b bytes.Buffer
		b.Write(evs[0][:len(evs[0])/2])
		b.WriteByte('\n')
		for _, e := range evs[1:] {
			b.Write(e)
			b.WriteByte('\n')
		}
		ins = append(ins, input{"json lines, first line cut", b.Bytes(), 1})
	}
	// JSON lines, first line cut just after a comma.
	{
		var b bytes.Buffer
		cut := bytes.Index(evs[0], []byte(`,"`)) + 1
		b.Write(evs[0][:cut])
		b.WriteByte('\n')
		for _, e := range evs[1:] {
			b.Write(e)
			b.WriteByte('\n')
		}
		ins = append(ins, input{"json lines, first line cut after a comma", b.Bytes(), 1})
	}
	// jq . output: pretty objects one after another, one cut short, one
	// with a string that never ends.
	for _, breakIt := range []struct {
		name string
		f    func(p []byte) []byte
	}{
		{"cut short", func(p []byte) []byte { return p[:len(p)/2] }},
		{"unterminated string", func(p []byte) []byte {
			i := bytes.Index(p, []byte(`"id": "`)) + len(`"id": "`)
			return append(append(append([]byte{}, p[:i]...), "resync"...), p[i+len("resync00057\""):]...)
		}},
		{"one brace too many", func(p []byte) []byte {
			i := bytes.Index(p, []byte(`"id": `)) + len(`"id": `)
			return append(append(append([]byte{}, p[:i]...), '{'), p[i:]...)
		}},
	} {
		var b bytes.Buffer
		var at int
		for i, e := range evs {
			p := pretty(t, e, "")
			if i == bad {
				at = b.Len()
				p = breakIt.f(p)
			}
			b.Write(p)
			b.WriteByte('\n')
		}
		ins = append(ins, input{"jq . output, " + breakIt.name, b.Bytes(), lineOf(b.Bytes(), at)})
	}
	// A JSON array, pretty (as jq . prints it) and compact, one element cut.
	{
		var b bytes.Buffer
		var at int
		b.WriteString("[\n")
		for i, e := range evs {
			if i > 0 {
				b.WriteString(",\n")
			}
			b.WriteString("  ")
			p := pretty(t, e, "  ")
			if i == bad {
				at = b.Len()
				p = p[:len(p)/2]
			}
			b.Write(p)
		}
		b.WriteString("\n]\n")
		ins = append(ins, input{"pretty array, one element cut", b.Bytes(), lineOf(b.Bytes(), at)})
	}
	{
		var b bytes.Buffer
		b.WriteString("[")
		for i, e := range evs {
			if i > 0 {
				b.WriteString(",")
			}
			if i == bad {
				e = e[:len(e)/2]
			}
			b.Write(e)
		}
		b.WriteString("]\n")
		ins = append(ins, input{"compact array, one element cut", b.Bytes(), 1})
	}

	for _, in := range ins {
		for _, opts := range []Options{{}, {ChunkSize: 4096, Workers: 2}} {
			t.Run(fmt.Sprintf("%s/chunk %d", in.name, opts.ChunkSize), func(t *testing.T) {
				r := mustRead(t, in.data, opts)
				want := len(evs) - 1
				if len(r.events) != want {
					t.Errorf("got %d events, want %d", len(r.events), want)
				}
				if len(r.rejects) != 1 {
					t.Fatalf("got %d rejects (%s), want 1", len(r.rejects), reasons(r.rejects))
				}
				rj := r.rejects[0]
				if rj.Line != in.badLine {
					t.Errorf("reject at line %d, want %d", rj.Line, in.badLine)
				}
				if strings.Contains(rj.Reason, "truncated") {
					t.Errorf("reject says %q: the input is not truncated", rj.Reason)
				}
				if len(rj.Raw) > 2*len(pretty(t, evs[bad], "  ")) {
					t.Errorf("the reject holds %d bytes: more than the bad record", len(rj.Raw))
				}
				// Every good record is there, in order.
				seen := map[string]bool{}
				for _, e := range r.events {
					seen[e.ID] = true
				}
				for i, e := range evs {
					id := idOf(t, e)
					if skip := (i == bad && !strings.HasPrefix(in.name, "json lines")) || (i == 0 && strings.HasPrefix(in.name, "json lines")); skip {
						continue
					}
					if !seen[id] {
						t.Errorf("event %d (%s) lost", i, id)
						break
					}
				}
			})
		}
	}
}

// TestResyncKeepsValidRecords: a valid record whose nested lines are not
// indented (so they look like record boundaries) is one record.
func TestResyncKeepsValidRecords(t *testing.T) {
	evs := sampleEvents(t, 3)
	page := "{\"items\": [\n" + string(evs[0]) + ",\n" + string(evs[1]) + "\n],\n\"paging\": {}}\n" + string(pretty(t, evs[2], ""))
	r := mustRead(t, []byte(page), Options{})
	if len(r.events) != 3 || len(r.rejects) != 0 {
		t.Errorf("got %d events %d rejects (%s), want 3 and 0", len(r.events), len(r.rejects), reasons(r.rejects))
	}
}
