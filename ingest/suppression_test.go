package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/maildiag/maildiag"
)

// suppressionSamples returns the bodies of suppressions.json by name.
func suppressionSamples(t *testing.T) map[string][]byte {
	t.Helper()
	var doc struct {
		Samples []struct {
			Name string          `json:"name"`
			Body json.RawMessage `json:"body"`
		} `json:"samples"`
	}
	if err := json.Unmarshal(readFile(t, suppressionsFile), &doc); err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, s := range doc.Samples {
		var b bytes.Buffer
		if err := json.Compact(&b, s.Body); err != nil {
			t.Fatal(err)
		}
		out[s.Name] = b.Bytes()
	}
	if len(out) != 29 {
		t.Fatalf("suppressions.json has %d samples, want 29", len(out))
	}
	return out
}

func rfc822(t *testing.T, s string) int64 {
	t.Helper()
	tm, err := time.Parse("Mon, 02 Jan 2006 15:04:05 MST", s)
	if err != nil {
		t.Fatal(err)
	}
	return tm.UnixMicro()
}

// TestSuppressionsDocIsNotAnExport: the samples file is a documentation
// container, not an export.
func TestSuppressionsDocIsNotAnExport(t *testing.T) {
	r := read(t, readFile(t, suppressionsFile), Options{})
	if !errors.Is(r.err, ErrUnknownShape) {
		t.Fatalf("err = %v, want ErrUnknownShape", r.err)
	}
	if len(r.events)+len(r.sups)+len(r.rejects) != 0 {
		t.Errorf("emitted %d events %d suppressions %d rejects for an unknown shape", len(r.events), len(r.sups), len(r.rejects))
	}
}

