package mgtest

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/maildiag/maildiag/index"
	"github.com/maildiag/maildiag/ingest"
	"github.com/maildiag/maildiag/mgserver"
)

// EventKey is an event's identity in the index, which keeps a hash of
// the event's type and id.
type EventKey struct {
	Domain    string
	Day       int64
	Recipient string
	Type      string
	IDHash    int64
}

// EventKeys normalises the server's events that keep accepts (nil: all),
// counting each identity.
func (s *Server) EventKeys(t testing.TB, keep func(*mgserver.Event) bool) map[EventKey]int {
	t.Helper()
	var out []EventKey
	var ids []string
	for _, d := range s.Acct.Domains() {
		for _, se := range s.Acct.Events(d) {
			if keep != nil && !keep(&se) {
				continue
			}
			ev, err := ingest.ParseEvent(se.EventsJSON)
			if err != nil {
				t.Fatalf("server event %s: %v", se.ID, err)
			}
			if ev.SendingDomain == "" {
				ev.SendingDomain = d // as sync names it: the domain it reads (list events name none)
			}
			out = append(out, EventKey{ev.SendingDomain, ev.TimeUS / (86400 * 1_000_000), ev.Recipient, ev.Type, 0})
			ids = append(ids, ev.ID)
		}
	}
	return s.hashIDs(t, out, ids)
}

// hashIDs fills in each key's IDHash as the index computes it, with its
// own SQL function event_hash, on an empty index of the server's.
func (s *Server) hashIDs(t testing.TB, keys []EventKey, ids []string) map[EventKey]int {
	t.Helper()
	if s.hashIndex == "" {
		s.hashIndex = filepath.Join(t.TempDir(), "hash.db")
		db, err := index.Open(context.Background(), s.hashIndex)
		if err != nil {
			t.Fatal(err)
		}
		db.Close()
	}
	db, err := index.OpenReadOnly(context.Background(), s.hashIndex)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	out := make(map[EventKey]int, len(keys))
	for len(keys) > 0 {
		n := min(len(keys), 400)
		cols := make([]string, n)
		var args []any
		for i := range n {
			cols[i] = "event_hash(?, ?)"
			args = append(args, keys[i].Type, ids[i])
		}
		rows, err := db.Query(context.Background(), "SELECT "+strings.Join(cols, ", "), args...)
		if err != nil {
			t.Fatal(err)
		}
		r, err := rows.Next()
		rows.Close()
		if err != nil || r == nil {
			t.Fatalf("hash event ids: %v", err)
		}
		for i := range n {
			k := keys[i]
			k.IDHash = r[i].(int64)
			out[k]++
		}
		keys, ids = keys[n:], ids[n:]
	}
	return out
}

// IndexKeys returns the identities of the events in the index at path
// and the number of rows.
func IndexKeys(t testing.TB, path string) (map[EventKey]int, int) {
	t.Helper()
	db, err := index.OpenReadOnly(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	out := map[EventKey]int{}
	rows := Query(t, db, `SELECT sending_domain, day, COALESCE(recipient, ''), type, id_hash FROM events_full`)
	for _, r := range rows {
		s := func(v any) string { x, _ := v.(string); return x }
		out[EventKey{s(r[0]), r[1].(int64), s(r[2]), s(r[3]), r[4].(int64)}]++
	}
	return out, len(rows)
}

// Query runs a read-only query on an index and returns its rows.
func Query(t testing.TB, db *index.DB, q string) [][]any {
	t.Helper()
	rows, err := db.Query(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out [][]any
	for {
		r, err := rows.Next()
		if err != nil {
			t.Fatal(err)
		}
		if r == nil {
			return out
		}
		out = append(out, r)
	}
}

// OpenIndex opens (or creates) the index at path and its writer, both
// closed when the test ends.
func OpenIndex(t testing.TB, path string) (*index.DB, *index.Writer) {
	t.Helper()
	db, err := index.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	w, err := db.NewWriter(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return db, w
}

// SameEvents fails unless the index holds exactly want, each event once.
func SameEvents(t testing.TB, what, path string, want map[EventKey]int) {
	t.Helper()
	got, rows := IndexKeys(t, path)
	missing, extra, twice := 0, 0, 0
	for k, n := range want {
		if n > 1 {
			t.Fatalf("the server has event %v %d times", k, n)
		}
		if got[k] == 0 {
			missing++
		}
	}
	for k, n := range got {
		if want[k] == 0 {
			extra++
		}
		if n > 1 {
			twice++
		}
	}
	if missing > 0 || extra > 0 || twice > 0 || rows != len(want) {
		t.Fatalf("%s: index has %d rows, server %d events: %d missing, %d not on the server, %d stored twice",
			what, rows, len(want), missing, extra, twice)
	}
}
