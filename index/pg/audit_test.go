package pg_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/analyze"
	"github.com/maildiag/maildiag/index"
	"github.com/maildiag/maildiag/remedy"
)

// The remediation store (remedy.Writer and remedy.AuditLog) of both
// engines, held to the same results.

type remedyStore interface {
	remedy.AuditLog
	Suppressions(ctx context.Context, f analyze.SuppressionFilter) ([]analyze.ListEntry, error)
}

type remedyWriter interface {
	remedy.Writer
	Rollback()
}

var remedyEngines = []struct {
	name string
	open func(t *testing.T) (remedyStore, remedyWriter)
}{
	{"sqlite", func(t *testing.T) (remedyStore, remedyWriter) {
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
		return db, w
	}},
	{"postgres", func(t *testing.T) (remedyStore, remedyWriter) {
		db, _ := open(t)
		w, err := db.NewWriter(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { w.Close() })
		return db, w
	}},
}

var auditT0 = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

func auditAt(d time.Duration) int64 { return auditT0.Add(d).UnixMicro() }

func auditEntry(action, result, addr string, atUS int64) *maildiag.AuditEntry {
	return &maildiag.AuditEntry{AtUS: atUS, Run: "run-1", User: "alice", Action: action, Command: "maildiag suppressions remove acme.com --yes",
		Pattern: "*@acme.com", Address: addr, List: maildiag.ListBounces, SendingDomain: "mg.example.com", Result: result}
}