func TestSuppressionPages(t *testing.T) {
	bodies := suppressionSamples(t)
	dec11 := rfc822(t, "Thu, 11 Dec 2025 01:49:40 UTC")
	mar26 := rfc822(t, "Thu, 26 Mar 2026 12:59:24 UTC")
	tests := []struct {
		sample string
		opts   Options
		want   []maildiag.Suppression
	}{
		{
			sample: "GET bounces list (REAL recorded)",
			want: []maildiag.Suppression{{SendingDomain: "domain.test", List: "bounces", Address: "integration-test+email@domain.test",
				Code: "550", Error: "Integration Test", CreatedUS: rfc822(t, "Sun, 26 Jan 2025 07:29:04 UTC")}},
		},
		{
			sample: "GET complaints list, 1 item (REAL recorded)",
			want: []maildiag.Suppression{{SendingDomain: "domain.test", List: "complaints", Address: "integration-test-email@domain.test",
				CreatedUS: rfc822(t, "Sun, 26 Jan 2025 07:29:06 UTC")}},
		},
		{
			sample: "GET unsubscribes list (REAL recorded 2016)",
			want: []maildiag.Suppression{{SendingDomain: "domain.test", List: "unsubscribes", Address: "integration-test-email@domain.test",
				Tags: []string{"*"}, CreatedUS: rfc822(t, "Fri, 08 Jan 2016 18:55:04 UTC")}},
		},
		{
			// The URLs name no domain: --sending-domain supplies it.
			sample: "GET complaints list, 5 items alphabetical (REAL recorded)",
			opts:   Options{SendingDomain: "mg.example.com"},
			want: []maildiag.Suppression{
				{SendingDomain: "mg.example.com", List: "complaints", Address: "test1@example.com", CreatedUS: mar26},
				{SendingDomain: "mg.example.com", List: "complaints", Address: "test2@example.org", CreatedUS: mar26},
				{SendingDomain: "mg.example.com", List: "complaints", Address: "test3@example.net", CreatedUS: mar26},
				{SendingDomain: "mg.example.com", List: "complaints", Address: "test4@example.info", CreatedUS: mar26},
				{SendingDomain: "mg.example.com", List: "complaints", Address: "test777@example.com", CreatedUS: mar26},
			},
		},
		{
			sample: "GET unsubscribes list (REAL recorded 2026)",
			opts:   Options{SendingDomain: "mg.example.com"},
			want: []maildiag.Suppression{{SendingDomain: "mg.example.com", List: "unsubscribes", Address: "test777@example.com",
				Tags: []string{"*"}, CreatedUS: rfc822(t, "Thu, 26 Mar 2026 12:59:22 UTC")}},
		},
		{
			sample: "GET bounces list (OAS example)",
			opts:   Options{SendingDomain: "mg.example.com"},
			want: []maildiag.Suppression{{SendingDomain: "mg.example.com", List: "bounces", Address: "foo@bar.com",
				Code: "550", Error: "No such mailbox", CreatedUS: dec11}},
		},
		{
			sample: "GET unsubscribes list",
			opts:   Options{SendingDomain: "mg.example.com"},
			want: []maildiag.Suppression{{SendingDomain: "mg.example.com", List: "unsubscribes", Address: "alice@example.com",
				Tags: []string{"some tag"}, CreatedUS: dec11}},
		},
		{
			sample: "GET complaints list",
			opts:   Options{SendingDomain: "mg.example.com"},
			want:   []maildiag.Suppression{{SendingDomain: "mg.example.com", List: "complaints", Address: "alice@example.com", CreatedUS: dec11}},
		},
		{
			sample: "GET allowlist (whitelists) list",
			opts:   Options{SendingDomain: "mg.example.com"},
			want: []maildiag.Suppression{{SendingDomain: "mg.example.com", List: "allowlist", Kind: "domain", Address: "alice@example.com",
				Reason: "why the record was created", CreatedUS: dec11}},
		},
		{
			sample: "Old docs: GET bounces list",
			opts:   Options{SendingDomain: "mg.example.com"},
			want: []maildiag.Suppression{{SendingDomain: "mg.example.com", List: "bounces", Address: "alice@example.com",
				Code: "550", Error: "No such mailbox", CreatedUS: rfc822(t, "Fri, 21 Oct 2011 11:02:55 GMT")}},
		},
		{
			sample: "Old docs: GET unsubscribes list (legacy \"tag\" field)",
			opts:   Options{SendingDomain: "mg.example.com"},
			want: []maildiag.Suppression{{SendingDomain: "mg.example.com", List: "unsubscribes", Address: "alice@example.com",
				Tags: []string{"*"}, CreatedUS: rfc822(t, "Fri, 21 Oct 2011 11:02:55 GMT")}},
		},
		{
			sample: "Old docs: GET whitelists list",
			opts:   Options{SendingDomain: "mg.example.com"},
			want: []maildiag.Suppression{
				{SendingDomain: "mg.example.com", List: "allowlist", Kind: "address", Address: "alice@example.com",
					Reason: "reason of white listing", CreatedUS: rfc822(t, "Fri, 21 Oct 2011 11:02:55 UTC")},
				{SendingDomain: "mg.example.com", List: "allowlist", Kind: "domain", Address: "test.com",
					Reason: "reason of white listing", CreatedUS: rfc822(t, "Fri, 21 Oct 2012 11:02:56 UTC")},
			},
		},
		{
			sample: "GET single bounce",
			opts:   Options{SendingDomain: "MG.example.com"},
			want: []maildiag.Suppression{{SendingDomain: "MG.example.com", List: "bounces", Address: "foo@bar.com",
				Code: "550", Error: "No such mailbox", CreatedUS: dec11}},
		},
		{
			sample: "GET single unsubscribe",
			opts:   Options{SendingDomain: "mg.example.com"},
			want: []maildiag.Suppression{{SendingDomain: "mg.example.com", List: "unsubscribes", Address: "alice@example.com",
				Tags: []string{"some tag"}, CreatedUS: dec11}},
		},
		{
			sample: "GET single allowlist entry",
			opts:   Options{SendingDomain: "mg.example.com"},
			want: []maildiag.Suppression{{SendingDomain: "mg.example.com", List: "allowlist", Kind: "domain", Address: "alice@example.com",
				Reason: "why the record was created", CreatedUS: dec11}},
		},
		{
			sample: "GET bounces list EMPTY page (REAL recorded)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.sample, func(t *testing.T) {
			body, ok := bodies[tt.sample]
			if !ok {
				t.Fatalf("no sample %q", tt.sample)
			}
			r := mustRead(t, body, tt.opts)
			if len(r.rejects) != 0 || len(r.events) != 0 {
				t.Fatalf("got %d events, %d rejects (%s), want none", len(r.events), len(r.rejects), reasons(r.rejects))
			}
			checkSuppressions(t, r.sups, tt.want)
			want := map[string]int{}
			if len(tt.want) > 0 {
				want["suppression-json"] = len(tt.want)
			}
			if !mapsEqual(r.sum.Shapes, want) {
				t.Errorf("shapes %v, want %v", r.sum.Shapes, want)
			}
		})
	}
}

func checkSuppressions(t *testing.T, got, want []maildiag.Suppression) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d suppressions, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		g, w := got[i], want[i]
		if len(g.Raw) == 0 {
			t.Errorf("entry %d: empty Raw", i)
		}
		g.Raw = nil
		if !slices.Equal(g.Tags, w.Tags) && len(g.Tags)+len(w.Tags) > 0 {
			t.Errorf("entry %d: Tags %q, want %q", i, g.Tags, w.Tags)
		}
		g.Tags, w.Tags = nil, nil
		if g.SendingDomain != w.SendingDomain || g.List != w.List || g.Address != w.Address || g.Kind != w.Kind ||
			g.Code != w.Code || g.Error != w.Error || g.Reason != w.Reason || g.CreatedUS != w.CreatedUS {
			t.Errorf("entry %d:\n got %+v\nwant %+v", i, g, w)
		}
	}
}

