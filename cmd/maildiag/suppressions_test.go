package main

import (
	"encoding/csv"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/maildiag/maildiag/mgserver"
)

func removeArgs(e *actEnv, args ...string) []string {
	return append(append([]string{"suppressions", "remove"}, args...), e.api()...)
}

// atAcme selects the entries of one list (any list when "") at acme.com.
func atAcme(list string) func(domain, l, address string) bool {
	return func(_, l, address string) bool {
		return strings.HasSuffix(address, "@acme.com") && (list == "" || l == list)
	}
}

func TestRemoveDryRunChangesNothing(t *testing.T) {
	e := newActEnv(t)
	before := e.lists()
	var res removeJSON
	// Unsubscribes are removed only when named, like complaints.
	var byDefault removeJSON
	e.jsonRun(t, &byDefault, 0, removeArgs(e, "*@acme.com")...)
	for _, x := range byDefault.Entries {
		if x.List != "bounces" {
			t.Errorf("without --list the dry run takes %+v; want bounces only", x)
		}
	}
	errs := e.jsonRun(t, &res, 0, removeArgs(e, "*@acme.com", "--list", "bounces,unsubscribes")...)
	if !strings.Contains(errs, "unsubscribed") {
		t.Errorf("no consent warning for --list unsubscribes: %s", errs)
	}
	if !res.DryRun || res.Matched != len(e.block.Addresses)+2 || len(res.Entries) != res.Matched {
		t.Fatalf("dry run: dry_run %v, matched %d, %d entries; want a dry run of the %d block bounces, %s and %s",
			res.DryRun, res.Matched, len(res.Entries), len(e.block.Addresses), plantedBounce, plantedUnsub)
	}
	for _, x := range res.Entries {
		if x.Result != "dry-run" || x.List == "complaints" {
			t.Errorf("entry %+v: want a dry-run of a bounce or unsubscribe", x)
		}
	}
	if d := e.lists().diff(before); d != "" {
		t.Errorf("the dry run changed the server's lists:\n%s", d)
	}
	if n := e.requests(http.MethodDelete) + e.requests(http.MethodPost); n != 0 {
		t.Errorf("the dry run made %d DELETE/POST requests, want 0", n)
	}
	if !strings.Contains(errs, "nothing was changed") || !strings.Contains(errs, "--yes") {
		t.Errorf("the dry run does not say how to do it for real: %s", errs)
	}
	if len(res.Backups) != 0 {
		t.Errorf("the dry run wrote backups: %+v", res.Backups)
	}
	var audit []auditJSON
	e.jsonRun(t, &audit, 0, "audit", "--action", "remove")
	if len(audit) != byDefault.Matched+res.Matched {
		t.Fatalf("audit has %d rows, want %d (both dry runs)", len(audit), byDefault.Matched+res.Matched)
	}
	for _, a := range audit {
		if a.Result != "dry-run" || a.User != osUser() || a.Address == "" || a.SendingDomain != e.block.SendingDomain {
			t.Errorf("audit row %+v: want a dry-run by %s", a, osUser())
		}
	}
	e.checkNoKey(t)
}

