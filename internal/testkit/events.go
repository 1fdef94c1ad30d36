package testkit

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
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

// EventKeys normalises the events of an account served by mgserver that
// keep accepts (nil: all), counting each identity.
func EventKeys(t testing.TB, acct *mgserver.Account, keep func(*mgserver.Event) bool) map[EventKey]int {
	t.Helper()
	var out []EventKey
	var ids []string
	for _, d := range acct.Domains() {
		for _, se := range acct.Events(d) {
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
	return hashIDs(t, out, ids)
}

// hashIndexes are the empty indexes of the tests that hashed event ids,
// each made once per test and forgotten when it ends.
var hashIndexes sync.Map // testing.TB -> path

// hashIDs fills in each key's IDHash as the index computes it, with its
// own SQL function event_hash, on an empty index of the test's.
func hashIDs(t testing.TB, keys []EventKey, ids []string) map[EventKey]int {
	t.Helper()
	path, ok := hashIndexes.Load(t)
	if !ok {
		p := filepath.Join(t.TempDir(), "hash.db")
		db, err := index.Open(context.Background(), p)
		if err != nil {
			t.Fatal(err)
		}
		db.Close()
		path, _ = hashIndexes.LoadOrStore(t, p)
		t.Cleanup(func() { hashIndexes.Delete(t) })
	}
	db, err := index.OpenReadOnly(context.Background(), path.(string))
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
