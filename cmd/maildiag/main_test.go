package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// samples are the Mailgun payloads ingest keeps as test data.
const samples = "../../ingest/testdata"

// run executes maildiag in-process and returns its exit code and output.
func run(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func tempDB(t *testing.T) string {
	t.Helper()
	return filepath.Join(t.TempDir(), "index.db")
}

func queryJSON(t *testing.T, db, sql string) []map[string]any {
	t.Helper()
	code, out, errs := run(t, "", "--db", db, "--output", "json", "query", sql)
	if code != 0 {
		t.Fatalf("query %q: exit %d: %s", sql, code, errs)
	}
	var rows []map[string]any
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("query %q: bad JSON %v: %s", sql, err, out)
	}
	return rows
}

func TestImportSamplesIdempotent(t *testing.T) {
	db := tempDB(t)
	code, out, errs := run(t, "", "--db", db, "--output", "json", "import", samples+"/events.jsonl", samples+"/webhooks.jsonl")
	if code != 0 {
		t.Fatalf("import: exit %d, stderr %s", code, errs)
	}
	var imps []map[string]any
	if err := json.Unmarshal([]byte(out), &imps); err != nil {
		t.Fatal(err)
	}
	if len(imps) != 2 {
		t.Fatalf("got %d import records, want 2", len(imps))
	}
	if got := imps[0]["events_read"].(float64); got != 49 {
		t.Errorf("events.jsonl: read %v events, want 49", got)
	}
	// The webhooks file's legacy lines 10-12 carry no timestamp.
	if got := imps[1]["rejects"].(float64); got != 3 {
		t.Errorf("webhooks.jsonl: %v rejects, want 3", got)
	}
	for _, l := range []string{"webhooks.jsonl:10:", "webhooks.jsonl:11:", "webhooks.jsonl:12:"} {
		if !strings.Contains(errs, l) {
			t.Errorf("stderr does not name %s: %s", l, errs)
		}
	}
	count := func() float64 {
		return queryJSON(t, db, "SELECT COUNT(*) AS n FROM events")[0]["n"].(float64)
	}
	n := count()
	// Re-importing both files stores nothing new.
	code, out, _ = run(t, "", "--db", db, "--output", "json", "import", samples+"/webhooks.jsonl", samples+"/events.jsonl")
	if code != 0 {
		t.Fatalf("second import: exit %d", code)
	}
	json.Unmarshal([]byte(out), &imps)
	for _, im := range imps {
		if im["events_new"].(float64) != 0 {
			t.Errorf("re-import of %v stored %v new events, want 0", im["source"], im["events_new"])
		}
	}
	if got := count(); got != n {
		t.Errorf("events after re-import: %v, want %v", got, n)
	}
	// Lines 12 and 18 of events.jsonl are the same event (same id, same
	// day): stored once.
	rows := queryJSON(t, db, "SELECT COUNT(*) AS n FROM events WHERE id_hash = event_hash('rejected', 'OMTXD3-sSmKIQa1gSKkYVA')")
	if rows[0]["n"].(float64) != 1 {
		t.Errorf("duplicate event stored %v times, want 1", rows[0]["n"])
	}
	// The raw JSON comes back byte for byte.
	raw := queryJSON(t, db, "SELECT json FROM event_json WHERE id_hash = event_hash('delivered', 'hK7mQVt1QtqRiOfQXta4sw')")
	line3 := strings.Split(readFile(t, samples+"/events.jsonl"), "\n")[2]
	if len(raw) != 1 || raw[0]["json"] != line3 {
		t.Errorf("raw JSON of line 3 not recovered: %v", raw)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestEventFields(t *testing.T) {
	db := tempDB(t)
	if code, _, errs := run(t, "", "--db", db, "import", samples+"/events.jsonl"); code != 0 {
		t.Fatalf("import: %s", errs)
	}
	rows := queryJSON(t, db, `SELECT type, sending_domain, recipient, recipient_domain, severity, reason, code, enhanced,
		mx_host, subject, message_key = message_key('20221006142837.1618e01bf42da9fa@test.com') AS same_message, time
		FROM failures_full WHERE event_id = 'xYrATi63Rke8EC_s7EoJeA'`)
	if len(rows) != 1 {
		t.Fatalf("got %d rows, want 1", len(rows))
	}
	want := map[string]any{
		"type": "failed", "sending_domain": "test.com", "recipient": "test@test.com", "recipient_domain": "test.com",
		"severity": "temporary", "reason": "generic", "code": float64(451), "enhanced": "4.7.652",
		"mx_host": "hotmail-com.olc.protection.outlook.com", "subject": "Test send",
		"same_message": float64(1), "time": "2022-10-06T14:28:43.871657Z",
	}
	for k, v := range want {
		if rows[0][k] != v {
			t.Errorf("%s: got %v, want %v", k, rows[0][k], v)
		}
	}
}

func TestQueryIsReadOnly(t *testing.T) {
	db := tempDB(t)
	if code, _, errs := run(t, "", "--db", db, "import", samples+"/events.jsonl"); code != 0 {
		t.Fatalf("import: %s", errs)
	}
	other := filepath.Join(t.TempDir(), "other.db")
	for _, q := range []string{
		"DELETE FROM events",
		"INSERT INTO domains(name, rname) VALUES ('x', 'x')",
		"UPDATE events SET ts = 0",
		"DROP TABLE events",
		"CREATE TABLE t(a)",
		"PRAGMA user_version = 7",
		"ATTACH '" + other + "' AS o",
		"WITH x AS (SELECT 1) DELETE FROM events",
	} {
		code, _, errs := run(t, "", "--db", db, "query", q)
		if code != exitFailure {
			t.Errorf("%q: exit %d, want %d: the SQL failed", q, code, exitFailure)
		}
		if !strings.Contains(errs, "readonly") && !strings.Contains(errs, "too many attached") {
			t.Errorf("%q: stderr %q does not say read-only", q, errs)
		}
	}
	if _, err := os.Stat(other); err == nil {
		t.Errorf("ATTACH created %s", other)
	}
	if code, _, errs := run(t, "", "--db", db, "query", "SELECT no_such_column FROM events"); code != exitFailure || !strings.Contains(errs, "no_such_column") {
		t.Errorf("a SQL error: exit %d (%s), want %d naming the column", code, errs, exitFailure)
	}
	rows := queryJSON(t, db, "SELECT COUNT(*) AS n FROM events")
	if rows[0]["n"].(float64) == 0 {
		t.Error("events were deleted")
	}
}

// TestQueryOneStatement: query ran every statement and printed the last
// one's rows (the README says one). A second statement is a usage error;
// a trailing semicolon or comment is not one.
func TestQueryOneStatement(t *testing.T) {
	db := tempDB(t)
	if code, _, errs := run(t, "", "--db", db, "import", samples+"/events.jsonl"); code != 0 {
		t.Fatalf("import: %s", errs)
	}
	code, out, errs := run(t, "", "--db", db, "query", "SELECT 1 AS a; SELECT COUNT(*) AS n FROM events")
	if code != exitUsage || out != "" || !strings.Contains(errs, "more than one SQL statement") || !strings.Contains(errs, "runs one statement") {
		t.Errorf("two statements: exit %d, out %q, stderr %q; want 2, nothing printed", code, out, errs)
	}
	want := queryJSON(t, db, "SELECT COUNT(*) AS n FROM events")
	if rows := queryJSON(t, db, "SELECT COUNT(*) AS n FROM events; -- every event\n"); len(rows) != 1 || rows[0]["n"] != want[0]["n"] {
		t.Errorf("one statement with a trailing comment: %v, want %v", rows, want)
	}
}

func TestIndexFileModeAndLocation(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_DATA_HOME", dir)
	t.Setenv("MAILDIAG_DB", "")
	if code, _, errs := run(t, "", "import", samples+"/events.jsonl"); code != 0 {
		t.Fatalf("import: %s", errs)
	}
	path := filepath.Join(dir, "maildiag", "index.db")
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if err != nil {
			continue // -wal and -shm may be gone after a clean close
		}
		if mode := fi.Mode().Perm(); mode != 0o600 {
			t.Errorf("%s: mode %o, want 600", p, mode)
		}
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("default index not created: %v", err)
	}
	env := filepath.Join(t.TempDir(), "env.db")
	t.Setenv("MAILDIAG_DB", env)
	if code, _, errs := run(t, "", "import", samples+"/events.jsonl"); code != 0 {
		t.Fatalf("import: %s", errs)
	}
	if _, err := os.Stat(env); err != nil {
		t.Errorf("MAILDIAG_DB not honoured: %v", err)
	}
}

func TestImportErrorsAndStrict(t *testing.T) {
	db := tempDB(t)
	dir := t.TempDir()
	notMailgun := filepath.Join(dir, "notes.json")
	os.WriteFile(notMailgun, []byte(`{"hello": "world"}`+"\n"), 0o600)
	bad := filepath.Join(dir, "bad.jsonl")
	lines := strings.Split(strings.TrimSpace(readFile(t, samples+"/events.jsonl")), "\n")
	os.WriteFile(bad, []byte(lines[2]+"\n{\"event\": \"delivered\", broken\n"+lines[4]+"\n"), 0o600)

	code, _, errs := run(t, "", "--db", db, "import", notMailgun, bad)
	if code != 1 {
		t.Errorf("exit %d, want 1 (one input not loaded)", code)
	}
	if !strings.Contains(errs, "notes.json") || !strings.Contains(errs, "not a Mailgun export") {
		t.Errorf("stderr does not name the unknown file: %s", errs)
	}
	if !strings.Contains(errs, "bad.jsonl:2:") {
		t.Errorf("stderr does not name bad.jsonl line 2: %s", errs)
	}
	rows := queryJSON(t, db, "SELECT line, reason, raw FROM rejects")
	if len(rows) != 1 || rows[0]["line"].(float64) != 2 || rows[0]["raw"] != `{"event": "delivered", broken` {
		t.Errorf("rejects table: %v", rows)
	}
	if n := queryJSON(t, db, "SELECT COUNT(*) AS n FROM events")[0]["n"].(float64); n != 2 {
		t.Errorf("%v events loaded, want the 2 good lines", n)
	}
	// --strict turns the reject into a failure exit; the good lines still load.
	db2 := tempDB(t)
	code, _, errs = run(t, "", "--db", db2, "import", "--strict", bad)
	if code != 1 || !strings.Contains(errs, "--strict") {
		t.Errorf("--strict: exit %d, stderr %s", code, errs)
	}
	code, _, _ = run(t, "", "--db", db2, "import", "--strict", samples+"/events.jsonl")
	if code != 0 {
		t.Errorf("--strict on a clean file: exit %d, want 0", code)
	}
	// A file of which every record is rejected loads nothing: exit 1, said.
	allBad := filepath.Join(dir, "all-bad.jsonl")
	os.WriteFile(allBad, []byte(`{"event": "delivered", "timestamp": "x"}`+"\n"+`{"event": "failed", "timestamp": "y"}`+"\n"), 0o600)
	code, _, errs = run(t, "", "--db", tempDB(t), "import", allBad)
	if code != 1 || !strings.Contains(errs, "all-bad.jsonl: every record (2) was rejected") {
		t.Errorf("every record rejected: exit %d, stderr %s", code, errs)
	}
}

// TestImportCSVRefused: a bounces CSV without --sending-domain loaded
// nothing and exited 0; a CSV with two event columns silently used the
// first. Each is an input not loaded (exit 1), named with the reason; the
// other inputs load.
func TestImportCSVRefused(t *testing.T) {
	db := tempDB(t)
	dir := t.TempDir()
	bounces := filepath.Join(dir, "bounces.csv")
	os.WriteFile(bounces, []byte("address,code,error,created_at\na@b.com,550,x,\"Thu, 11 Dec 2025 01:49:40 UTC\"\n"), 0o600)
	dup := filepath.Join(dir, "events.csv")
	os.WriteFile(dup, []byte("timestamp,event,recipient,event\n1765417780,delivered,a@b.com,failed\n"), 0o600)
	code, _, errs := run(t, "", "--db", db, "import", bounces, dup, samples+"/events.jsonl")
	if code != exitNo {
		t.Errorf("exit %d, want 1 (inputs not loaded)", code)
	}
	for _, want := range []string{"bounces.csv: a bounces list: suppression-list CSV exports do not name their sending domain: pass --sending-domain",
		`events.csv: a CSV column is named twice: "event" names columns 2 and 4`} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr %q does not say %q", errs, want)
		}
	}
	rows := queryJSON(t, db, "SELECT source, status FROM imports ORDER BY id")
	if len(rows) != 3 || rows[0]["status"] != "failed" || rows[1]["status"] != "failed" || rows[2]["status"] != "done" {
		t.Errorf("imports %v: want the two CSVs failed, the samples done", rows)
	}
	if code, _, errs := run(t, "", "--db", db, "import", "--sending-domain", "mg.example.com", bounces); code != 0 {
		t.Errorf("with --sending-domain: exit %d: %s", code, errs)
	}
}

