package main

import (
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/internal/mgtest"
	"github.com/maildiag/maildiag/remedy"
)

// Every action of every command lands in the audit log with the OS user
// and the command line, and the API key (here from the environment) is in
// none of it, nor anywhere else maildiag wrote.
func TestAuditLogListsEveryAction(t *testing.T) {
	e := newActEnv(t)
	t.Setenv("MG_API_KEY", mgtest.Key)
	t.Setenv("MAILGUN_API_KEY", "")
	local := []string{"--api-base", e.URL, "--retry-delay", "5ms"}
	block := len(e.Block().Addresses)

	e.jsonRun(t, nil, 0, "suppressions", "remove", "*@acme.com", "--class", "policy-block")
	var res remedy.RemoveResult
	e.jsonRun(t, &res, 0, append([]string{"suppressions", "remove", "*@acme.com", "--class", "policy-block", "--yes"}, local...)...)
	e.jsonRun(t, nil, 0, append([]string{"suppressions", "restore", res.Backups[0].File}, local...)...)
	m := e.FindMessage(t, 2*time.Hour, 48*time.Hour)
	e.jsonRun(t, nil, 0, append([]string{"resend", m.ID, "--yes"}, local...)...)

	var rows []maildiag.AuditEntry
	e.jsonRun(t, &rows, 0, "audit")
	count := map[string]int{}
	for _, r := range rows {
		count[r.Action+" "+r.Result]++
		if r.User != osUser() {
			t.Errorf("audit row %+v: user %q, want %q", r, r.User, osUser())
		}
		if !strings.HasPrefix(r.Command, "maildiag "+r.Action) && !strings.HasPrefix(r.Command, "maildiag suppressions "+r.Action) {
			t.Errorf("audit row for %s has command %q", r.Action, r.Command)
		}
		if r.Action == "remove" && r.Result == "removed" && (r.BackupFile != res.Backups[0].File || r.List != "bounces") {
			t.Errorf("removal audit %+v does not name its list and backup %s", r, res.Backups[0].File)
		}
	}
	want := map[string]int{"remove dry-run": block, "remove removed": block, "restore restored": block, "resend sent": 1}
	for k, n := range want {
		if count[k] != n {
			t.Errorf("audit has %d %q rows, want %d (all: %v)", count[k], k, n, count)
		}
	}
	if len(rows) != 3*block+1 {
		t.Errorf("audit has %d rows, want %d", len(rows), 3*block+1)
	}

	e.jsonRun(t, &rows, 0, "audit", "--action", "resend,restore")
	if len(rows) != block+1 {
		t.Errorf("--action resend,restore: %d rows, want %d", len(rows), block+1)
	}
	e.jsonRun(t, nil, 1, "audit", "--since", "2026-11-21")
	code, out, _ := e.maildiag(t, "--output", "csv", "audit", "--action", "resend")
	if lines := strings.Split(strings.TrimSpace(out), "\n"); code != 0 || len(lines) != 2 || !strings.HasPrefix(lines[0], "at,os_user,action,result") {
		t.Errorf("audit --output csv: exit %d, %q", code, out)
	}
	e.checkNoKey(t)
}

func TestCommandLineLeavesOutKey(t *testing.T) {
	var got string
	cmd := &cobra.Command{Use: "remove", Run: func(c *cobra.Command, args []string) { got = commandLine(c, args) }}
	var key string
	var lists []string
	var yes bool
	cmd.Flags().StringVar(&key, "api-key", "", "")
	cmd.Flags().StringSliceVar(&lists, "list", nil, "")
	cmd.Flags().BoolVar(&yes, "yes", false, "")
	cmd.SetArgs([]string{"*@acme.com", "--api-key", mgtest.Key, "--list", "bounces,complaints", "--yes"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if want := "remove '*@acme.com' --list bounces --list complaints --yes"; got != want {
		t.Errorf("command line %q, want %q", got, want)
	}
	if strings.Contains(got, mgtest.Key) {
		t.Errorf("the key is in the command line %q", got)
	}
	if q := shellQuote("it's"); q != `'it'\''s'` {
		t.Errorf("shellQuote(it's) = %s", q)
	}
}
