package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/maildiag/maildiag/index/pg"
	"github.com/maildiag/maildiag/internal/mgtest"
	"github.com/maildiag/maildiag/internal/pgtest"
	"github.com/maildiag/maildiag/remedy"
)

// The commands that act on the Mailgun account (suppressions remove and
// restore, resend), audit and reclassify give the same results on
// PostgreSQL as on SQLite: the same account served twice (one server per
// engine, as a removal changes it), synced into each engine by the built
// binary, the same commands run on both, their exit status and JSON
// compared once the server's address, the backup directory and the run
// ids are put aside.

// actSide is one engine's index and the server it syncs from.
type actSide struct {
	srv *mgtest.Server
	db  string // a SQLite file or a postgres:// URL
	dir string // its own directory, for backups

	outputs []string // everything it printed, for the key check
}

func newActSide(t *testing.T, db string) *actSide {
	t.Helper()
	a := &actSide{srv: mgtest.NewStories(t), db: db, dir: t.TempDir()}
	if r := a.run(t, append([]string{"sync"}, a.api()...)...); r.code != 0 {
		t.Fatalf("sync into %s: exit %d: %s", a.name(), r.code, r.err)
	}
	return a
}

func (a *actSide) name() string {
	if strings.HasPrefix(a.db, "postgres") {
		return "PostgreSQL"
	}
	return "SQLite"
}

func (a *actSide) api() []string {
	return []string{"--api-base", a.srv.URL, "--api-key", mgtest.Key, "--retry-delay", "5ms"}
}

type actResult struct {
	code     int
	out, err string
}

// run runs the binary on the side's index with the clock at the account's
// end and JSON output.
func (a *actSide) run(t *testing.T, args ...string) actResult {
	t.Helper()
	argv := append([]string{"--db", a.db, "--now", a.srv.Res.End.Format(time.RFC3339), "--output", "json"}, args...)
	code, out, errs := runBinaryCode(t, argv...)
	a.outputs = append(a.outputs, out, errs)
	noSecret(t, strings.Join(args, " "), out, errs)
	return actResult{code, a.norm(out), a.norm(errs)}
}

var runIDRE = regexp.MustCompile(`"run": ?"[0-9a-f]{16}"`)

// norm puts aside what differs between the sides by construction.
func (a *actSide) norm(s string) string {
	s = strings.ReplaceAll(s, a.srv.URL, "http://MAILGUN")
	s = strings.ReplaceAll(s, a.dir, "/DIR")
	for _, db := range []string{shellQuote(pg.Redact(a.db)), pg.Redact(a.db), shellQuote(a.db), a.db} {
		s = strings.ReplaceAll(s, db, "INDEX")
	}
	return runIDRE.ReplaceAllString(s, `"run": "RUN"`)
}

// actAgree runs the same command on both sides and fails when their exit
// status or output differ; args may hold DIR, replaced by the side's
// directory. It returns SQLite's result.
func actAgree(t *testing.T, lite, pgs *actSide, wantCode int, args ...string) actResult {
	t.Helper()
	on := func(a *actSide) actResult {
		argv := make([]string, len(args))
		for i, x := range args {
			argv[i] = strings.ReplaceAll(x, "DIR", a.dir)
		}
		return a.run(t, argv...)
	}
	a, b := on(lite), on(pgs)
	what := strings.Join(args, " ")
	if a.code != wantCode || b.code != wantCode {
		t.Errorf("%s: exit %d on SQLite, %d on PostgreSQL, want %d:\n SQLite: %s\n PostgreSQL: %s", what, a.code, b.code, wantCode, a.err, b.err)
	}
	if a.out != b.out {
		al, bl := strings.Split(a.out, "\n"), strings.Split(b.out, "\n")
		for i := range min(len(al), len(bl)) {
			if al[i] != bl[i] {
				t.Errorf("%s: the engines differ at line %d:\n SQLite:     %.400s\n PostgreSQL: %.400s", what, i+1, al[i], bl[i])
				break
			}
		}
		if len(al) != len(bl) {
			t.Errorf("%s: %d lines on SQLite, %d on PostgreSQL", what, len(al), len(bl))
		}
	}
	if a.err != b.err {
		t.Errorf("%s: stderr differs:\n SQLite:     %.600s\n PostgreSQL: %.600s", what, a.err, b.err)
	}
	return a
}

