package main

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/internal/mgtest"
	"github.com/maildiag/maildiag/mgserver"
	"github.com/maildiag/maildiag/remedy"
)

// The engine's tests are in package remedy; these are of the commands:
// their flags, their words and their exit codes.

func TestRemoveCommand(t *testing.T) {
	e := newActEnv(t)
	var res remedy.RemoveResult
	errs := e.jsonRun(t, &res, 0, removeArgs(e, "*@acme.com", "--list", "bounces,unsubscribes")...)
	if !strings.Contains(errs, "unsubscribed") || !strings.Contains(errs, "nothing was changed") || !strings.Contains(errs, "--yes") {
		t.Errorf("the dry run does not warn about unsubscribes and say how to do it for real: %s", errs)
	}
	// The hint said --yes=false --yes after an explicit --yes=false.
	_, _, errs = e.maildiag(t, removeArgs(e, "*@acme.com", "--yes=false")...)
	if strings.Contains(errs, "--yes=false") || !strings.Contains(errs, "\n  maildiag suppressions remove '*@acme.com' --api-base "+e.URL) ||
		!strings.Contains(errs, " --retry-delay 5ms --yes\n") {
		t.Errorf("after --yes=false the hint is not the command with --yes: %s", errs)
	}
	if !res.DryRun || res.Matched != len(e.Block().Addresses)+2 || e.Requests(http.MethodDelete) != 0 {
		t.Errorf("dry run: %+v, %d DELETEs", res, e.Requests(http.MethodDelete))
	}

	errs = e.jsonRun(t, &res, 0, removeArgs(e, "*@acme.com", "--yes")...)
	if res.DryRun || res.Removed != len(e.Block().Addresses)+1 || len(res.Backups) != 1 ||
		filepath.Dir(res.Backups[0].File) != filepath.Join(filepath.Dir(e.db), "backups") {
		t.Fatalf("--yes: %+v; want every bounce removed, backed up next to the index", res)
	}
	if !strings.Contains(errs, "Backup of") || !strings.Contains(errs, res.Backups[0].File) || !strings.Contains(errs, "Removed ") {
		t.Errorf("stderr does not say where the backup is and what was removed: %s", errs)
	}
	code, _, errs := e.maildiag(t, removeArgs(e, "*@acme.com", "--yes")...)
	if code != 1 || !strings.Contains(errs, "no listed suppressions match *@acme.com") {
		t.Errorf("second run: exit %d, %s; want 1 and nothing matching", code, errs)
	}

	// maildiag import reads the backup back.
	b := res.Backups[0]
	other := filepath.Join(t.TempDir(), "other.db")
	code, out, errs := run(t, "", "--db", other, "--output", "json", "import", "--sending-domain", b.SendingDomain, b.File)
	var imps []maildiag.Import
	if code != 0 || json.Unmarshal([]byte(out), &imps) != nil || imps[0].SuppressionsRead != b.Entries || imps[0].Rejects != 0 {
		t.Errorf("import of the backup: exit %d, %s %s; want %d suppressions and no rejects", code, out, errs, b.Entries)
	}
	e.checkNoKey(t)
}

// Removals that fail exit 3 and name what is left, and how to finish.
func TestRemoveFailures(t *testing.T) {
	e := newActEnv(t)
	if err := e.Srv.SetFaults(mgserver.Faults{ServerError: mgserver.FaultRule{Every: 2},
		Filter: func(r *http.Request) bool { return r.Method == http.MethodDelete }}); err != nil {
		t.Fatal(err)
	}
	var res remedy.RemoveResult
	errs := e.jsonRun(t, &res, 3, removeArgs(e, "*@acme.com", "--yes", "--retries", "0")...)
	if res.Failed == 0 || !strings.Contains(errs, "Not removed:\n  ") || !strings.Contains(errs, "run the same command again to finish") {
		t.Fatalf("failed %d, stderr %s: want the entries not removed listed", res.Failed, errs)
	}
	for _, x := range res.Entries {
		if x.Result == maildiag.AuditFailed && !strings.Contains(errs, x.Address+" (bounces, ") {
			t.Errorf("stderr does not report %s as not removed", x.Address)
		}
	}
}

