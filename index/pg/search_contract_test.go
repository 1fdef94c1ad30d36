package pg_test

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/analyze"
	"github.com/maildiag/maildiag/index/pg"
	"github.com/maildiag/maildiag/internal/pgtest"
	"github.com/maildiag/maildiag/reclassify"
)

// The log search's text filters (subject, From, sending IP, tags, route)
// on both engines from one table of cases, and on a PostgreSQL index
// whose first events were stored before migration 0008 gave events their
// text ids, once the backfill has read them from their JSON.

// searcher is what maildiag events reads of an index of either engine.
type searcher interface {
	SearchEvents(ctx context.Context, f analyze.EventFilter, fn func(ev *maildiag.Event) error) (string, error)
}

// searched is an event as the cases compare it: what it is, not the
// store's ids.
type searched struct {
	TimeUS                             int64
	Type, ID, Recipient, Subject, From string
}

func search(t *testing.T, st searcher, f analyze.EventFilter) ([]searched, string) {
	t.Helper()
	var out []searched
	next, err := st.SearchEvents(context.Background(), f, func(e *maildiag.Event) error {
		out = append(out, searched{e.TimeUS, e.Type, e.ID, e.Recipient, e.Subject, e.From})
		return nil
	})
	if err != nil {
		t.Fatalf("search %+v: %v", f, err)
	}
	return out, next
}

