package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/maildiag/maildiag/internal/mgtest"
	"github.com/maildiag/maildiag/internal/testkit"
)

// maildiag copy moves an index between the engines without loss: the same
// commands answer the same on the original and on its copies, byte for
// byte, and copying again stores nothing twice.

// copyOut is copy's JSON, as the tests read it.
type copyOut struct {
	From, To            string
	DestinationWasEmpty bool `json:"destination_was_empty"`
	Copied              struct {
		EventsNew       int   `json:"events_new"`
		SuppressionsNew int   `json:"suppressions_new"`
		AuditNew        int   `json:"audit_new"`
		KeptMessages    int64 `json:"kept_messages"`
	}
	Source, Destination copyCounts
	Missing             copyMissing
	NotCopied           struct {
		KeptMessages int64 `json:"kept_messages"`
	} `json:"not_copied"`
	Match bool
}

// copyIndex copies with the binary and returns its JSON.
func copyIndex(t *testing.T, from, to string) copyOut {
	t.Helper()
	code, out, errs := runBinaryCode(t, "--output", "json", "copy", "--from", from, "--to", to)
	noSecret(t, "copy", out, errs)
	if code != 0 {
		t.Fatalf("copy --from %s --to %s: exit %d: %s", from, to, code, errs)
	}
	var c copyOut
	if err := json.Unmarshal([]byte(out), &c); err != nil {
		t.Fatalf("copy: bad JSON %v: %s", err, out)
	}
	if !c.Match || c.Missing != (copyMissing{}) {
		t.Errorf("copy --from %s --to %s: no match: %+v", from, to, c)
	}
	return c
}

// sameAnswers runs a command on every index and fails when their exit
// status or output differ from the first's; it returns the first's output.
func sameAnswers(t *testing.T, now time.Time, dbs []string, args ...string) string {
	t.Helper()
	var first string
	var firstCode int
	for i, db := range dbs {
		argv := append([]string{"--db", db, "--now", now.Format(time.RFC3339), "--output", "json"}, args...)
		code, out, errs := runBinaryCode(t, argv...)
		noSecret(t, strings.Join(args, " "), out, errs)
		if i == 0 {
			first, firstCode = out, code
			if code > 1 {
				t.Errorf("%s: exit %d: %s", strings.Join(args, " "), code, errs)
			}
			continue
		}
		if code != firstCode {
			t.Errorf("%s: exit %d on index %d, %d on the original: %s", strings.Join(args, " "), code, i, firstCode, errs)
		}
		if out != first {
			al, bl := strings.Split(first, "\n"), strings.Split(out, "\n")
			for j := range min(len(al), len(bl)) {
				if al[j] != bl[j] {
					t.Errorf("%s: index %d differs from the original at line %d:\n original: %.300s\n copy:     %.300s", strings.Join(args, " "), i, j+1, al[j], bl[j])
					break
				}
			}
			if len(al) != len(bl) {
				t.Errorf("%s: %d lines on the original, %d on index %d", strings.Join(args, " "), len(al), len(bl), i)
			}
		}
	}
	return first
}