func TestEnginesAgreeOnRemediation(t *testing.T) {
	lite := newActSide(t, filepath.Join(t.TempDir(), "index.db"))
	pgs := newActSide(t, pgIndex(t))
	api := func(args ...string) []string {
		return append(args, "--api-base", "MAILGUN", "--api-key", mgtest.Key, "--retry-delay", "5ms")
	}
	// api, with each side's server.
	agreeAPI := func(code int, args ...string) actResult {
		t.Helper()
		for _, a := range []*actSide{lite, pgs} {
			a.srv.Forget()
		}
		argv := api(args...)
		res := [2]actResult{}
		for i, a := range []*actSide{lite, pgs} {
			x := make([]string, len(argv))
			for j, s := range argv {
				x[j] = strings.ReplaceAll(strings.ReplaceAll(s, "MAILGUN", a.srv.URL), "DIR", a.dir)
			}
			res[i] = a.run(t, x...)
		}
		what := strings.Join(args, " ")
		if res[0].code != code || res[1].code != code {
			t.Errorf("%s: exit %d on SQLite, %d on PostgreSQL, want %d:\n SQLite: %s\n PostgreSQL: %s", what, res[0].code, res[1].code, code, res[0].err, res[1].err)
		}
		if res[0].out != res[1].out {
			t.Errorf("%s: the engines' output differs:\n SQLite:     %.1500s\n PostgreSQL: %.1500s", what, res[0].out, res[1].out)
		}
		if res[0].err != res[1].err {
			t.Errorf("%s: stderr differs:\n SQLite:     %.800s\n PostgreSQL: %.800s", what, res[0].err, res[1].err)
		}
		if lite.srv.Requests(http.MethodDelete) != pgs.srv.Requests(http.MethodDelete) {
			t.Errorf("%s: %d DELETEs from SQLite's run, %d from PostgreSQL's", what, lite.srv.Requests(http.MethodDelete), pgs.srv.Requests(http.MethodDelete))
		}
		return res[0]
	}
	block := len(lite.srv.Block().Addresses)

	// A dry run, then the removal, then what suppressed says of it.
	actAgree(t, lite, pgs, 0, "suppressions", "remove", "*@acme.com", "--class", "policy-block", "--backup-dir", "DIR/backups")
	r := agreeAPI(0, "suppressions", "remove", "*@acme.com", "--class", "policy-block", "--yes", "--backup-dir", "DIR/backups")
	var rm remedy.RemoveResult
	if err := json.Unmarshal([]byte(r.out), &rm); err != nil || rm.Removed != block || len(rm.Backups) != 1 {
		t.Fatalf("remove --yes: %+v (%v); want the block's %d removed, one backup", rm, err, block)
	}
	if d := lite.srv.Lists().Diff(pgs.srv.Lists()); d != "" {
		t.Errorf("the two servers' lists differ after the removals:\n%s", d)
	}
	actAgree(t, lite, pgs, 0, "suppressed", "*@acme.com", "--with-removed")
	actAgree(t, lite, pgs, 1, "suppressions", "remove", "*@acme.com", "--class", "policy-block", "--backup-dir", "DIR/backups")

	// Restored from the backup: listed again, at Mailgun and in the index.
	agreeAPI(0, "suppressions", "restore", strings.Replace(rm.Backups[0].File, "/DIR", "DIR", 1))
	if d := lite.srv.Lists().Diff(pgs.srv.Lists()); d != "" {
		t.Errorf("the two servers' lists differ after the restore:\n%s", d)
	}
	actAgree(t, lite, pgs, 0, "suppressed", "*@acme.com", "--with-removed")

	// Resend: a dry run, the send, a refusal, an unknown id.
	m := lite.srv.FindMessage(t, 2*time.Hour, 48*time.Hour)
	if pm := pgs.srv.FindMessage(t, 2*time.Hour, 48*time.Hour); pm != m {
		t.Fatalf("the two servers' accounts differ: %+v and %+v", m, pm)
	}
	agreeAPI(0, "resend", m.ID)
	agreeAPI(0, "resend", m.ID, "--yes")
	agreeAPI(2, "resend", m.ID, "--to", "jane.doe@elsewhere.example")
	agreeAPI(1, "resend", "no-such-event-id")
	if len(lite.srv.Acct.Sends()) != 1 || len(pgs.srv.Acct.Sends()) != 1 {
		t.Errorf("%d and %d sends, want one each", len(lite.srv.Acct.Sends()), len(pgs.srv.Acct.Sends()))
	}

	// The audit of all of it, whole and filtered.
	a := actAgree(t, lite, pgs, 0, "audit")
	var rows []map[string]any
	if err := json.Unmarshal([]byte(a.out), &rows); err != nil || len(rows) != 3*block+2 {
		t.Errorf("audit: %d rows (%v), want %d (dry runs, removals, restores, the resend and the refusal)", len(rows), err, 3*block+2)
	}
	actAgree(t, lite, pgs, 0, "audit", "--action", "resend,restore")
	actAgree(t, lite, pgs, 1, "audit", "--since", "2099-01-01")
	for _, x := range []*actSide{lite, pgs} {
		mgtest.CheckNoKey(t, x.dir, x.outputs...)
	}
	if n := pgInt(t, pgs.db, `SELECT COUNT(*) FROM audit WHERE concat_ws(' ', command, pattern, filters, error, detail) LIKE '%' || $1 || '%'`, mgtest.Key); n != 0 {
		t.Errorf("the API key is in %d audit rows on PostgreSQL", n)
	}
}