// untext turns an index back into one made before migrations 0008 and 0009: no text
// ids, no texts, the migration unrecorded.
func untext(t *testing.T, u string) {
	t.Helper()
	ctx := context.Background()
	conn := pgtest.Conn(t, u)
	for _, q := range []string{
		`ALTER TABLE events DROP COLUMN subject_id, DROP COLUMN from_id, DROP COLUMN ip_id, DROP COLUMN tags_id, DROP COLUMN route_id`,
		`DROP TABLE texts`, `DELETE FROM schema_migrations WHERE version IN (8, 9)`, `DELETE FROM meta WHERE key = 'texts_backfill'`} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// asciiFold is whether s contains sub, ASCII letters without case (what
// --subject and --from promise).
func asciiFold(s, sub string) bool {
	low := func(x string) string {
		return strings.Map(func(r rune) rune {
			if 'A' <= r && r <= 'Z' {
				return r + 'a' - 'A'
			}
			return r
		}, x)
	}
	return strings.Contains(low(s), low(sub))
}

// searchCase is a filter, and, where the fields the listing shows tell,
// which events it selects.
type searchCase struct {
	name string
	f    analyze.EventFilter
	want func(e *maildiag.Event) bool
}

// searchCases picks the filters' texts from the events the index holds.
func searchCases(t *testing.T, all []maildiag.Event) []searchCase {
	var subject, from, ip, tag, provider, gateway, mx string
	for _, e := range all {
		if subject == "" && len(e.Subject) >= 12 {
			subject = strings.ToUpper(e.Subject[3:10])
		}
		if from == "" && len(e.From) >= 8 {
			from = strings.ToUpper(e.From[2:7])
		}
		if ip == "" && e.SendingIP != "" {
			ip = e.SendingIP
		}
		if tag == "" && len(e.Tags) > 0 {
			tag = e.Tags[0]
		}
		if provider == "" && e.Provider != "" {
			provider = strings.ToLower(e.Provider)
		}
		if gateway == "" && e.Type == maildiag.Failed && e.Gateway != "" {
			gateway = e.Gateway
		}
		if _, dom, ok := strings.Cut(e.MXHost, "."); mx == "" && ok {
			mx = "*." + dom
		}
	}
	if subject == "" || from == "" || ip == "" || tag == "" || provider == "" || gateway == "" || mx == "" {
		t.Fatalf("the fixture lacks a text to search by: %q %q %q %q %q %q %q", subject, from, ip, tag, provider, gateway, mx)
	}
	return []searchCase{
		{"subject", analyze.EventFilter{Subject: subject}, func(e *maildiag.Event) bool { return asciiFold(e.Subject, subject) }},
		{"subject, failed only", analyze.EventFilter{Subject: subject, Types: []string{maildiag.Failed}},
			func(e *maildiag.Event) bool { return e.Type == maildiag.Failed && asciiFold(e.Subject, subject) }},
		{"subject, no match", analyze.EventFilter{Subject: "no such subject at all"}, func(*maildiag.Event) bool { return false }},
		{"subject with LIKE's wildcards", analyze.EventFilter{Subject: "%_%"}, func(e *maildiag.Event) bool { return asciiFold(e.Subject, "%_%") }},
		{"from", analyze.EventFilter{From: from}, func(e *maildiag.Event) bool { return asciiFold(e.From, from) }},
		{"sending ip", analyze.EventFilter{SendingIPs: []string{ip, "192.0.2.254"}}, func(e *maildiag.Event) bool { return e.SendingIP == ip }},
		{"tag", analyze.EventFilter{Tags: []string{tag}}, func(e *maildiag.Event) bool { return slices.Contains(e.Tags, tag) }},
		{"subject and tag, oldest first", analyze.EventFilter{Subject: subject, Tags: []string{tag}, Asc: true},
			func(e *maildiag.Event) bool { return asciiFold(e.Subject, subject) && slices.Contains(e.Tags, tag) }},
		{"provider", analyze.EventFilter{Provider: provider}, nil},
		{"gateway of failures", analyze.EventFilter{Gateway: gateway, Types: []string{maildiag.Failed}}, nil},
		{"mx", analyze.EventFilter{MX: mx}, nil},
		{"subject, a page", analyze.EventFilter{Subject: subject, Limit: 7}, nil},
	}
}

func TestSearchTextsContract(t *testing.T) {
	ctx := context.Background()
	fx := newReadFixture(t)
	stores := readStores(t, fx)

	// The generated account stored before migration 0008, the samples
	// and the lists after it.
	old, u := open(t)
	w, err := old.NewWriter(ctx)
	if err != nil {
		t.Fatal(err)
	}
	first := fx
	first.events, first.bounces = fx.events[:1], nil
	loadWith(t, first, old, w)
	w.Close()
	untext(t, u)
	if err := old.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	w, err = old.NewWriter(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rest := fx
	rest.events = fx.events[1:]
	loadWith(t, rest, old, w)
	if pending, err := old.TextsPending(ctx); err != nil || !pending {
		t.Fatalf("TextsPending = %v, %v after migration 0008 of an index with events; want true", pending, err)
	}

	lite := stores["sqlite"].(searcher)
	var all []maildiag.Event
	if _, err := lite.SearchEvents(ctx, analyze.EventFilter{}, func(e *maildiag.Event) error {
		all = append(all, *e)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	cases := searchCases(t, all)
	before, _ := search(t, old, cases[0].f)

	n, err := reclassify.BackfillTexts(ctx, old, w, nil)
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	if want := one(t, u, `SELECT COUNT(*) FROM events e JOIN imports i ON i.id = e.import_id WHERE i.source = $1`, fx.events[0]); int64(n) != want {
		t.Errorf("the backfill read %d events, want the %d stored before the migration", n, want)
	}
	if left := one(t, u, `SELECT COUNT(*) FROM events WHERE subject_id IS NULL`); left != 0 {
		t.Errorf("%d events without text ids after the backfill", left)
	}
	if pending, err := old.TextsPending(ctx); err != nil || pending {
		t.Errorf("TextsPending = %v, %v after the backfill; want false", pending, err)
	}

	engines := []struct {
		name string
		st   searcher
	}{{"sqlite", lite}, {"postgres", stores["postgres"].(*pg.DB)}, {"postgres, backfilled", old}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var want []byte
			for _, e := range engines {
				got, next := search(t, e.st, c.f)
				if c.f.Limit > 0 {
					if len(got) != c.f.Limit || next == "" {
						t.Fatalf("%s: a page of %d events, next %q; want %d and a cursor", e.name, len(got), next, c.f.Limit)
					}
					f := c.f
					f.Cursor = next
					more, _ := search(t, e.st, f)
					got = append(got, more...)
				}
				b, _ := json.Marshal(got)
				if want == nil {
					want = b
				} else if !bytes.Equal(b, want) {
					t.Errorf("%s differs from sqlite:\n sqlite: %.600s\n %s: %.600s", e.name, want, e.name, b)
				}
			}
			if c.want == nil {
				if string(want) == "null" {
					t.Error("no event found")
				}
				return
			}
			n := 0
			for i := range all {
				if c.want(&all[i]) {
					n++
				}
			}
			var got []searched
			json.Unmarshal(want, &got)
			if len(got) != n {
				t.Errorf("%d events found, the listing holds %d that match", len(got), n)
			}
		})
	}
	if after, _ := search(t, old, cases[0].f); len(before) >= len(after) {
		t.Errorf("before the backfill the subject found %d events, after it %d: want fewer before", len(before), len(after))
	}
}