// A synced account, with everything an index keeps (events, synced and
// imported lists, removals, the audit, a kept message, synced ranges and
// list syncs, Metrics API counts), copied SQLite -> PostgreSQL -> SQLite.
func TestCopySyncedAccountBothWays(t *testing.T) {
	srv := mgtest.NewStories(t)
	dir := t.TempDir()
	lite := filepath.Join(dir, "index.db")
	end := srv.Res.End
	at := []string{"--db", lite, "--now", end.Format(time.RFC3339)}
	api := []string{"--api-base", srv.URL, "--api-key", mgtest.Key, "--retry-delay", "5ms"}
	runBinary(t, 0, append(append(at, "sync", "--metrics"), api...)...)
	runBinary(t, 0, append(append(at, "suppressions", "remove", "*@acme.com", "--class", "policy-block", "--yes", "--backup-dir", filepath.Join(dir, "backups")), api...)...)
	m := srv.FindMessage(t, 2*time.Hour, 48*time.Hour)
	runBinary(t, 0, append(append(at, "resend", m.ID, "--yes"), api...)...)
	runBinary(t, 0, append(append(at, "show", m.ID, "--message", "--keep"), api...)...)
	// An imported list export beside the synced lists.
	csv := filepath.Join(dir, "bounces.csv")
	if err := os.WriteFile(csv, []byte("address,code,error,created_at\nold.staff@initech.example,550,No such user,\"Mon, 02 Nov 2026 10:00:00 UTC\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	runBinary(t, 0, append(at, "import", "--sending-domain", srv.Block().SendingDomain, csv)...)

	pgURL := pgIndex(t)
	back := filepath.Join(t.TempDir(), "back.db")
	there := copyIndex(t, lite, pgURL)
	home := copyIndex(t, pgURL, back)
	for _, c := range []copyOut{there, home} {
		if !c.DestinationWasEmpty || c.Source != c.Destination || c.Copied.EventsNew != int(c.Source.Events) || c.Copied.KeptMessages != 1 ||
			c.Source.Audit == 0 || c.Source.SyncedRanges == 0 || c.Source.ListSyncs == 0 || c.Source.Metrics == 0 || c.Source.KeptMessages != 1 {
			t.Errorf("copy %s -> %s: %+v; want every table copied whole", c.From, c.To, c)
		}
	}
	if there.Source.EventsChecksum != home.Destination.EventsChecksum || there.Source.SuppressionsChecksum != home.Destination.SuppressionsChecksum {
		t.Errorf("the round trip changed the checksums: %+v, %+v", there.Source, home.Destination)
	}
	if strings.Contains(there.To, "pw-s3cret") || !strings.Contains(there.To, "[redacted]") {
		t.Errorf("copy shows the destination as %q", there.To)
	}

	dbs := []string{lite, pgURL, back}
	for _, addr := range append(slices.Clone(srv.Block().Addresses[:3]), m.Recipient, mgtest.PlantedBounce, mgtest.PlantedUnsub, "old.staff@initech.example") {
		sameAnswers(t, end, dbs, "trace", addr)
	}
	sameAnswers(t, end, dbs, "trace", "<"+m.ID+">")
	sameAnswers(t, end, dbs, "suppressed", "*@acme.com", "--with-removed")
	sameAnswers(t, end, dbs, "suppressed", "*@initech.example")
	sameAnswers(t, end, dbs, "failures", "--since", "30d", "--by", "class")
	sameAnswers(t, end, dbs, "failures", "--since", "30d", "--by", "gateway,code")
	sameAnswers(t, end, dbs, "report", "--since", "7d")
	sameAnswers(t, end, dbs, "report", "--since", "7d", "--redact")
	sameAnswers(t, end, dbs, "events", "--limit", "0")
	sameAnswers(t, end, dbs, "audit")
	if out := sameAnswers(t, end, dbs, "show", m.ID, "--message"); !strings.Contains(out, `"from": "index"`) {
		t.Errorf("the kept message is not read from the copies' index: %.300s", out)
	}

	// Again, both ways: nothing doubles.
	for _, c := range []copyOut{copyIndex(t, lite, pgURL), copyIndex(t, pgURL, back)} {
		if c.DestinationWasEmpty || c.Copied.EventsNew != 0 || c.Copied.SuppressionsNew != 0 || c.Copied.AuditNew != 0 || c.Source != c.Destination {
			t.Errorf("copied again %s -> %s: %+v; want nothing new and the same counts", c.From, c.To, c)
		}
	}
	sameAnswers(t, end, dbs, "audit")
	sameAnswers(t, end, dbs, "suppressed", "*@acme.com", "--with-removed")
}

// The scenario corpus (imported events and lists) gives the same verdicts
// on its copies, and a copy into an index that held other events keeps
// them and adds the source's.
func TestCopyScenarios(t *testing.T) {
	dir := t.TempDir()
	scenarios := testkit.Scenarios()
	events, lists, _ := testkit.ScenarioFiles(scenarios)
	ev := filepath.Join(dir, "events.jsonl")
	if err := os.WriteFile(ev, events, 0o600); err != nil {
		t.Fatal(err)
	}
	lite := filepath.Join(dir, "index.db")
	runBinary(t, 0, "--db", lite, "import", ev)
	for key, data := range lists {
		p := filepath.Join(dir, key[0]+"_"+key[1]+".csv")
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		runBinary(t, 0, "--db", lite, "import", "--sending-domain", key[0], p)
	}
	pgURL := pgIndex(t)
	back := filepath.Join(t.TempDir(), "back.db")
	copyIndex(t, lite, pgURL)
	copyIndex(t, pgURL, back)
	dbs := []string{lite, pgURL, back}
	for _, s := range scenarios {
		now := testkit.ScenarioT0.Add(s.Now)
		args := []string{"trace", s.Person}
		if s.Subject != "" {
			args = append(args, "--subject", s.Subject)
		}
		sameAnswers(t, now, dbs, args...)
		sameAnswers(t, now, dbs, "suppressed", "*@"+s.Person[strings.IndexByte(s.Person, '@')+1:], "--with-removed")
	}
	end := testkit.ScenarioT0.Add(30 * 24 * time.Hour)
	sameAnswers(t, end, dbs, "failures", "--since", "60d", "--by", "class")
	sameAnswers(t, end, dbs, "report", "--since", "60d")

	// Into an index of other events: they stay, the source's join them.
	other := filepath.Join(t.TempDir(), "other.db")
	runBinary(t, 0, "--db", other, "import", samples+"/events.jsonl")
	var before struct{ Events int64 }
	runJSON(t, end, other, &before, 0, "status")
	c := copyIndex(t, lite, other)
	if c.DestinationWasEmpty || c.Destination.Events != before.Events+c.Source.Events || c.Copied.EventsNew != int(c.Source.Events) {
		t.Errorf("copy into an index of %d events: %+v", before.Events, c)
	}
}

// copy's usage errors and its help.
func TestCopyUsage(t *testing.T) {
	lite := tempDB(t)
	runBinary(t, 0, "--db", lite, "import", samples+"/events.jsonl")
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"copy", "--from", lite}, 2, "--to names the index"},
		{[]string{"copy", "--from", lite, "--to", lite}, 2, "name the same index"},
		{[]string{"copy", "--from", lite, "--to", "mysql://u:pw-s3cret@h/db"}, 2, "--to names a mysql:// store"},
		{[]string{"copy", "--from", filepath.Join(t.TempDir(), "none.db"), "--to", tempDB(t)}, 3, "no index"},
		{[]string{"copy", "--from", lite, "--to", "postgres://u:pw-s3cret@127.0.0.1:1/db?connect_timeout=5"}, 3, "cannot connect"},
	} {
		code, out, errs := runBinaryCode(t, c.args...)
		noSecret(t, strings.Join(c.args, " "), out, errs)
		if code != c.code || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, %q; want %d and %q", c.args, code, errs, c.code, c.want)
		}
		if c.code == 3 && strings.Count(strings.TrimSpace(errs), "\n") > 0 {
			t.Errorf("%v: the error is not one line: %q", c.args, errs)
		}
	}
	_, out, _ := runBinaryCode(t, "copy", "--help")
	for _, want := range []string{"--from", "--to", "postgres://", "checksum", "Example", "SQLite"} {
		if !strings.Contains(out, want) {
			t.Errorf("copy --help lacks %q", want)
		}
	}
}
