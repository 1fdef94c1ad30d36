package main

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/maildiag/maildiag/internal/pgtest"
)

// pgIndex is a new PostgreSQL index's URL, with a password in it that
// must never be shown (the test cluster trusts its socket and ignores it).
func pgIndex(t *testing.T) string {
	t.Helper()
	u, err := url.Parse(pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(u.User.Username(), "pw-s3cret")
	return u.String()
}

// noSecret fails the test when the password shows anywhere.
func noSecret(t *testing.T, what string, texts ...string) {
	t.Helper()
	for _, s := range texts {
		if strings.Contains(s, "pw-s3cret") {
			t.Errorf("%s shows the password: %q", what, s)
		}
	}
}

// import, status and query work on PostgreSQL as on SQLite: the same
// counts, events stored once when imported twice, the URL shown without
// its password.
func TestPostgresImportStatusQuery(t *testing.T) {
	u := pgIndex(t)
	lite := filepath.Join(t.TempDir(), "index.db")
	files := []string{samples + "/events.jsonl", samples + "/webhooks.jsonl"}

	code, out, errs := run(t, "", append([]string{"--db", u, "import", "--output", "json"}, files...)...)
	noSecret(t, "import", out, errs)
	if code != 0 {
		t.Fatalf("import: exit %d: %s", code, errs)
	}
	var imps []struct {
		EventsRead int `json:"events_read"`
		EventsNew  int `json:"events_new"`
	}
	if err := json.Unmarshal([]byte(out), &imps); err != nil || len(imps) != 2 {
		t.Fatalf("import JSON %q: %v", out, err)
	}
	if code, _, errs := run(t, "", append([]string{"--db", lite, "import"}, files...)...); code != 0 {
		t.Fatalf("SQLite import: exit %d: %s", code, errs)
	}

	type status struct {
		Path   string `json:"path"`
		Events int64  `json:"events"`
		Counts []struct {
			SendingDomain string `json:"sending_domain"`
			Type          string `json:"type"`
			Events        int64  `json:"events"`
		} `json:"events_by_domain_and_type"`
		Rejects int64 `json:"rejects"`
	}
	read := func(db string) status {
		t.Helper()
		t.Setenv("MAILDIAG_DB", db) // $MAILDIAG_DB as well as --db
		code, out, errs := run(t, "", "status", "--output", "json")
		noSecret(t, "status", out, errs)
		if code != 0 {
			t.Fatalf("status: exit %d: %s", code, errs)
		}
		var st status
		if err := json.Unmarshal([]byte(out), &st); err != nil {
			t.Fatal(err)
		}
		return st
	}
	pst, lst := read(u), read(lite)
	if pst.Events == 0 || pst.Events != lst.Events || pst.Rejects != lst.Rejects {
		t.Errorf("PostgreSQL status: %d events, %d rejects; SQLite %d, %d", pst.Events, pst.Rejects, lst.Events, lst.Rejects)
	}
	if int64(imps[0].EventsNew+imps[1].EventsNew) != pst.Events {
		t.Errorf("imports say %d + %d new, status %d", imps[0].EventsNew, imps[1].EventsNew, pst.Events)
	}
	want := map[string]int64{}
	for _, c := range lst.Counts {
		want[c.SendingDomain+" "+c.Type] = c.Events
	}
	for _, c := range pst.Counts {
		if want[c.SendingDomain+" "+c.Type] != c.Events {
			t.Errorf("%s %s: %d events, SQLite %d", c.SendingDomain, c.Type, c.Events, want[c.SendingDomain+" "+c.Type])
		}
	}
	if !strings.Contains(pst.Path, "[redacted]") {
		t.Errorf("status path %q: want the URL with its password redacted", pst.Path)
	}
	t.Setenv("MAILDIAG_DB", "")

	// Again: nothing new.
	code, out, errs = run(t, "", "--db", u, "import", "--output", "json", files[0])
	if code != 0 || !strings.Contains(out, `"events_new": 0`) {
		t.Errorf("second import: exit %d, %s %s; want 0 new", code, out, errs)
	}

	q := "SELECT t.name, SUM(n) AS n FROM daily_counts c JOIN event_types t ON t.id = c.type_id WHERE t.name = 'failed' GROUP BY 1"
	pcode, pout, perrs := run(t, "", "--db", u, "query", "--output", "csv", q)
	lcode, lout, _ := run(t, "", "--db", lite, "query", "--output", "csv", q)
	if pcode != 0 || lcode != 0 || pout != lout {
		t.Errorf("query on PostgreSQL: exit %d %q %s; on SQLite: exit %d %q", pcode, pout, perrs, lcode, lout)
	}
	for _, tt := range []struct {
		sql  string
		code int
		want string
	}{
		{"DELETE FROM events", exitFailure, "read-only transaction"},
		{"SELECT 1; DELETE FROM events", exitUsage, "runs one statement"},
		{"SELECT nosuchcolumn FROM events", exitFailure, "nosuchcolumn"},
	} {
		code, out, errs := run(t, "", "--db", u, "query", tt.sql)
		noSecret(t, "query", out, errs)
		if code != tt.code || !strings.Contains(errs, tt.want) {
			t.Errorf("query %q: exit %d, %q; want %d and %q", tt.sql, code, errs, tt.code, tt.want)
		}
	}
	if n := strings.TrimSpace(pgCount(t, u, "SELECT COUNT(*) FROM events")); n != fmt.Sprint(pst.Events) {
		t.Errorf("%s events after the refused DELETE, want %d", n, pst.Events)
	}
}

// pgCount runs a one-value query through maildiag query.
func pgCount(t *testing.T, u, q string) string {
	t.Helper()
	code, out, errs := run(t, "", "--db", u, "query", "--output", "csv", q)
	if code != 0 {
		t.Fatalf("%s: exit %d: %s", q, code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	return lines[len(lines)-1]
}

// migrate --create-roles makes a writer that can import and a reader that
// can query but not import; the roles are documented in --help.
func TestPostgresMigrateRoles(t *testing.T) {
	u := pgIndex(t)
	prefix := fmt.Sprintf("mdc%d", os.Getpid())
	code, out, errs := run(t, "", "--db", u, "migrate", "--create-roles", "--role-prefix", prefix, "--output", "json")
	noSecret(t, "migrate", out, errs)
	if code != 0 || !strings.Contains(out, `"writer": "`+prefix+`_writer"`) || !strings.Contains(out, `"0001_init"`) {
		t.Fatalf("migrate: exit %d, %s %s", code, out, errs)
	}
	code, out, _ = run(t, "", "--db", u, "migrate", "--output", "json")
	if code != 0 || !strings.Contains(out, `"applied": []`) {
		t.Errorf("migrate again: exit %d, %s; want nothing applied", code, out)
	}
	admin := pgtest.Conn(t, strings.Replace(u, "pw-s3cret", "x", 1))
	ctx := t.Context()
	for _, s := range []string{
		"CREATE ROLE " + prefix + "_w LOGIN IN ROLE " + prefix + "_writer",
		"CREATE ROLE " + prefix + "_r LOGIN IN ROLE " + prefix + "_reader",
	} {
		if _, err := admin.Exec(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		for _, r := range []string{prefix + "_w", prefix + "_r", prefix + "_writer", prefix + "_reader"} {
			admin.Exec(ctx, "DROP OWNED BY "+r)
			admin.Exec(ctx, "DROP ROLE "+r)
		}
	})
	wu, ru := pgtest.WithUser(u, prefix+"_w", "pw-s3cret"), pgtest.WithUser(u, prefix+"_r", "pw-s3cret")
	if code, out, errs := run(t, "", "--db", wu, "import", samples+"/events.jsonl"); code != 0 {
		t.Fatalf("import as the writer: exit %d: %s", code, errs)
	} else {
		noSecret(t, "import", out, errs)
	}
	if code, out, errs := run(t, "", "--db", ru, "query", "SELECT COUNT(*) FROM events"); code != 0 || strings.Contains(out, "\n0\n") {
		t.Errorf("query as the reader: exit %d, %q %s", code, out, errs)
	}
	code, out, errs = run(t, "", "--db", ru, "import", samples+"/events.jsonl")
	noSecret(t, "reader's import", out, errs)
	if code != exitFailure || !strings.Contains(errs, "permission denied") || !strings.Contains(errs, "member of the writer role") {
		t.Errorf("import as the reader: exit %d, %q; want 3, permission denied, and what to do", code, errs)
	}
	if code, _, errs := run(t, "", "--db", ru, "migrate", "--create-roles"); code != exitFailure {
		t.Errorf("migrate --create-roles as the reader: exit %d, %s; want 3", code, errs)
	}
	if code, _, errs := run(t, "", "--db", samples+"/x.db", "migrate", "--create-roles"); code != exitUsage || !strings.Contains(errs, "PostgreSQL") {
		t.Errorf("--create-roles on SQLite: exit %d, %s; want 2", code, errs)
	}
}

// A server that refuses connections: one line, exit 3, no password.
func TestPostgresRefused(t *testing.T) {
	for _, args := range [][]string{{"status"}, {"import", samples + "/events.jsonl"}, {"query", "SELECT 1"}, {"migrate"}} {
		code, out, errs := run(t, "", append([]string{"--db", "postgres://bob:pw-s3cret@127.0.0.1:1/maildiag?connect_timeout=5"}, args...)...)
		noSecret(t, args[0], out, errs)
		if code != exitFailure || strings.Count(strings.TrimSpace(errs), "\n") != 0 || !strings.Contains(errs, "connection refused") {
			t.Errorf("%v: exit %d, stderr %q; want 3 and one line saying connection refused", args, code, errs)
		}
	}
}