// TestSuppressionRaw: Raw is the entry's own JSON object.
func TestSuppressionRaw(t *testing.T) {
	body := suppressionSamples(t)["GET complaints list, 5 items alphabetical (REAL recorded)"]
	r := mustRead(t, body, Options{SendingDomain: "mg.example.com"})
	if len(r.sups) != 5 {
		t.Fatalf("got %d suppressions, want 5", len(r.sups))
	}
	want := `{"address":"test3@example.net","created_at":"Thu, 26 Mar 2026 12:59:24 UTC"}`
	if got := string(r.sups[2].Raw); got != want {
		t.Errorf("Raw %s, want %s", got, want)
	}
}

// TestSuppressionPagesNeedDomain: entries whose page names no domain are
// rejected, naming --sending-domain, unless Options.SendingDomain is set.
func TestSuppressionPagesNeedDomain(t *testing.T) {
	bodies := suppressionSamples(t)
	for name, n := range map[string]int{
		"GET complaints list, 5 items alphabetical (REAL recorded)": 5,
		"GET unsubscribes list (REAL recorded 2026)":                1,
		"GET bounces list (OAS example)":                            1,
		"Old docs: GET whitelists list":                             2,
		"Old docs: batch add bounces request body":                  4,
	} {
		r := mustRead(t, bodies[name], Options{})
		if len(r.sups) != 0 || len(r.rejects) != n {
			t.Errorf("%s: %d suppressions, %d rejects, want 0 and %d", name, len(r.sups), len(r.rejects), n)
			continue
		}
		for i, rj := range r.rejects {
			if !strings.Contains(rj.Reason, "--sending-domain") {
				t.Errorf("%s: reject %d reason %q does not name --sending-domain", name, i, rj.Reason)
			}
			if len(rj.Raw) == 0 || rj.Raw[0] != '{' {
				t.Errorf("%s: reject %d Raw %q, want the entry", name, i, rj.Raw)
			}
			if rj.Line != 1 || rj.Item != i+1 {
				t.Errorf("%s: reject %d at line %d item %d, want line 1 item %d", name, i, rj.Line, rj.Item, i+1)
			}
			if in := bodies[name]; rj.Offset < 0 || rj.Offset >= int64(len(in)) || !bytes.HasPrefix(in[rj.Offset:], rj.Raw) {
				t.Errorf("%s: reject %d offset %d does not point at its raw text", name, i, rj.Offset)
			}
		}
	}
}

// TestSuppressionPrettyLines: in a pretty-printed page each rejected entry
// carries the line and byte offset where it starts.
func TestSuppressionPrettyLines(t *testing.T) {
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, suppressionSamples(t)["GET complaints list, 5 items alphabetical (REAL recorded)"], "", "  "); err != nil {
		t.Fatal(err)
	}
	in := append([]byte("\n\n"), pretty.Bytes()...) // the page starts on line 3
	r := mustRead(t, in, Options{})
	if len(r.rejects) != 5 {
		t.Fatalf("got %d rejects, want 5", len(r.rejects))
	}
	for i, rj := range r.rejects {
		// "{" on line 3, "items": [ on 4, then 4 lines per entry.
		if want := int64(5 + 4*i); rj.Line != want || rj.Item != i+1 {
			t.Errorf("reject %d: line %d item %d, want line %d item %d", i, rj.Line, rj.Item, want, i+1)
		}
		if rj.Offset < 0 || rj.Offset >= int64(len(in)) || !bytes.HasPrefix(in[rj.Offset:], rj.Raw) {
			t.Errorf("reject %d: offset %d does not point at its raw text %q", i, rj.Offset, rj.Raw)
		}
	}

	// A single entry, not in a page: line 1, no item.
	r = mustRead(t, suppressionSamples(t)["GET single bounce"], Options{})
	if len(r.rejects) != 1 || r.rejects[0].Line != 1 || r.rejects[0].Item != 0 || r.rejects[0].Offset != 0 {
		t.Errorf("single entry rejects %+v, want one at line 1 item 0 offset 0", r.rejects)
	}
}