func TestImportStdinAndStatus(t *testing.T) {
	db := tempDB(t)
	code, _, errs := run(t, readFile(t, samples+"/events.jsonl"), "--db", db, "import", "-")
	if code != 0 {
		t.Fatalf("import -: %s", errs)
	}
	code, out, errs := run(t, "", "--db", db, "--output", "json", "status")
	if code != 0 {
		t.Fatalf("status: %s", errs)
	}
	var st struct {
		Events int `json:"events"`
		Counts []struct {
			SendingDomain string `json:"sending_domain"`
			Type          string `json:"type"`
			Events        int    `json:"events"`
		} `json:"events_by_domain_and_type"`
		Imports []struct {
			Source string `json:"source"`
		} `json:"imports"`
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatal(err)
	}
	// The 49 sample lines hold 38 distinct events: the same Symfony
	// webhook fixtures appear as Events API items too, and lines 12 and 18
	// are one event. Records that share an id and a day but not the
	// recipient or the type (documentation samples reuse ids) stay apart.
	if st.Events != 38 {
		t.Errorf("status: %d events, want 38 distinct events in the samples", st.Events)
	}
	if len(st.Imports) != 1 || st.Imports[0].Source != "-" {
		t.Errorf("imports: %+v", st.Imports)
	}
	found := false
	for _, c := range st.Counts {
		if c.SendingDomain == "app.symfony.com" && c.Type == "failed" && c.Events == 2 {
			found = true
		}
	}
	if !found {
		t.Errorf("status lacks app.symfony.com failed 2: %+v", st.Counts)
	}
	for _, f := range []string{"table", "csv"} {
		if code, out, _ := run(t, "", "--db", db, "--output", f, "status"); code != 0 || !strings.Contains(out, "app.symfony.com") {
			t.Errorf("status --output %s: exit %d: %s", f, code, out)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"import"},
		{"--output", "xml", "status"},
		{"query"},
		{"import", "--nope", "x"},
		{"frobnicate"},
		{"suppressions", "frobnicate"},
		{"completion", "frobnicate"},
		{"status", "extra"},
		{"trace", "a@b.c", "d@e.f"},
		{"failures", "--top", "x"},
	} {
		if code, _, errs := run(t, "", args...); code != 2 || !strings.HasPrefix(errs, "maildiag: ") {
			t.Errorf("%v: exit %d (%s), want 2 and a message", args, code, errs)
		}
	}
	for _, args := range [][]string{{}, {"suppressions"}, {"help"}} {
		if code, out, _ := run(t, "", args...); code != 0 || !strings.Contains(out, "maildiag") {
			t.Errorf("%v: exit %d, want 0 and help", args, code)
		}
	}
	if code, _, errs := run(t, "", "--db", filepath.Join(t.TempDir(), "none.db"), "status"); code != 3 || !strings.Contains(errs, "no index") {
		t.Errorf("status without an index: exit %d, %s", code, errs)
	}
}