func TestRemoveYesRemovesExactlyTheMatchedSet(t *testing.T) {
	e := newActEnv(t)
	before := e.lists()
	want := before.without(atAcme("bounces"))
	removed := len(before) - len(want)
	orig := map[string]string{} // the server's bounces as backup rows
	for _, b := range e.acct.Bounces(e.block.SendingDomain) {
		orig[b.Address] = strings.Join([]string{b.Address, b.Code, b.Error, b.CreatedAt.UTC().Format("Mon, 02 Jan 2006 15:04:05 UTC")}, "|")
	}
	// One is removed behind maildiag's back: Mailgun answers 404, and that
	// counts as removed already.
	gone := e.block.Addresses[0]
	if ok, err := e.acct.Delete(e.block.SendingDomain, mgserver.Bounces, gone); !ok || err != nil {
		t.Fatalf("delete %s on the server: %v %v", gone, ok, err)
	}
	var res removeJSON
	errs := e.jsonRun(t, &res, 0, removeArgs(e, "*@acme.com", "--list", "bounces", "--yes")...)
	if res.DryRun || res.Removed != removed-1 || res.Failed != 0 || res.NotFound != 1 {
		t.Fatalf("removed %d, failed %d, not found %d; want %d removed and %s not found (stderr %s)", res.Removed, res.Failed, res.NotFound, removed-1, gone, errs)
	}
	for _, x := range res.Entries {
		if (x.Address == gone) != (x.Result == "not-found") {
			t.Errorf("entry %+v: want not-found for %s only", x, gone)
		}
	}
	if d := e.lists().diff(want); d != "" {
		t.Errorf("server lists after removal differ from before minus the acme.com bounces:\n%s", d)
	}
	if n := e.requests(http.MethodDelete); n != removed {
		t.Errorf("%d DELETE requests, want one per address: %d", n, removed)
	}

	// The backup is next to the index, private, in Mailgun's import format,
	// with what the list said of each entry.
	if len(res.Backups) != 1 || filepath.Dir(res.Backups[0].File) != filepath.Join(filepath.Dir(e.db), "backups") {
		t.Fatalf("backups %+v: want one file in the backups directory next to the index", res.Backups)
	}
	if !strings.Contains(errs, res.Backups[0].File) {
		t.Errorf("stderr does not say where the backup is: %s", errs)
	}
	b := res.Backups[0]
	fi, err := os.Stat(b.File)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("backup %s: %v, mode %v; want mode 0600", b.File, err, fi.Mode())
	}
	rows := readCSV(t, b.File)
	if strings.Join(rows[0], ",") != "address,code,error,created_at" || len(rows)-1 != removed {
		t.Fatalf("backup header %v with %d rows, want address,code,error,created_at and %d rows", rows[0], len(rows)-1, removed)
	}
	for _, r := range rows[1:] {
		if got := strings.Join(r, "|"); got != orig[r[0]] {
			t.Errorf("backup row %q, want the server's entry %q", got, orig[r[0]])
		}
	}

	// The index knows at once: nothing at acme.com is still listed, and
	// running again finds nothing and deletes nothing.
	var diag struct {
		Addresses []struct{ Address, List, State string } `json:"addresses"`
	}
	e.jsonRun(t, &diag, 1, "suppressed", "*@acme.com", "--list", "bounces")
	e.jsonRun(t, &diag, 0, "suppressed", "*@acme.com", "--list", "bounces", "--with-removed")
	if len(diag.Addresses) < removed {
		t.Errorf("--with-removed shows %d entries, want the %d removed", len(diag.Addresses), removed)
	}
	for _, a := range diag.Addresses {
		if a.State != "removed" {
			t.Errorf("after removal the index shows %s as %s, want removed", a.Address, a.State)
		}
	}
	code, _, errs := e.maildiag(t, removeArgs(e, "*@acme.com", "--list", "bounces", "--yes")...)
	if code != 1 || e.requests(http.MethodDelete) != removed {
		t.Errorf("second run: exit %d, %d DELETEs in all; want exit 1 and no new DELETE (%s)", code, e.requests(http.MethodDelete), errs)
	}

	// maildiag import reads the backup back.
	other := filepath.Join(t.TempDir(), "other.db")
	code, out, errs := run(t, "", "--db", other, "--output", "json", "import", "--sending-domain", b.SendingDomain, b.File)
	var imps []struct {
		SuppressionsRead int `json:"suppressions_read"`
		Rejects          int `json:"rejects"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &imps) != nil || imps[0].SuppressionsRead != removed || imps[0].Rejects != 0 {
		t.Errorf("import of the backup: exit %d, %s %s; want %d suppressions and no rejects", code, out, errs, removed)
	}
	e.checkNoKey(t)
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return rows
}

// The generator's story: a Mimecast gateway refused 44 addresses of
// acme.com at once. --class policy-block takes those bounces and not the
// address at acme.com that bounced as unknown, nor the other lists.
func TestRemoveClassPolicyBlockOnly(t *testing.T) {
	e := newActEnv(t)
	before := e.lists()
	var res removeJSON
	e.jsonRun(t, &res, 0, removeArgs(e, "*@acme.com", "--class", "policy-block", "--yes")...)
	var got []string
	for _, x := range res.Entries {
		if x.Result != "removed" || x.Class != "policy-block" || x.List != "bounces" {
			t.Errorf("entry %+v: want a removed policy-block bounce", x)
		}
		got = append(got, x.Address)
	}
	sort.Strings(got)
	if !slices.Equal(got, e.block.Addresses) {
		t.Errorf("removed %d addresses %v, want the block's %d %v", len(got), got, len(e.block.Addresses), e.block.Addresses)
	}
	want := before.without(func(d, l, a string) bool {
		return d == e.block.SendingDomain && l == "bounces" && slices.Contains(e.block.Addresses, a)
	})
	if d := e.lists().diff(want); d != "" {
		t.Errorf("server lists: want only the block's bounces gone:\n%s", d)
	}
	if _, ok := e.lists()[e.block.SendingDomain+" bounces "+plantedBounce]; !ok {
		t.Errorf("%s (user unknown) was removed with the policy block", plantedBounce)
	}
}

// Injected 429s and 5xx: the first run, with no retries of 5xx, reports
// which entries it could not remove and exits 3; a second run, retrying,
// removes the rest, backs up only what was left, and never replaces the
// first run's backup.
func TestRemoveThroughFaultsFinishesOnRerun(t *testing.T) {
	e := newActEnv(t)
	before := e.lists()
	want := before.without(func(d, l, a string) bool { return strings.HasSuffix(a, "@acme.com") && l != "complaints" })
	faults := mgserver.Faults{
		RateLimit:      mgserver.FaultRule{Every: 3},
		ServerError:    mgserver.FaultRule{Every: 7},
		RateLimitReset: 20 * time.Millisecond,
		Filter:         func(r *http.Request) bool { return r.Method == http.MethodDelete },
	}
	if err := e.srv.SetFaults(faults); err != nil {
		t.Fatal(err)
	}
	var first removeJSON
	errs := e.jsonRun(t, &first, 3, removeArgs(e, "*@acme.com", "--list", "bounces,unsubscribes", "--yes", "--retries", "0")...)
	st := e.srv.Stats()
	if st.RateLimited == 0 || st.ServerErrors == 0 {
		t.Fatalf("faults injected: %d 429s, %d 5xx; want both", st.RateLimited, st.ServerErrors)
	}
	if first.Failed == 0 || first.Removed == 0 || first.Removed+first.Failed != first.Matched {
		t.Fatalf("first run: removed %d, failed %d of %d; want some of each", first.Removed, first.Failed, first.Matched)
	}
	t.Logf("first run: %d removed, %d failed; %d 429s and %d 5xx injected", first.Removed, first.Failed, st.RateLimited, st.ServerErrors)
	var failed []string
	now := e.lists()
	for _, x := range first.Entries {
		key := x.SendingDomain + " " + x.List + " " + x.Address
		_, listed := now[key]
		switch x.Result {
		case "failed":
			failed = append(failed, x.Address)
			if !strings.Contains(errs, x.Address) || x.Error == "" {
				t.Errorf("stderr does not report %s as not removed, or no reason (%q)", x.Address, x.Error)
			}
			if !listed {
				t.Errorf("%s is reported not removed but is gone from the server", key)
			}
		case "removed":
			if listed {
				t.Errorf("%s is reported removed but is still on the server", key)
			}
		default:
			t.Errorf("entry %+v: unexpected result", x)
		}
	}
	firstRows := 0
	for _, b := range first.Backups {
		firstRows += len(readCSV(t, b.File)) - 1
	}

	if err := e.srv.SetFaults(faults); err != nil {
		t.Fatal(err)
	}
	var second removeJSON
	e.jsonRun(t, &second, 0, removeArgs(e, "*@acme.com", "--list", "bounces,unsubscribes", "--yes")...)
	if second.Matched != len(failed) || second.Removed != len(failed) {
		t.Errorf("second run matched %d, removed %d; want the %d left over", second.Matched, second.Removed, len(failed))
	}
	if d := e.lists().diff(want); d != "" {
		t.Errorf("after the second run the server lists differ from before minus acme.com's bounces and unsubscribes:\n%s", d)
	}
	secondRows := 0
	for _, b := range second.Backups {
		secondRows += len(readCSV(t, b.File)) - 1
		for _, f := range first.Backups {
			if f.File == b.File {
				t.Errorf("the second run's backup %s has the first run's name", b.File)
			}
		}
	}
	again := 0
	for _, b := range first.Backups {
		again += len(readCSV(t, b.File)) - 1
	}
	if firstRows != first.Matched || again != firstRows || secondRows != len(failed) {
		t.Errorf("backup rows: first %d (now %d), second %d; want %d, unchanged, and %d", firstRows, again, secondRows, first.Matched, len(failed))
	}
}

func TestBackupRestoreRoundTrip(t *testing.T) {
	e := newActEnv(t)
	before := e.lists()
	var res removeJSON
	errs := e.jsonRun(t, &res, 0, removeArgs(e, "acme.com", "--list", "bounces,unsubscribes,complaints", "--yes")...)
	if !strings.Contains(errs, "reported your mail as spam") {
		t.Errorf("no warning about complaints on stderr: %s", errs)
	}
	if d := e.lists().diff(before.without(atAcme(""))); d != "" {
		t.Fatalf("removal did not take acme.com off every list:\n%s", d)
	}
	if len(res.Backups) != 3 {
		t.Fatalf("backups %+v: want one per list", res.Backups)
	}
	args := []string{"suppressions", "restore"}
	for _, b := range res.Backups {
		args = append(args, b.File)
	}
	args = append(args, e.api()...)
	for round := 1; round <= 2; round++ {
		var rr struct {
			Files []struct {
				Entries, Restored, Failed int
			} `json:"files"`
		}
		e.jsonRun(t, &rr, 0, args...)
		n := 0
		for _, f := range rr.Files {
			n += f.Restored
		}
		if n != res.Matched {
			t.Errorf("restore %d: restored %d, want %d", round, n, res.Matched)
		}
		if d := e.lists().diff(before); d != "" {
			t.Errorf("after restore %d the server's lists differ from the original:\n%s", round, d)
		}
	}
	// The index shows them listed again.
	var diag struct {
		Addresses []struct{ Address, List, State string } `json:"addresses"`
	}
	e.jsonRun(t, &diag, 0, "suppressed", "acme.com")
	listed := 0
	for _, a := range diag.Addresses {
		if a.State == "listed" {
			listed++
		}
	}
	if listed != res.Matched {
		t.Errorf("after restore the index shows %d listed at acme.com, want %d", listed, res.Matched)
	}
	var audit []auditJSON
	e.jsonRun(t, &audit, 0, "audit", "--action", "restore")
	if len(audit) != 2*res.Matched || audit[0].Result != "restored" || audit[0].BackupFile == "" {
		t.Errorf("audit of restores: %d rows (first %+v), want %d restored rows naming the file", len(audit), audit[0], 2*res.Matched)
	}
	e.checkNoKey(t)
}

func TestComplaintsProtected(t *testing.T) {
	e := newActEnv(t)
	before := e.lists()
	code, _, errs := e.maildiag(t, removeArgs(e, plantedComplaint, "--yes")...)
	if code != 1 || e.requests(http.MethodDelete) != 0 {
		t.Errorf("remove of a complained address without --list complaints: exit %d, %d DELETEs; want 1 and none (%s)", code, e.requests(http.MethodDelete), errs)
	}
	if strings.Contains(errs, "reported your mail as spam") {
		t.Errorf("warned about complaints that were not asked for: %s", errs)
	}
	code, _, errs = e.maildiag(t, removeArgs(e, "*@acme.com", "--list", "complaints")...)
	if code != 0 || !strings.Contains(errs, "reported your mail as spam") {
		t.Errorf("dry run with --list complaints: exit %d, stderr %s; want 0 and the warning", code, errs)
	}
	var res removeJSON
	errs = e.jsonRun(t, &res, 0, removeArgs(e, plantedComplaint, "--list", "complaints", "--yes")...)
	if !strings.Contains(errs, "consent") || res.Removed != 1 {
		t.Errorf("--list complaints --yes: removed %d, stderr %s; want 1 and the warning", res.Removed, errs)
	}
	if d := e.lists().diff(before.without(func(d, l, a string) bool { return l == "complaints" && a == plantedComplaint })); d != "" {
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
		{[]string{"suppressions", "restore", "nowhere.csv", "--api-key", actKey}, "does not say its sending domain"},
		{[]string{"audit", "--action", "delete"}, "--action"},
	} {
		code, _, errs := e.maildiag(t, c.args...)
		if code != 2 || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", c.args, code, errs, c.want)
		}
	}
	// Narrowing by creation time: the planted entries are ten days old,
	// the block five.
	var res removeJSON
	e.jsonRun(t, &res, 0, "suppressions", "remove", "*@acme.com", "--list", "bounces,unsubscribes", "--before", "7d")
	if res.Matched != 2 {
		t.Errorf("--before 7d matched %d, want the 2 planted ten days ago", res.Matched)
	}
	e.jsonRun(t, &res, 0, "suppressions", "remove", "*@acme.com", "--after", "7d")
	if res.Matched != len(e.block.Addresses) {
		t.Errorf("--after 7d matched %d, want the block's %d", res.Matched, len(e.block.Addresses))
	}
	// No index: an error, not a new empty index.
	code, _, errs := run(t, "", "--db", filepath.Join(t.TempDir(), "none.db"), "suppressions", "remove", "acme.com")
	if code != 3 || !strings.Contains(errs, "no index") {
		t.Errorf("without an index: exit %d, %s", code, errs)
	}
}

// Without synced lists the suppressions come from the event log, which
// keeps showing them after removal: the audit tells the re-run that they
// are gone.
func TestRemoveFromEventLogOnly(t *testing.T) {
	e := newActEnv(t, "--no-suppressions")
	var res removeJSON
	e.jsonRun(t, &res, 0, removeArgs(e, "*@acme.com", "--class", "policy-block", "--yes")...)
	if res.Removed != len(e.block.Addresses) {
		t.Fatalf("removed %d, want the block's %d", res.Removed, len(e.block.Addresses))
	}
	for _, x := range res.Entries {
		if x.Source != "events" {
			t.Errorf("%s: source %q, want the event log", x.Address, x.Source)
		}
		if _, listed := e.lists()[x.SendingDomain+" bounces "+x.Address]; listed {
			t.Errorf("%s is still on the server", x.Address)
		}
	}
	deletes := e.requests(http.MethodDelete)
	code, _, errs := e.maildiag(t, removeArgs(e, "*@acme.com", "--class", "policy-block", "--yes")...)
	if code != 1 || e.requests(http.MethodDelete) != deletes || !strings.Contains(errs, "removed by maildiag already") {
		t.Errorf("re-run: exit %d, %d new DELETEs, stderr %s; want 1, none, and why", code, e.requests(http.MethodDelete)-deletes, errs)
	}
}