// TestSuppressionBatchBody: the old docs' batch body is a bare array of
// bounce entries; the first three say they are bounces.
func TestSuppressionBatchBody(t *testing.T) {
	body := suppressionSamples(t)["Old docs: batch add bounces request body"]
	r := mustRead(t, body, Options{SendingDomain: "mg.example.com"})
	if len(r.sups) != 4 {
		t.Fatalf("got %d suppressions (%s), want 4", len(r.sups), reasons(r.rejects))
	}
	checkSuppressions(t, r.sups[:3], []maildiag.Suppression{
		{SendingDomain: "mg.example.com", List: "bounces", Address: "alice@example.com", Code: "550", Error: "Bounced", CreatedUS: rfc822(t, "Thu, 13 Oct 2011 18:02:00 UTC")},
		{SendingDomain: "mg.example.com", List: "bounces", Address: "bob@example.com", Code: "550", Error: "Bounced"},
		{SendingDomain: "mg.example.com", List: "bounces", Address: "carol@example.com", Code: "550"},
	})
	if r.sups[3].Address != "dan@example.com" {
		t.Errorf("entry 4: address %q, want dan@example.com", r.sups[3].Address)
	}
}

// TestSuppressionMessageBodies: API message bodies are not suppression data.
func TestSuppressionMessageBodies(t *testing.T) {
	bodies := suppressionSamples(t)
	for _, name := range []string{
		"GET single bounce 404", "DELETE all bounces", "POST bounces (batch) 200", "POST bounces 400",
		"GET single unsubscribe 404", "GET single complaint 404", "GET single allowlist 404",
	} {
		for _, opts := range []Options{{}, {SendingDomain: "mg.example.com"}} {
			r := read(t, bodies[name], opts)
			if !errors.Is(r.err, ErrUnknownShape) {
				t.Errorf("%s (%+v): err = %v, want ErrUnknownShape", name, opts, r.err)
			}
		}
	}
}

// TestSuppressionDeleteBodies: a DELETE response names the address it
// removed; it must not become a suppression entry (it would be filed as a
// complaint).
func TestSuppressionDeleteBodies(t *testing.T) {
	bodies := suppressionSamples(t)
	for _, name := range []string{"DELETE single bounce", "DELETE single unsubscribe", "DELETE single bounce (REAL recorded)"} {
		r := read(t, bodies[name], Options{SendingDomain: "mg.example.com"})
		if len(r.sups) != 0 {
			t.Errorf("%s: imported as %+v, want no suppression", name, r.sups)
		}
	}
}

// TestSuppressionEntryErrors: entries that cannot be loaded are rejected.
func TestSuppressionEntryErrors(t *testing.T) {
	page := func(items string) []byte {
		return []byte(`{"items":[` + items + `],"paging":{"first":"https://api.mailgun.net/v3/mg.example.com/bounces?limit=100"}}`)
	}
	r := mustRead(t, page(`{"address":"no-at-sign","code":"550"},{"address":"ok@x.com","created_at":"yesterday"},{"address":"Good@X.com","code":550,"created_at":"Thu, 11 Dec 2025 01:49:40 UTC"}`), Options{})
	if len(r.rejects) != 2 || len(r.sups) != 1 {
		t.Fatalf("got %d rejects (%s) and %d suppressions, want 2 and 1", len(r.rejects), reasons(r.rejects), len(r.sups))
	}
	for i, want := range []string{"no @", "bad timestamp"} {
		if !strings.Contains(r.rejects[i].Reason, want) {
			t.Errorf("reject %d: reason %q, want it to mention %q", i, r.rejects[i].Reason, want)
		}
		if r.rejects[i].Item != i+1 {
			t.Errorf("reject %d: item %d, want %d", i, r.rejects[i].Item, i+1)
		}
	}
	checkSuppressions(t, r.sups, []maildiag.Suppression{{SendingDomain: "mg.example.com", List: "bounces", Address: "good@x.com",
		Code: "550", CreatedUS: rfc822(t, "Thu, 11 Dec 2025 01:49:40 UTC")}})
}

// TestSuppressionPageListFromURL: the list comes from the paging URL even
// when the entries look like another list's.
func TestSuppressionPageListFromURL(t *testing.T) {
	for seg, list := range map[string]string{"bounces": "bounces", "unsubscribes": "unsubscribes", "complaints": "complaints", "whitelists": "allowlist"} {
		in := `{"items":[{"address":"a@x.com","created_at":"Thu, 11 Dec 2025 01:49:40 UTC"}],"paging":{"next":"https://api.eu.mailgun.net/v3/MG.Example.com/` + seg + `?page=next&address=a%40x.com"}}`
		r := mustRead(t, []byte(in), Options{SendingDomain: "other.com"})
		if len(r.sups) != 1 {
			t.Fatalf("%s: got %d suppressions, rejects %s", seg, len(r.sups), reasons(r.rejects))
		}
		if s := r.sups[0]; s.List != list || s.SendingDomain != "mg.example.com" {
			t.Errorf("%s: list %q domain %q, want %q mg.example.com", seg, s.List, s.SendingDomain, list)
		}
	}
}