// Without synced lists, a second run finds the entries removed already
// and says why it does nothing.
func TestRemoveFromEventLogOnly(t *testing.T) {
	e := newActEnv(t, "--no-suppressions")
	e.jsonRun(t, nil, 0, removeArgs(e, "*@acme.com", "--class", "policy-block", "--yes")...)
	deletes := e.Requests(http.MethodDelete)
	code, _, errs := e.maildiag(t, removeArgs(e, "*@acme.com", "--class", "policy-block", "--yes")...)
	if code != 1 || e.Requests(http.MethodDelete) != deletes || !strings.Contains(errs, "removed by maildiag already") {
		t.Errorf("re-run: exit %d, %d new DELETEs, stderr %s; want 1, none, and why", code, e.Requests(http.MethodDelete)-deletes, errs)
	}
}

func TestComplaintsProtected(t *testing.T) {
	e := newActEnv(t)
	before := e.Lists()
	code, _, errs := e.maildiag(t, removeArgs(e, mgtest.PlantedComplaint, "--yes")...)
	if code != 1 || e.Requests(http.MethodDelete) != 0 {
		t.Errorf("remove of a complained address without --list complaints: exit %d, %d DELETEs; want 1 and none (%s)", code, e.Requests(http.MethodDelete), errs)
	}
	if strings.Contains(errs, "reported your mail as spam") {
		t.Errorf("warned about complaints that were not asked for: %s", errs)
	}
	code, _, errs = e.maildiag(t, removeArgs(e, "*@acme.com", "--list", "complaints")...)
	if code != 0 || !strings.Contains(errs, "reported your mail as spam") {
		t.Errorf("dry run with --list complaints: exit %d, stderr %s; want 0 and the warning", code, errs)
	}
	var res remedy.RemoveResult
	errs = e.jsonRun(t, &res, 0, removeArgs(e, mgtest.PlantedComplaint, "--list", "complaints", "--yes")...)
	if !strings.Contains(errs, "consent") || res.Removed != 1 {
		t.Errorf("--list complaints --yes: removed %d, stderr %s; want 1 and the warning", res.Removed, errs)
	}
	if d := e.Lists().Diff(before.Without(func(d, l, a string) bool { return l == "complaints" && a == mgtest.PlantedComplaint })); d != "" {
		t.Errorf("want only the named complaint gone:\n%s", d)
	}
}