// TestDBURLRefused: --db postgres://... (before the PostgreSQL store) or a
// typo of it made a SQLite file named like the URL, in a tree of
// directories. A value with a URL scheme other than postgres:// (in --db
// or $MAILDIAG_DB) is a usage error naming the scheme, which shows no
// password and creates nothing. (Every command runs on PostgreSQL now.)
func TestDBURLRefused(t *testing.T) {
	events, err := filepath.Abs(samples + "/events.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	t.Chdir(dir)
	for _, tt := range []struct {
		env  bool
		args []string
		want string
	}{
		{false, []string{"--db", "postgre://db.example.com/maildiag", "import", events}, "--db names a postgre:// store"},
		{false, []string{"--db", "sqlite:///tmp/x.db", "query", "SELECT 1"}, "--db names a sqlite:// store"},
		{true, []string{"query", "SELECT 1"}, "$MAILDIAG_DB names a sqlite:// store"},
	} {
		if tt.env {
			t.Setenv("MAILDIAG_DB", "sqlite://maildiag:s3cret@localhost/maildiag")
		}
		code, out, errs := run(t, "", tt.args...)
		if code != exitUsage || !strings.Contains(errs, tt.want) || strings.Contains(out+errs, "s3cret") {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q, without the password", tt.args, code, errs, tt.want)
		}
	}
	if files, _ := os.ReadDir(dir); len(files) != 0 {
		t.Errorf("files created: %v", files)
	}
	// A file name with a colon is a file name.
	db := filepath.Join(dir, "idx:2026.db")
	if code, _, errs := run(t, "", "--db", db, "import", events); code != 0 {
		t.Errorf("--db %s: exit %d: %s", db, code, errs)
	}
}

// TestImportResyncSummary: a JSON-lines file whose first line is cut
// loaded none of the good lines after it and exited 0 with one reject
// holding the whole file. The good lines load; stderr names the bad line
// and sums up what was skipped and why.
func TestImportResyncSummary(t *testing.T) {
	db := tempDB(t)
	lines := strings.Split(strings.TrimSpace(readFile(t, samples+"/events.jsonl")), "\n")
	cut := filepath.Join(t.TempDir(), "cut.jsonl")
	in := lines[0][:len(lines[0])/2] + "\n" + strings.Join(lines[1:6], "\n") + "\n"
	if err := os.WriteFile(cut, []byte(in), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errs := run(t, "", "--db", db, "import", cut)
	if code != 0 {
		t.Errorf("exit %d, want 0: %s", code, errs)
	}
	if n := queryJSON(t, db, "SELECT COUNT(*) AS n FROM events")[0]["n"].(float64); n != 5 {
		t.Errorf("%v events loaded, want the 5 good lines", n)
	}
	rows := queryJSON(t, db, "SELECT line, raw FROM rejects")
	if len(rows) != 1 || rows[0]["line"].(float64) != 1 || rows[0]["raw"] != lines[0][:len(lines[0])/2] {
		t.Errorf("rejects table: %v, want line 1 holding the cut line only", rows)
	}
	if !strings.Contains(errs, "cut.jsonl:1: invalid JSON") || !strings.Contains(errs, "cut.jsonl: 1 record(s) rejected and skipped (1 invalid JSON)") {
		t.Errorf("stderr does not name the line and sum up the rejects:\n%s", errs)
	}
}

// TestImportDevZero: import /dev/zero ran out of memory and exited 2 (the
// usage code); 200 MB of NUL bytes took 1.8 GB and quoted them all on
// stderr. It is refused after the first 16 MiB with a short message and
// exit 3; the other inputs still load.
func TestImportDevZero(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip("no /dev/zero")
	}
	db := tempDB(t)
	code, _, errs := run(t, "", "--db", db, "import", "/dev/zero", samples+"/events.jsonl")
	if code != 3 {
		t.Errorf("exit %d, want 3", code)
	}
	if !strings.Contains(errs, "/dev/zero: no line break in the first bytes: line 1 is longer than 16 MiB") || len(errs) > 2000 {
		t.Errorf("stderr (%d bytes) does not say why /dev/zero is refused: %.500s", len(errs), errs)
	}
	if n := queryJSON(t, db, "SELECT COUNT(*) AS n FROM events")[0]["n"].(float64); n == 0 {
		t.Errorf("the input after /dev/zero did not load")
	}
}
