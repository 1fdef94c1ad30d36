package index

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// bulkTables are the tables the writer fills with multi-row INSERT OR FAIL
// statements. Each must be WITHOUT ROWID: an INTEGER PRIMARY KEY makes
// SQLite keep a statement journal of every page such a statement changes
// (rowbatch.go).
var bulkTables = []string{
	"events", "failures", "failure_texts", "messages",
	"recipients_base", "recipients_recent", "recipient_keys_base", "recipient_keys_recent",
	"texts", "text_keys",
}

func TestBulkTablesWithoutRowid(t *testing.T) {
	db, _ := mustOpen(t)
	for _, name := range bulkTables {
		var ddl string
		if err := db.sql.QueryRow(`SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?`, name).Scan(&ddl); err != nil {
			t.Fatalf("table %s: %v", name, err)
		}
		if !strings.Contains(ddl, "WITHOUT ROWID") {
			t.Errorf("table %s has a rowid:\n%s", name, ddl)
		}
	}
}

// An index at schema 11 keeps its addresses and texts through 0012, and
// the views that read them still do.
func TestMigrate0012KeepsRows(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	if err := create(path); err != nil {
		t.Fatal(err)
	}
	register()
	old, err := sql.Open(driverNameRW, "file:"+pathURI(path)+"?_foreign_keys=0")
	if err != nil {
		t.Fatal(err)
	}
	old.SetMaxOpenConns(1)
	mustExec := func(q string, args ...any) {
		t.Helper()
		if _, err := old.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", firstLine(q), err)
		}
	}
	mustExec(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`)
	for _, m := range mustMigrations(t) {
		if m.version >= 12 {
			break
		}
		mustExec(m.sql)
		mustExec(`INSERT INTO schema_migrations VALUES (?, ?, ?)`, m.version, m.name, time.Now().UnixMicro())
	}
	const acme = 7
	mustExec(`INSERT INTO domains(id, name, rname) VALUES (?, 'acme.com', 'moc.emca')`, acme)
	mustExec(`INSERT INTO recipients_base(id, address) VALUES (?, 'ann@acme.com')`, acme<<32|1)
	mustExec(`INSERT INTO recipients_recent(id, address) VALUES (?, 'bob@acme.com')`, acme<<32|2)
	mustExec(`INSERT INTO texts(id, kind, text) VALUES (3, 1, 'Your password reset')`)
	mustExec(`INSERT INTO event_types(id, name) VALUES (1, 'delivered') ON CONFLICT DO NOTHING`)
	mustExec(`INSERT INTO events(day, recipient_id, id_hash, ts, type_id, sending_domain_id, message_key, seq, subject_id)
		VALUES (20000, ?, 5, 1728000000000000, 1, 0, 0, 1, 3)`, acme<<32|2)
	old.Close()

	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, name := range []string{"recipients_base", "recipients_recent", "texts"} {
		var ddl string
		if err := db.sql.QueryRow(`SELECT sql FROM sqlite_master WHERE name = ?`, name).Scan(&ddl); err != nil || !strings.Contains(ddl, "WITHOUT ROWID") {
			t.Errorf("%s after 0012: %v\n%s", name, err, ddl)
		}
	}
	var addrs, recipient, subject string
	if err := db.sql.QueryRow(`SELECT group_concat(address, ',') FROM (SELECT address FROM recipients ORDER BY id)`).Scan(&addrs); err != nil || addrs != "ann@acme.com,bob@acme.com" {
		t.Errorf("recipients after 0012: %q, %v; want ann@acme.com,bob@acme.com", addrs, err)
	}
	if err := db.sql.QueryRow(`SELECT e.recipient, t.text FROM events_full e JOIN events x USING (day, recipient_id, id_hash)
		JOIN texts t ON t.id = x.subject_id`).Scan(&recipient, &subject); err != nil || recipient != "bob@acme.com" || subject != "Your password reset" {
		t.Errorf("events_full after 0012: %q, %q, %v; want bob@acme.com, Your password reset", recipient, subject, err)
	}
	var legacy int
	if err := db.sql.QueryRow(`PRAGMA legacy_alter_table`).Scan(&legacy); err != nil || legacy != 0 {
		t.Errorf("legacy_alter_table after 0012: %d, %v; want 0", legacy, err)
	}
}
