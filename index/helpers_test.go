package index

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/maildiag/maildiag"
)

// mustOpen opens a new index in a temporary directory.
func mustOpen(t testing.TB) (*DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "index.db")
	db, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, path
}

func mustWriter(t testing.TB, db *DB) *Writer {
	t.Helper()
	w, err := db.NewWriter(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

// at is a fixed test time plus an offset.
func at(offset time.Duration) int64 {
	return time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC).Add(offset).UnixMicro()
}

// ev builds an event the way ingest would leave it.
func ev(typ, id, rcpt string, ts int64) maildiag.Event {
	e := maildiag.Event{Type: typ, ID: id, Recipient: rcpt, RecipientDomain: maildiag.DomainOf(rcpt),
		SendingDomain: "mg.example.com", TimeUS: ts, MessageID: "msg-" + rcpt + "@mg.example.com"}
	e.Raw = []byte(fmt.Sprintf(`{"event":%q,"id":%q,"recipient":%q,"timestamp":%d.%06d}`, typ, id, rcpt, ts/1e6, ts%1e6))
	if typ == maildiag.Failed {
		e.Severity, e.Reason, e.Code, e.EnhancedCode, e.Reply = "permanent", "bounce", 550, "5.1.1", "5.1.1 no such user"
		e.Class, e.Rule, e.MXHost, e.Gateway = maildiag.ClassUserUnknown, "test", "mx.example.net", "Example"
	}
	if typ == maildiag.Delivered {
		e.Code, e.MXHost, e.Gateway = 250, "mx.example.net", "Example"
	}
	return e
}

// withSubject is e with subject s.
func withSubject(e maildiag.Event, s string) maildiag.Event {
	e.Subject = s
	return e
}

func add(t testing.TB, w *Writer, evs ...maildiag.Event) int {
	t.Helper()
	n, err := w.AddEvents(context.Background(), evs, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	return n
}

func count(t testing.TB, db *DB, q string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := db.sql.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func itoa(i int) string { return fmt.Sprint(i) }

func padding(i int) string {
	b := make([]byte, 200+i%300)
	for j := range b {
		b[j] = 'a' + byte((i*7+j*13)%26)
	}
	return string(b)
}

func fmtList(s []string) string { return fmt.Sprint(s) }

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}
