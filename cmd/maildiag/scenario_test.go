package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/maildiag/maildiag/analyze"
	"github.com/maildiag/maildiag/internal/testkit"
)

// TestScenariosThroughTheBinary imports the scenario corpus's exports with
// the binary, as a user would, and traces a few histories: the verdict
// kinds match the in-process corpus test, and the table shows what a
// support engineer copies (event ids, message ids, Mailgun's own words,
// the sending IP, each message's verdict) in the time zone asked for.
func TestScenariosThroughTheBinary(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "index.db")
	scenarios := testkit.Scenarios()
	events, lists, _ := testkit.ScenarioFiles(scenarios)
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	maildiag := func(want int, args ...string) (string, string) {
		t.Helper()
		return runBinary(t, want, append([]string{"--db", db}, args...)...)
	}
	maildiag(0, "import", write("events.jsonl", events))
	for key, data := range lists {
		maildiag(0, "import", "--sending-domain", key[0], write(key[0]+"_"+key[1]+".csv", data))
	}
	at := func(s testkit.Scenario) string { return testkit.ScenarioT0.Add(s.Now).Format(time.RFC3339) }
	byName := map[string]testkit.Scenario{}
	for _, s := range scenarios {
		byName[s.Name] = s
	}

	reset := byName["password reset from another sending domain, dropped; a later invite delivered"]
	var res analyze.TraceResult
	runJSON(t, testkit.ScenarioT0.Add(reset.Now), db, &res, 0, "trace", reset.Person)
	if res.Verdict.Kind != reset.Kind || len(res.Messages) != 2 {
		t.Errorf("%s: %s with %d messages, want %s with 2", reset.Name, res.Verdict.Kind, len(res.Messages), reset.Kind)
	}
	table, _ := maildiag(0, "--now", at(reset), "trace", reset.Person, "--tz", "Europe/Berlin")
	for _, w := range []string{
		"606 Not delivering to unsubscribed address", // Mailgun's words, not a class
		"sc", // event ids to copy
		"20261120090000.1.", "@auth.shop.example to christine.smith@westmedia.example: dropped",
		"2026-11-20 10:00:00 CET", // 09:00 UTC in Berlin
		"from 203.0.113.9",        // the sending IP
		"unsubscribed: Mailgun dropped", "delivered: Delivered",
	} {
		if !strings.Contains(table, w) {
			t.Errorf("the trace table does not show %q:\n%s", w, table)
		}
	}
	csv, _ := maildiag(0, "--now", at(reset), "--output", "csv", "trace", reset.Person)
	if head, _, _ := strings.Cut(csv, "\n"); !strings.Contains(head, "sending_domain") || !strings.Contains(head, "event_id") || !strings.Contains(head, "sending_ip") {
		t.Errorf("trace CSV header %q lacks sending_domain, event_id or sending_ip", head)
	}

	noID := byName["an export without message-ids"]
	table, _ = maildiag(0, "--now", at(noID), "trace", noID.Person)
	if !strings.Contains(table, "Message (no message-id) to "+noID.Person) || strings.Contains(table, "Message  to") {
		t.Errorf("messages without a message-id:\n%s", table)
	}

	filtered := byName["filters that match nothing"]
	table, _ = maildiag(1, "--now", at(filtered), "trace", filtered.Person, "--subject", filtered.Subject)
	if !strings.Contains(table, "does not match the filters") {
		t.Errorf("a filter matching nothing:\n%s", table)
	}
	_, errs := maildiag(2, "trace", filtered.Person, "--tz", "Mars/Olympus")
	if !strings.Contains(errs, "not a time zone") {
		t.Errorf("a bad --tz: %s", errs)
	}

	for _, name := range []string{"Not delivering to previously bounced address", "dropped, the suppression removed since: resend",
		"not found, mail went to the typo domain", "lookalike signup: firstname_lastname bounced, firstname.lastname receives"} {
		s := byName[name]
		if len(s.Entries) > 0 && s.Entries[0].Removed != 0 {
			continue // the removal is marked by the in-process corpus test only
		}
		want := 0
		if s.Kind == analyze.TraceNotFound {
			want = 1
		}
		var r analyze.TraceResult
		runJSON(t, testkit.ScenarioT0.Add(s.Now), db, &r, want, "trace", s.Person)
		if r.Verdict.Kind != s.Kind {
			t.Errorf("%s: %s (%s), want %s", name, r.Verdict.Kind, r.Verdict.Summary, s.Kind)
		}
	}
}

// TestREADMETraceVerdicts: the README's table of verdict kinds is the
// contract for scripts; it lists every kind, in the order that decides.
func TestREADMETraceVerdicts(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, _ := strings.Cut(string(b), "### Trace verdicts")
	section, _, _ = strings.Cut(section, "\n### ")
	var kinds []string
	for _, l := range strings.Split(section, "\n") {
		if strings.HasPrefix(l, "| `") {
			k, _, _ := strings.Cut(strings.TrimPrefix(l, "| `"), "`")
			kinds = append(kinds, k)
		}
	}
	if strings.Join(kinds, " ") != strings.Join(analyze.Precedence, " ") {
		t.Errorf("README verdict kinds\n  %v\nwant analyze.Precedence\n  %v", kinds, analyze.Precedence)
	}
}