func TestRemoveUsageErrors(t *testing.T) {
	e := newActEnv(t)
	t.Setenv("MG_API_KEY", "")
	t.Setenv("MAILGUN_API_KEY", "")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"suppressions", "remove", "acme.com", "--list", "allowlist"}, "not a suppression"},
		{[]string{"suppressions", "remove", "acme.com", "--class", "no-such-class"}, "not a failure class"},
		{[]string{"suppressions", "remove", "acme.com", "--before", "yesterday"}, "--before"},
		{[]string{"suppressions", "remove", "acme.com", "--after", "2026-11-19", "--before", "2026-11-01"}, "earlier"},
		{[]string{"suppressions", "remove", "acme.com", "--yes"}, "no API key"},
		{[]string{"suppressions", "remove", "a@@acme.com"}, "more than one @"},
		{[]string{"suppressions", "restore", "nowhere.csv", "--api-key", mgtest.Key}, "does not say its sending domain: pass --sending-domain"},
		{[]string{"suppressions", "restore", "mg.example.com_bounces_20261120T091500Z.csv", "--sending-domain", "other.example.com", "--api-key", mgtest.Key},
			"the file name says sending domain mg.example.com, --sending-domain says other.example.com"},
		{[]string{"suppressions", "restore", "mg.example.com_bounces_20261120T091500Z.csv", "--api-key", mgtest.Key}, "mg.example.com_bounces_20261120T091500Z.csv: no such file"},
		{[]string{"audit", "--action", "delete"}, "--action"},
	} {
		code, _, errs := e.maildiag(t, c.args...)
		if code != 2 || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", c.args, code, errs, c.want)
		}
	}
	// Narrowing by creation time: the planted entries are ten days old,
	// the block five.
	var res remedy.RemoveResult
	e.jsonRun(t, &res, 0, "suppressions", "remove", "*@acme.com", "--list", "bounces,unsubscribes", "--before", "7d", "--include-unknown-users")
	if res.Matched != 2 {
		t.Errorf("--before 7d matched %d, want the 2 planted ten days ago", res.Matched)
	}
	// The planted bounce is of a mailbox that does not exist: left out,
	// with a warning, unless asked for.
	errs := e.jsonRun(t, &res, 1, "suppressions", "remove", "*@acme.com", "--before", "7d")
	if res.Matched != 0 || res.UnknownUsers != 1 || !strings.Contains(errs, "--include-unknown-users") {
		t.Errorf("without --include-unknown-users: matched %d, unknown users %d, stderr %s", res.Matched, res.UnknownUsers, errs)
	}
	// A removal over --max is refused with --yes, warned of in a dry run.
	errs = e.jsonRun(t, &res, 0, "suppressions", "remove", "*@acme.com", "--max", "10")
	if !strings.Contains(errs, "more than the 10 one removal takes") {
		t.Errorf("a dry run over --max does not warn: %s", errs)
	}
	code, _, errs := e.maildiag(t, removeArgs(e, "*@acme.com", "--max", "10", "--yes")...)
	if code != 2 || !strings.Contains(errs, "raise --max") || e.Requests(http.MethodDelete) != 0 {
		t.Errorf("a removal over --max: exit %d, %d DELETEs, stderr %s", code, e.Requests(http.MethodDelete), errs)
	}
	e.jsonRun(t, &res, 0, "suppressions", "remove", "*@acme.com", "--after", "7d")
	if res.Matched != len(e.Block().Addresses) {
		t.Errorf("--after 7d matched %d, want the block's %d", res.Matched, len(e.Block().Addresses))
	}
	// No index: an error, not a new empty index.
	code, _, errs = run(t, "", "--db", filepath.Join(t.TempDir(), "none.db"), "suppressions", "remove", "acme.com")
	if code != 3 || !strings.Contains(errs, "no index") {
		t.Errorf("without an index: exit %d, %s", code, errs)
	}
}

func TestResendCommand(t *testing.T) {
	e := newActEnv(t)
	m := e.FindMessage(t, 2*time.Hour, 48*time.Hour)
	resend := func(v any, code int, args ...string) string {
		t.Helper()
		return e.jsonRun(t, v, code, append(append([]string{"resend"}, args...), e.api()...)...)
	}
	var r remedy.ResendResult
	errs := resend(&r, 0, m.ID)
	if !r.DryRun || len(e.Acct.Sends()) != 0 || !strings.Contains(errs, "dry run, nothing sent") || !strings.Contains(errs, " --yes") {
		t.Errorf("without --yes: %+v, %d sends, stderr %s; want a dry run naming the command with --yes", r, len(e.Acct.Sends()), errs)
	}
	resend(&r, 0, m.ID, "--yes")
	if sends := e.Acct.Sends(); len(sends) != 1 || r.NewMessageID != sends[0].NewMessageID || r.To != m.Recipient {
		t.Errorf("output %+v, sends %+v: want one resend to %s", r, sends, m.Recipient)
	}
	errs = resend(nil, 2, m.ID, "--to", "jane.doe@elsewhere.example")
	if !strings.Contains(errs, "refused: jane.doe@elsewhere.example is not an original recipient") || !strings.Contains(errs, "--approved-by NAME") {
		t.Errorf("a resend to another address was not refused with a reason: %s", errs)
	}
	old := e.FindMessage(t, 5*24*time.Hour, 20*24*time.Hour) // the server keeps stored messages 72 hours
	errs = resend(nil, 1, old.ID, "--yes", "--anyway")
	if !strings.Contains(errs, "no longer stored") || !strings.Contains(errs, "from the application") {
		t.Errorf("the error for an expired message: %s", errs)
	}
	errs = resend(nil, 1, "no-such-event-id")
	if !strings.Contains(errs, "not in the index: run maildiag sync (or import its events) first") {
		t.Errorf("unknown id: %s", errs)
	}
	if n := len(e.Acct.Sends()); n != 1 {
		t.Errorf("%d sends, want only the first", n)
	}
	e.checkNoKey(t)
}
