package index

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/analyze"
)

func auditEntry(action, result, addr string, atUS int64) *maildiag.AuditEntry {
	return &maildiag.AuditEntry{AtUS: atUS, Run: "run-1", User: "alice", Action: action, Command: "maildiag suppressions remove acme.com --yes",
		Pattern: "*@acme.com", Address: addr, List: maildiag.ListBounces, SendingDomain: "mg.example.com", Result: result}
}

func TestAuditCommitsWithRemoval(t *testing.T) {
	ctx := context.Background()
	db, _ := mustOpen(t)
	w := mustWriter(t, db)
	s := maildiag.Suppression{SendingDomain: "mg.example.com", List: maildiag.ListBounces, Address: "a@acme.com", Code: "550", CreatedUS: at(-time.Hour)}
	if _, err := w.AddSuppressions(ctx, []maildiag.Suppression{s}, 0, at(0)); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}

	// Rolled back: neither the audit row nor the removal stays.
	if err := w.MarkSuppressionRemoved(ctx, s.SendingDomain, s.List, s.Address, at(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := w.AddAudit(ctx, auditEntry(maildiag.AuditRemove, maildiag.AuditRemoved, s.Address, at(time.Minute))); err != nil {
		t.Fatal(err)
	}
	w.Rollback()
	got, err := db.Audit(ctx, maildiag.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := db.Suppressions(ctx, analyze.SuppressionFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 || !rows[0].Removed.IsZero() {
		t.Fatalf("after rollback: %d audit rows, removed at %v; want none", len(got), rows[0].Removed)
	}

	// Committed: both.
	e := auditEntry(maildiag.AuditRemove, maildiag.AuditRemoved, s.Address, at(2*time.Minute))
	e.BackupFile, e.Filters = "/b/mg.example.com_bounces_20261120T120200Z.csv", `{"lists":["bounces"]}`
	if err := w.MarkSuppressionRemoved(ctx, s.SendingDomain, s.List, s.Address, at(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := w.AddAudit(ctx, e); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	got, err = db.Audit(ctx, maildiag.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("got %d audit rows, want 1", len(got))
	}
	g := got[0]
	if g.ID != e.ID || g.User != "alice" || g.Address != "a@acme.com" || g.BackupFile != e.BackupFile || g.Filters != e.Filters ||
		g.Result != maildiag.AuditRemoved || g.AtUS != at(2*time.Minute) || g.Pattern != "*@acme.com" {
		t.Errorf("audit row %+v does not match what was written %+v", g, e)
	}
	rows, _ = db.Suppressions(ctx, analyze.SuppressionFilter{})
	if rows[0].Removed.UnixMicro() != at(2*time.Minute) {
		t.Errorf("removed at %v, want %d", rows[0].Removed, at(2*time.Minute))
	}
}

func TestAuditFilter(t *testing.T) {
	ctx := context.Background()
	db, _ := mustOpen(t)
	w := mustWriter(t, db)
	for i, e := range []*maildiag.AuditEntry{
		auditEntry(maildiag.AuditRemove, maildiag.AuditDryRun, "a@acme.com", at(0)),
		auditEntry(maildiag.AuditRemove, maildiag.AuditRemoved, "a@acme.com", at(time.Hour)),
		auditEntry(maildiag.AuditRemove, maildiag.AuditFailed, "b@acme.com", at(time.Hour)),
		auditEntry(maildiag.AuditRestore, maildiag.AuditRestored, "a@acme.com", at(2*time.Hour)),
		{AtUS: at(3 * time.Hour), Run: "run-2", User: "bob", Action: maildiag.AuditResend, Command: "maildiag resend x",
			MessageID: "m@x", Address: "new@acme.com", OriginalTo: "old@acme.com", ApprovedBy: "Carol", Result: maildiag.AuditSent, Detail: "n@x"},
	} {
		if err := w.AddAudit(ctx, e); err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
	}
	if err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		f    maildiag.AuditFilter
		want string
	}{
		{maildiag.AuditFilter{}, "a@acme.com:dry-run a@acme.com:removed b@acme.com:failed a@acme.com:restored new@acme.com:sent"},
		{maildiag.AuditFilter{SinceUS: at(time.Hour)}, "a@acme.com:removed b@acme.com:failed a@acme.com:restored new@acme.com:sent"},
		{maildiag.AuditFilter{Actions: []string{maildiag.AuditRemove}}, "a@acme.com:dry-run a@acme.com:removed b@acme.com:failed"},
		{maildiag.AuditFilter{Actions: []string{maildiag.AuditRemove}, Results: []string{maildiag.AuditRemoved, maildiag.AuditNotFound}}, "a@acme.com:removed"},
		{maildiag.AuditFilter{Actions: []string{maildiag.AuditResend, maildiag.AuditRestore}}, "a@acme.com:restored new@acme.com:sent"},
		{maildiag.AuditFilter{SinceUS: at(4 * time.Hour)}, ""},
	} {
		got, err := db.Audit(ctx, c.f)
		if err != nil {
			t.Fatal(err)
		}
		var parts []string
		for _, e := range got {
			parts = append(parts, e.Address+":"+e.Result)
		}
		if s := strings.Join(parts, " "); s != c.want {
			t.Errorf("filter %+v: got %q, want %q", c.f, s, c.want)
		}
	}
	got, _ := db.Audit(ctx, maildiag.AuditFilter{Actions: []string{maildiag.AuditResend}})
	if r := got[0]; r.ApprovedBy != "Carol" || r.OriginalTo != "old@acme.com" || r.Detail != "n@x" || r.User != "bob" {
		t.Errorf("resend row %+v lost fields", r)
	}
}

func TestAuditRequiresWho(t *testing.T) {
	db, _ := mustOpen(t)
	w := mustWriter(t, db)
	e := auditEntry(maildiag.AuditRemove, maildiag.AuditRemoved, "a@acme.com", at(0))
	e.User = ""
	if err := w.AddAudit(context.Background(), e); err == nil {
		t.Error("an audit entry without a user was accepted")
	}
}

// An index made before the audit table gets it from the first writing
// open; until then read-only opens ask for the upgrade.
func TestAuditMigrationUpgradesOldIndex(t *testing.T) {
	ctx := context.Background()
	db, path := mustOpen(t)
	// Back to version 1: what later migrations added goes too.
	for _, q := range []string{`DROP VIEW recipients`, `DROP VIEW recipient_keys`, `DROP VIEW events_full`, `DROP VIEW failures_full`,
		`DROP TABLE recipients_recent`, `DROP TABLE recipient_keys_recent`, `ALTER TABLE recipient_keys_base DROP COLUMN hash2`,
		`ALTER TABLE recipients_base RENAME TO recipients`, `ALTER TABLE recipient_keys_base RENAME TO recipient_keys`, `DROP TABLE audit`, `DROP TABLE texts`, `DROP TABLE text_keys`, `DROP TABLE kept_messages`,
		`ALTER TABLE events DROP COLUMN subject_id`, `ALTER TABLE events DROP COLUMN from_id`, `ALTER TABLE events DROP COLUMN ip_id`,
		`ALTER TABLE events DROP COLUMN tags_id`, `ALTER TABLE events DROP COLUMN route_id`, `DROP TABLE split_counts`, `ALTER TABLE failures DROP COLUMN tags_id`,
		`DELETE FROM schema_migrations WHERE version >= 2`} {
		if _, err := db.sql.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	if _, err := OpenReadOnly(ctx, path); err == nil || !strings.Contains(err.Error(), "run any writing command") {
		t.Fatalf("read-only open of a version 1 index: %v, want the upgrade hint", err)
	}
	db2, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	if _, err := db2.Audit(ctx, maildiag.AuditFilter{}); err != nil {
		t.Errorf("audit table after the upgrade: %v", err)
	}
	var v int
	if err := db2.sql.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&v); err != nil || v != SchemaVersion() || v < 2 {
		t.Errorf("schema version %d (%v), want %d", v, err, SchemaVersion())
	}
}
