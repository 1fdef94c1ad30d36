package pg_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/analyze"
	"github.com/maildiag/maildiag/index"
)

// The store contract, so far for what the PostgreSQL store implements:
// one table of cases run against both engines, each held to the same
// numbers.

// contractStore is what the cases use of a store and its writer.
type contractStore interface {
	Span(ctx context.Context) (analyze.Span, error)
	SyncedRanges(ctx context.Context, sendingDomain, source string) ([]maildiag.Range, error)
	Meta(ctx context.Context, key string) (string, error)
}

type contractWriter interface {
	AddEvents(ctx context.Context, evs []maildiag.Event, importID int64) (int, error)
	AddSyncedRange(ctx context.Context, sendingDomain, source string, r maildiag.Range, syncedUS int64) error
	SetMeta(ctx context.Context, key, value string) error
	Commit(ctx context.Context) error
	Rollback()
}

type engine struct {
	name string
	// open returns a new store, its writer, and a reader of the events
	// counted by status.
	open func(t *testing.T) (contractStore, contractWriter, func() int64)
}

var engines = []engine{
	{"sqlite", func(t *testing.T) (contractStore, contractWriter, func() int64) {
		db, err := index.Open(context.Background(), filepath.Join(t.TempDir(), "index.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		w, err := db.NewWriter(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { w.Close() })
		return db, w, func() int64 {
			st, err := db.Status(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			return st.Events
		}
	}},
	{"postgres", func(t *testing.T) (contractStore, contractWriter, func() int64) {
		db, _ := open(t)
		w, err := db.NewWriter(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { w.Close() })
		return db, w, func() int64 {
			st, err := db.Status(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			return st.Events
		}
	}},
}

const cDay = int64(20400) * 86400_000_000 // 2025-11-08

func cev(typ, id, rcpt string, at int64) maildiag.Event {
	return maildiag.Event{TimeUS: at, Type: typ, ID: id, SendingDomain: "mg.example.com", Recipient: rcpt,
		RecipientDomain: maildiag.DomainOf(rcpt), MessageID: "m-" + id + "@example.com", Raw: []byte(`{"id":"` + id + `"}`)}
}

// step is one call of a case: a batch of events (with how many are new),
// a synced range, a commit or a rollback.
type step struct {
	events  []maildiag.Event
	wantNew int
	rng     *maildiag.Range
	commit  bool
	abandon bool
}

var contractCases = []struct {
	name       string
	steps      []step
	wantEvents int64
	wantSpan   [2]int64 // first, last event time
	wantRanges []maildiag.Range
}{
	{
		name: "identity: type, id, recipient and UTC day",
		steps: []step{
			{events: []maildiag.Event{
				cev("delivered", "A", "x@acme.com", cDay+10),
				cev("delivered", "A", "x@acme.com", cDay+10),
				cev("delivered", "A", "x@acme.com", cDay+99),
				cev("accepted", "A", "x@acme.com", cDay+5),
				cev("delivered", "A", "y@acme.com", cDay+10),
				cev("delivered", "A", "x@acme.com", cDay+86400_000_000+5000),
			}, wantNew: 4},
			{commit: true},
			{events: []maildiag.Event{cev("delivered", "A", "x@acme.com", cDay+10)}, wantNew: 0},
			{commit: true},
		},
		wantEvents: 4,
		wantSpan:   [2]int64{cDay + 5, cDay + 86400_000_000 + 5000},
	},
	{
		name: "within a millisecond of midnight: the neighbouring day's event",
		steps: []step{
			{events: []maildiag.Event{
				cev("failed", "M", "x@acme.com", cDay-300),  // 23:59:59.9997 the day before
				cev("failed", "M", "x@acme.com", cDay),      // the same, in milliseconds
				cev("failed", "N", "x@acme.com", cDay+1500), // 1.5 ms after: another
				cev("failed", "N", "x@acme.com", cDay-1500), // 1.5 ms before: another
			}, wantNew: 3},
			{commit: true},
			{events: []maildiag.Event{cev("failed", "M", "x@acme.com", cDay+999)}, wantNew: 0},
			{events: []maildiag.Event{cev("failed", "P", "x@acme.com", cDay+500)}, wantNew: 1},
			{commit: true},
			{events: []maildiag.Event{cev("failed", "P", "x@acme.com", cDay-1)}, wantNew: 0},
			{commit: true},
		},
		wantEvents: 4,
		wantSpan:   [2]int64{cDay - 1500, cDay + 1500},
	},
	{
		name: "a rollback keeps nothing, events nor ranges",
		steps: []step{
			{events: []maildiag.Event{cev("delivered", "B", "x@acme.com", cDay)}, wantNew: 1},
			{rng: &maildiag.Range{FromUS: cDay, ToUS: cDay + 100}},
			{abandon: true},
			{events: []maildiag.Event{cev("failed", "C", "z@acme.com", cDay+7)}, wantNew: 1},
			{commit: true},
		},
		wantEvents: 1,
		wantSpan:   [2]int64{cDay + 7, cDay + 7},
	},
	{
		name: "ranges commit with their events and merge",
		steps: []step{
			{events: []maildiag.Event{cev("delivered", "D", "x@acme.com", cDay+50)}, wantNew: 1},
			{rng: &maildiag.Range{FromUS: cDay, ToUS: cDay + 100}},
			{rng: &maildiag.Range{FromUS: cDay + 100, ToUS: cDay + 200}},
			{rng: &maildiag.Range{FromUS: cDay + 300, ToUS: cDay + 400}},
			{commit: true},
		},
		wantEvents: 1,
		wantSpan:   [2]int64{cDay + 50, cDay + 50},
		wantRanges: []maildiag.Range{{FromUS: cDay, ToUS: cDay + 200}, {FromUS: cDay + 300, ToUS: cDay + 400}},
	},
	{
		name:  "an empty store",
		steps: []step{{commit: true}},
	},
}

func TestContract(t *testing.T) {
	ctx := context.Background()
	for _, c := range contractCases {
		for _, e := range engines {
			t.Run(e.name+"/"+c.name, func(t *testing.T) {
				st, w, events := e.open(t)
				for i, s := range c.steps {
					switch {
					case s.events != nil:
						n, err := w.AddEvents(ctx, s.events, 0)
						if err != nil {
							t.Fatalf("step %d: %v", i, err)
						}
						if n != s.wantNew {
							t.Errorf("step %d: %d new, want %d", i, n, s.wantNew)
						}
					case s.rng != nil:
						if err := w.AddSyncedRange(ctx, "mg.example.com", "events", *s.rng, cDay); err != nil {
							t.Fatalf("step %d: %v", i, err)
						}
					case s.commit:
						if err := w.Commit(ctx); err != nil {
							t.Fatalf("step %d: %v", i, err)
						}
					case s.abandon:
						w.Rollback()
					}
				}
				if got := events(); got != c.wantEvents {
					t.Errorf("status: %d events, want %d", got, c.wantEvents)
				}
				span, err := st.Span(ctx)
				if err != nil {
					t.Fatal(err)
				}
				var got [2]int64
				if !span.First.IsZero() {
					got = [2]int64{span.First.UnixMicro(), span.Last.UnixMicro()}
				}
				if got != c.wantSpan {
					t.Errorf("span %v, want %v", got, c.wantSpan)
				}
				rs, err := st.SyncedRanges(ctx, "mg.example.com", "events")
				if err != nil {
					t.Fatal(err)
				}
				if len(rs) != len(c.wantRanges) {
					t.Fatalf("ranges %v, want %v", rs, c.wantRanges)
				}
				for i := range rs {
					if rs[i] != c.wantRanges[i] {
						t.Errorf("ranges %v, want %v", rs, c.wantRanges)
					}
				}
				if err := w.SetMeta(ctx, "contract", "v1"); err != nil {
					t.Fatal(err)
				}
				if err := w.Commit(ctx); err != nil {
					t.Fatal(err)
				}
				if v, err := st.Meta(ctx, "contract"); err != nil || v != "v1" {
					t.Errorf("meta: %q, %v; want v1", v, err)
				}
			})
		}
	}
}