func TestAuditCommitsWithRemoval(t *testing.T) {
	ctx := context.Background()
	for _, e := range remedyEngines {
		t.Run(e.name, func(t *testing.T) {
			db, w := e.open(t)
			s := maildiag.Suppression{SendingDomain: "mg.example.com", List: maildiag.ListBounces, Address: "a@acme.com", Code: "550", CreatedUS: auditAt(-time.Hour)}
			other := s
			other.Address = "b@acme.com"
			if _, err := w.AddSuppressions(ctx, []maildiag.Suppression{s, other}, 0, auditAt(0)); err != nil {
				t.Fatal(err)
			}
			if err := w.Commit(ctx); err != nil {
				t.Fatal(err)
			}

			// Rolled back: neither the audit row nor the removal stays.
			if err := w.MarkSuppressionRemoved(ctx, s.SendingDomain, s.List, s.Address, auditAt(time.Minute)); err != nil {
				t.Fatal(err)
			}
			if err := w.AddAudit(ctx, auditEntry(maildiag.AuditRemove, maildiag.AuditRemoved, s.Address, auditAt(time.Minute))); err != nil {
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

			// Committed: both; the other entry stays.
			ent := auditEntry(maildiag.AuditRemove, maildiag.AuditRemoved, s.Address, auditAt(2*time.Minute))
			ent.BackupFile, ent.Filters = "/b/mg.example.com_bounces_20261120T120200Z.csv", `{"lists":["bounces"]}`
			if err := w.MarkSuppressionRemoved(ctx, s.SendingDomain, s.List, s.Address, auditAt(2*time.Minute)); err != nil {
				t.Fatal(err)
			}
			// A sending domain the index never saw marks nothing.
			if err := w.MarkSuppressionRemoved(ctx, "mg.unknown.com", s.List, s.Address, auditAt(2*time.Minute)); err != nil {
				t.Fatal(err)
			}
			if err := w.AddAudit(ctx, ent); err != nil {
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
			if g.ID == 0 || g.ID != ent.ID || g.User != "alice" || g.Address != "a@acme.com" || g.BackupFile != ent.BackupFile || g.Filters != ent.Filters ||
				g.Result != maildiag.AuditRemoved || g.AtUS != auditAt(2*time.Minute) || g.Pattern != "*@acme.com" || g.Command != ent.Command {
				t.Errorf("audit row %+v does not match what was written %+v", g, ent)
			}
			rows, _ = db.Suppressions(ctx, analyze.SuppressionFilter{})
			if len(rows) != 2 || rows[0].Removed.UnixMicro() != auditAt(2*time.Minute) || !rows[1].Removed.IsZero() {
				t.Errorf("removed at %v and %v, want %d and none", rows[0].Removed, rows[1].Removed, auditAt(2*time.Minute))
			}

			// Restored (stored again): no longer removed.
			if _, err := w.AddSuppressions(ctx, []maildiag.Suppression{s}, 0, auditAt(3*time.Minute)); err != nil {
				t.Fatal(err)
			}
			if err := w.Commit(ctx); err != nil {
				t.Fatal(err)
			}
			rows, _ = db.Suppressions(ctx, analyze.SuppressionFilter{})
			if !rows[0].Removed.IsZero() {
				t.Errorf("restored entry still removed at %v", rows[0].Removed)
			}
		})
	}
}

func TestAuditFilter(t *testing.T) {
	ctx := context.Background()
	for _, eng := range remedyEngines {
		t.Run(eng.name, func(t *testing.T) {
			db, w := eng.open(t)
			for i, e := range []*maildiag.AuditEntry{
				auditEntry(maildiag.AuditRemove, maildiag.AuditDryRun, "a@acme.com", auditAt(0)),
				auditEntry(maildiag.AuditRemove, maildiag.AuditRemoved, "a@acme.com", auditAt(time.Hour)),
				auditEntry(maildiag.AuditRemove, maildiag.AuditFailed, "b@acme.com", auditAt(time.Hour)),
				auditEntry(maildiag.AuditRestore, maildiag.AuditRestored, "a@acme.com", auditAt(2*time.Hour)),
				{AtUS: auditAt(3 * time.Hour), Run: "run-2", User: "bob", Action: maildiag.AuditResend, Command: "maildiag resend x",
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
				{maildiag.AuditFilter{SinceUS: auditAt(time.Hour)}, "a@acme.com:removed b@acme.com:failed a@acme.com:restored new@acme.com:sent"},
				{maildiag.AuditFilter{Actions: []string{maildiag.AuditRemove}}, "a@acme.com:dry-run a@acme.com:removed b@acme.com:failed"},
				{maildiag.AuditFilter{Actions: []string{maildiag.AuditRemove}, Results: []string{maildiag.AuditRemoved, maildiag.AuditNotFound}}, "a@acme.com:removed"},
				{maildiag.AuditFilter{Actions: []string{maildiag.AuditResend, maildiag.AuditRestore}}, "a@acme.com:restored new@acme.com:sent"},
				{maildiag.AuditFilter{SinceUS: auditAt(4 * time.Hour)}, ""},
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
			if r := got[0]; r.ApprovedBy != "Carol" || r.OriginalTo != "old@acme.com" || r.Detail != "n@x" || r.User != "bob" || r.MessageID != "m@x" {
				t.Errorf("resend row %+v lost fields", r)
			}
		})
	}
}

func TestAuditRequiresWho(t *testing.T) {
	for _, eng := range remedyEngines {
		t.Run(eng.name, func(t *testing.T) {
			_, w := eng.open(t)
			e := auditEntry(maildiag.AuditRemove, maildiag.AuditRemoved, "a@acme.com", auditAt(0))
			e.User = ""
			if err := w.AddAudit(context.Background(), e); err == nil {
				t.Error("an audit entry without a user was accepted")
			}
		})
	}
}

// A text PostgreSQL's text cannot hold as is (a NUL byte, invalid UTF-8,
// as an error quoting a server's reply may carry) is still recorded.
func TestAuditOddText(t *testing.T) {
	ctx := context.Background()
	db, _ := open(t)
	w, err := db.NewWriter(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	e := auditEntry(maildiag.AuditRemove, maildiag.AuditFailed, "a@acme.com", auditAt(0))
	e.Error = "bad\x00reply \xff"
	if err := w.AddAudit(ctx, e); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := db.Audit(ctx, maildiag.AuditFilter{})
	if err != nil || len(got) != 1 || got[0].Error != `bad\x00reply \xff` {
		t.Fatalf("got %+v, %v", got, err)
	}
}