// sqliteExec runs statements on a SQLite index.
func sqliteExec(t *testing.T, path string, qs ...string) {
	t.Helper()
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range qs {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// pgInt runs a one-value query on a PostgreSQL index with arguments.
func pgInt(t *testing.T, u, q string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := pgtest.Conn(t, u).QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// Reclassify on PostgreSQL rewrites the stored failures' classes, rules and
// gateways as on SQLite: after classes from "older rules", both engines
// re-derive the same number, and every command reading classes answers as
// before.
func TestEnginesAgreeOnReclassify(t *testing.T) {
	lite, pgURL := importBoth(t, []string{samples + "/events.jsonl", samples + "/webhooks.jsonl"}, nil)
	now := time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC)
	reads := [][]string{
		{"failures", "--since", "3650d", "--by", "class"},
		{"failures", "--since", "3650d", "--by", "gateway,code"},
		{"events", "--event", "failed", "--limit", "0"},
	}
	before := make([]string, len(reads))
	for i, args := range reads {
		before[i] = agree(t, lite, pgURL, now, args...)
	}
	if !strings.Contains(before[0], `"class"`) {
		t.Fatalf("no failure classes in the samples: %s", before[0])
	}
	// Classes from older rules.
	sqliteExec(t, lite, "UPDATE failures SET class = 'other', rule = 'old', gateway = NULL", "UPDATE meta SET value = 'older' WHERE key = 'rules_version'")
	conn := pgtest.Conn(t, pgURL)
	for _, q := range []string{"UPDATE failures SET class = 'other', rule = 'old', gateway = NULL", "UPDATE meta SET value = 'older' WHERE key = 'rules_version'"} {
		if _, err := conn.Exec(context.Background(), q); err != nil {
			t.Fatal(err)
		}
	}
	changed := agree(t, lite, pgURL, now, "failures", "--since", "3650d", "--by", "class")
	if changed == before[0] {
		t.Fatal("the classes did not change")
	}
	var outs [2]string
	for i, db := range []string{lite, pgURL} {
		code, out, errs := runBinaryCode(t, "--db", db, "reclassify")
		noSecret(t, "reclassify", out, errs)
		if code != 0 || !strings.Contains(out, "re-derived ") || strings.Contains(out, " 0 changed class") {
			t.Errorf("reclassify: exit %d: %s %s", code, out, errs)
		}
		outs[i] = out
	}
	if outs[0] != outs[1] {
		t.Errorf("reclassify says %q on SQLite, %q on PostgreSQL", outs[0], outs[1])
	}
	for i, args := range reads {
		if got := agree(t, lite, pgURL, now, args...); got != before[i] {
			t.Errorf("%v after reclassify differs from before the classes were changed", args)
		}
	}
	if v := pgInt(t, pgURL, `SELECT COUNT(*) FROM meta WHERE key = 'rules_version' AND value <> 'older'`); v != 1 {
		t.Errorf("the rules version was not recorded on PostgreSQL")
	}
	// Again: nothing changes.
	for _, db := range []string{lite, pgURL} {
		if code, out, errs := runBinaryCode(t, "--db", db, "reclassify"); code != 0 || !strings.Contains(out, " 0 changed class") {
			t.Errorf("second reclassify: exit %d: %s %s", code, out, errs)
		}
	}
}
