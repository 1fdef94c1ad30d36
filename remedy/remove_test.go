package remedy_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/analyze"
	"github.com/maildiag/maildiag/internal/mgtest"
	"github.com/maildiag/maildiag/internal/testkit"
	"github.com/maildiag/maildiag/mgserver"
	"github.com/maildiag/maildiag/remedy"
)

// The filters take the planted user-unknown bounce too: these tests are
// about how entries are removed.
var (
	bounces    = remedy.RemoveFilter{Lists: []string{maildiag.ListBounces}, IncludeUnknownUsers: true}
	allLists   = remedy.RemoveFilter{Lists: remedy.RemovableLists, IncludeUnknownUsers: true}
	notByUnsub = remedy.RemoveFilter{Lists: []string{maildiag.ListBounces, maildiag.ListUnsubscribes}, IncludeUnknownUsers: true}
)

func TestDryRunChangesNothing(t *testing.T) {
	e := newEnv(t, false)
	before := e.Lists()
	s, db := e.session(t)
	// Unsubscribes are removed only when named, like complaints.
	byDefault := e.plan(t, db, "*@acme.com", remedy.RemoveFilter{})
	for _, x := range byDefault.Entries {
		if x.List != maildiag.ListBounces || x.Address == mgtest.PlantedBounce {
			t.Errorf("without lists the plan takes %+v; want bounces only, not the unknown user %s", x, mgtest.PlantedBounce)
		}
	}
	if byDefault.UnknownUsers != 1 {
		t.Errorf("by default %d bounces of unknown users left out, want 1 (%s)", byDefault.UnknownUsers, mgtest.PlantedBounce)
	}
	res := e.plan(t, db, "*@acme.com", notByUnsub)
	block := e.Block()
	if !res.DryRun || res.Matched != len(block.Addresses)+2 || len(res.Entries) != res.Matched {
		t.Fatalf("plan: dry_run %v, matched %d, %d entries; want a dry run of the %d block bounces, %s and %s",
			res.DryRun, res.Matched, len(res.Entries), len(block.Addresses), mgtest.PlantedBounce, mgtest.PlantedUnsub)
	}
	for _, r := range []*remedy.RemoveResult{byDefault, res} {
		if err := s.DryRun(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	for _, x := range res.Entries {
		if x.Result != maildiag.AuditDryRun || x.List == maildiag.ListComplaints {
			t.Errorf("entry %+v: want a dry-run of a bounce or unsubscribe", x)
		}
	}
	if d := e.Lists().Diff(before); d != "" {
		t.Errorf("the dry run changed the server's lists:\n%s", d)
	}
	if n := e.Requests(http.MethodDelete) + e.Requests(http.MethodPost); n != 0 {
		t.Errorf("the dry run made %d DELETE/POST requests, want 0", n)
	}
	if len(res.Backups) != 0 {
		t.Errorf("the dry run wrote backups: %+v", res.Backups)
	}
	rows := audit(t, db, maildiag.AuditRemove)
	if len(rows) != byDefault.Matched+res.Matched {
		t.Fatalf("audit has %d rows, want %d (both dry runs)", len(rows), byDefault.Matched+res.Matched)
	}
	for _, a := range rows {
		if a.Result != maildiag.AuditDryRun || a.User != who.User || a.Run != who.Run || a.Command != who.Command ||
			a.Address == "" || a.SendingDomain != block.SendingDomain || a.Pattern != "*@acme.com" || !strings.Contains(a.Filters, `"lists":[`) {
			t.Errorf("audit row %+v: want a dry-run by %+v", a, who)
		}
	}
}

// The API key is taken out of every text the audit keeps.
func TestAuditRedactsKey(t *testing.T) {
	e := newEnv(t, false)
	s, db := e.session(t)
	s.Who.Command = "maildiag suppressions remove --api-key " + mgtest.Key
	res := e.plan(t, db, mgtest.PlantedBounce, bounces)
	if err := s.DryRun(context.Background(), res); err != nil {
		t.Fatal(err)
	}
	rows := audit(t, db)
	if len(rows) != 1 || rows[0].Command != "maildiag suppressions remove --api-key [redacted]" {
		t.Fatalf("audit %+v: want one row with the key redacted", rows)
	}
	mgtest.CheckNoKey(t, filepath.Dir(e.db))
}

func TestRemoveRemovesExactlyTheMatchedSet(t *testing.T) {
	e := newEnv(t, false)
	before := e.Lists()
	want := before.Without(mgtest.AtAcme(maildiag.ListBounces))
	removed := len(before) - len(want)
	block := e.Block()
	orig := map[string]string{} // the server's bounces as backup rows
	for _, b := range e.Acct.Bounces(block.SendingDomain) {
		orig[b.Address] = strings.Join([]string{b.Address, b.Code, b.Error, b.CreatedAt.UTC().Format("Mon, 02 Jan 2006 15:04:05 UTC")}, "|")
	}
	// One is removed behind maildiag's back: Mailgun answers 404, and that
	// counts as removed already.
	gone := block.Addresses[0]
	if ok, err := e.Acct.Delete(block.SendingDomain, mgserver.Bounces, gone); !ok || err != nil {
		t.Fatalf("delete %s on the server: %v %v", gone, ok, err)
	}
	s, db := e.session(t)
	res, err := e.remove(t, s, db, "*@acme.com", bounces)
	if err != nil || res.DryRun || res.Removed != removed-1 || res.Failed != 0 || res.NotFound != 1 || len(res.NotRemoved()) != 0 {
		t.Fatalf("%v: removed %d, failed %d, not found %d; want %d removed and %s not found", err, res.Removed, res.Failed, res.NotFound, removed-1, gone)
	}
	for _, x := range res.Entries {
		if (x.Address == gone) != (x.Result == maildiag.AuditNotFound) {
			t.Errorf("entry %+v: want not-found for %s only", x, gone)
		}
	}
	if d := e.Lists().Diff(want); d != "" {
		t.Errorf("server lists after removal differ from before minus the acme.com bounces:\n%s", d)
	}
	if n := e.Requests(http.MethodDelete); n != removed {
		t.Errorf("%d DELETE requests, want one per address: %d", n, removed)
	}

	// The backup is in the backup directory, private, in Mailgun's import
	// format, with what the list said of each entry, and reads back.
	if len(res.Backups) != 1 || filepath.Dir(res.Backups[0].File) != e.backups {
		t.Fatalf("backups %+v: want one file in %s", res.Backups, e.backups)
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
	if f, err := remedy.ReadBackup(context.Background(), b.File, "", openFile(b.File)); err != nil || f.Entries != removed || f.SendingDomain != b.SendingDomain {
		t.Errorf("reading the backup back: %+v, %v; want %d entries of %s", f, err, removed, b.SendingDomain)
	}

	// The index knows at once: nothing at acme.com is still listed, and
	// planning again finds nothing.
	p, _ := analyze.ParsePattern("*@acme.com")
	diag, err := analyze.Suppressed(context.Background(), db, p, analyze.SuppressedOptions{Lists: bounces.Lists, WithRemoved: true})
	if err != nil || len(diag.Addresses) < removed {
		t.Fatalf("%v: %d entries with the removed ones, want the %d removed", err, len(diag.Addresses), removed)
	}
	for _, a := range diag.Addresses {
		if a.State != analyze.StateRemoved {
			t.Errorf("after removal the index shows %s as %s, want removed", a.Address, a.State)
		}
	}
	if again := e.plan(t, db, "*@acme.com", bounces); again.Matched != 0 {
		t.Errorf("a second plan matches %d entries, want none", again.Matched)
	}
	rows2 := audit(t, db, maildiag.AuditRemove)
	if len(rows2) != removed || rows2[0].BackupFile != b.File {
		t.Errorf("audit: %d rows (first %+v), want %d naming the backup", len(rows2), rows2[0], removed)
	}
}

func openFile(path string) func() (io.ReadCloser, error) {
	return func() (io.ReadCloser, error) { return os.Open(path) }
}

// Remove deletes nothing that was not backed up first.
func TestRemoveNeedsBackup(t *testing.T) {
	e := newEnv(t, false)
	s, db := e.session(t)
	res := e.plan(t, db, "*@acme.com", bounces)
	if err := s.Remove(context.Background(), res); !errors.Is(err, remedy.ErrNoBackup) || e.Requests(http.MethodDelete) != 0 {
		t.Fatalf("remove without a backup: %v, %d DELETEs; want ErrNoBackup and none", err, e.Requests(http.MethodDelete))
	}
}

// TestBackupFailureAudited: a removal stopped because its backup could not
// be written was missing from the audit log. Each entry is audited as
// refused, with the reason, and nothing is deleted.
func TestBackupFailureAudited(t *testing.T) {
	e := newEnv(t, false)
	s, db := e.session(t)
	res := e.plan(t, db, "*@acme.com", bounces)
	notADir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notADir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	res.BackupDir = filepath.Join(notADir, "backups")
	err := s.Backup(context.Background(), res)
	if err == nil || !strings.Contains(err.Error(), "no suppression was removed") {
		t.Fatalf("backup into %s: %v, want an error saying nothing was removed", res.BackupDir, err)
	}
	if err := s.Remove(context.Background(), res); !errors.Is(err, remedy.ErrNoBackup) || e.Requests(http.MethodDelete) != 0 {
		t.Fatalf("remove after a failed backup: %v, %d DELETEs; want ErrNoBackup and none", err, e.Requests(http.MethodDelete))
	}
	rows := audit(t, db, maildiag.AuditRemove)
	if len(rows) != len(res.Entries) || len(rows) == 0 {
		t.Fatalf("audit has %d rows, want one per entry (%d)", len(rows), len(res.Entries))
	}
	for _, a := range rows {
		if a.Result != maildiag.AuditRefused || !strings.Contains(a.Error, "backup") || a.Address == "" || a.Run != who.Run {
			t.Errorf("audit row %+v: want refused, with the backup's error", a)
		}
	}
}

// The generator's story: a Mimecast gateway refused 44 addresses of
// acme.com at once. The policy-block class takes those bounces and not
// the address at acme.com that bounced as unknown, nor the other lists.
func TestRemoveClassPolicyBlockOnly(t *testing.T) {
	e := newEnv(t, false)
	before := e.Lists()
	s, db := e.session(t)
	res, err := e.remove(t, s, db, "*@acme.com", remedy.RemoveFilter{Lists: remedy.DefaultLists, Classes: []string{"policy-block"}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, x := range res.Entries {
		if x.Result != maildiag.AuditRemoved || x.Class != "policy-block" || x.List != maildiag.ListBounces {
			t.Errorf("entry %+v: want a removed policy-block bounce", x)
		}
		got = append(got, x.Address)
	}
	sort.Strings(got)
	block := e.Block()
	if !slices.Equal(got, block.Addresses) {
		t.Errorf("removed %d addresses %v, want the block's %d %v", len(got), got, len(block.Addresses), block.Addresses)
	}
	want := before.Without(func(d, l, a string) bool {
		return d == block.SendingDomain && l == maildiag.ListBounces && slices.Contains(block.Addresses, a)
	})
	if d := e.Lists().Diff(want); d != "" {
		t.Errorf("server lists: want only the block's bounces gone:\n%s", d)
	}
}

// Injected 429s and 5xx: the first run, with no retries, reports which
// entries it could not remove; a second run, retrying, removes the rest,
// backs up only what was left, and never replaces the first run's backup.
func TestRemoveThroughFaultsFinishesOnRerun(t *testing.T) {
	e := newEnv(t, false)
	want := e.Lists().Without(func(d, l, a string) bool { return strings.HasSuffix(a, "@acme.com") && l != maildiag.ListComplaints })
	faults := mgserver.Faults{
		RateLimit:      mgserver.FaultRule{Every: 3},
		ServerError:    mgserver.FaultRule{Every: 7},
		RateLimitReset: 20 * time.Millisecond,
		Filter:         func(r *http.Request) bool { return r.Method == http.MethodDelete },
	}
	if err := e.Srv.SetFaults(faults); err != nil {
		t.Fatal(err)
	}
	s, db := e.session(t)
	s.Client = testkit.Client(t, e.URL, mgtest.Key, -1) // no retries
	first, err := e.remove(t, s, db, "*@acme.com", notByUnsub)
	st := e.Srv.Stats()
	if err != nil || st.RateLimited == 0 || st.ServerErrors == 0 {
		t.Fatalf("%v; faults injected: %d 429s, %d 5xx; want both", err, st.RateLimited, st.ServerErrors)
	}
	if first.Failed == 0 || first.Removed == 0 || first.Removed+first.Failed != first.Matched {
		t.Fatalf("first run: removed %d, failed %d of %d; want some of each", first.Removed, first.Failed, first.Matched)
	}
	var failed []string
	now := e.Lists()
	notRemoved := strings.Join(first.NotRemoved(), "\n")
	for _, x := range first.Entries {
		key := x.SendingDomain + " " + x.List + " " + x.Address
		_, listed := now[key]
		switch x.Result {
		case maildiag.AuditFailed:
			failed = append(failed, x.Address)
			if !strings.Contains(notRemoved, x.Address+" (") || x.Error == "" {
				t.Errorf("%s is not listed as not removed, or has no reason (%q)", x.Address, x.Error)
			}
			if !listed {
				t.Errorf("%s is reported not removed but is gone from the server", key)
			}
		case maildiag.AuditRemoved:
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

	if err := e.Srv.SetFaults(faults); err != nil {
		t.Fatal(err)
	}
	s2, db2 := e.session(t)
	second, err := e.remove(t, s2, db2, "*@acme.com", notByUnsub)
	if err != nil || second.Matched != len(failed) || second.Removed != len(failed) {
		t.Errorf("%v: second run matched %d, removed %d; want the %d left over", err, second.Matched, second.Removed, len(failed))
	}
	if d := e.Lists().Diff(want); d != "" {
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
	e := newEnv(t, false)
	before := e.Lists()
	s, db := e.session(t)
	res, err := e.remove(t, s, db, "acme.com", allLists)
	if err != nil {
		t.Fatal(err)
	}
	if d := e.Lists().Diff(before.Without(mgtest.AtAcme(""))); d != "" {
		t.Fatalf("removal did not take acme.com off every list:\n%s", d)
	}
	if len(res.Backups) != 3 {
		t.Fatalf("backups %+v: want one per list", res.Backups)
	}
	for round := 1; round <= 2; round++ {
		var files []*remedy.RestoreFile
		for _, b := range res.Backups {
			f, err := remedy.ReadBackup(context.Background(), b.File, "", openFile(b.File))
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, f)
		}
		rr, err := s.Restore(context.Background(), files)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, f := range rr.Files {
			n += f.Restored
		}
		if n != res.Matched || len(rr.Entries) != n {
			t.Errorf("restore %d: restored %d (%d entries), want %d", round, n, len(rr.Entries), res.Matched)
		}
		if d := e.Lists().Diff(before); d != "" {
			t.Errorf("after restore %d the server's lists differ from the original:\n%s", round, d)
		}
	}
	// The index shows them listed again.
	p, _ := analyze.ParsePattern("acme.com")
	diag, err := analyze.Suppressed(context.Background(), db, p, analyze.SuppressedOptions{})
	if err != nil {
		t.Fatal(err)
	}
	listed := 0
	for _, a := range diag.Addresses {
		if a.State == analyze.StateListed {
			listed++
		}
	}
	if listed != res.Matched {
		t.Errorf("after restore the index shows %d listed at acme.com, want %d", listed, res.Matched)
	}
	rows := audit(t, db, maildiag.AuditRestore)
	if len(rows) != 2*res.Matched || rows[0].Result != maildiag.AuditRestored || rows[0].BackupFile == "" {
		t.Errorf("audit of restores: %d rows (first %+v), want %d restored rows naming the file", len(rows), rows[0], 2*res.Matched)
	}
	mgtest.CheckNoKey(t, filepath.Dir(e.db))
}

// What cannot be restored is refused before anything is.
func TestReadBackupRefuses(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	named := write("mg.example.com_bounces_20261120T091500Z.csv", "address,code,error,created_at\na@acme.com,550,no,\"Thu, 11 Dec 2025 01:49:40 UTC\"\n")
	for _, c := range []struct {
		path, sd string
		check    func(error) bool
	}{
		{write("bounces.csv", "address,code,error,created_at\n"), "", func(err error) bool { return errors.Is(err, remedy.ErrNoSendingDomain) }},
		{named, "other.example.com", func(err error) bool {
			var m *remedy.DomainMismatchError
			return errors.As(err, &m) && m.Named == "mg.example.com" && m.Given == "other.example.com"
		}},
		{write("mg.example.com_complaints_20261120T091500Z.csv", "address,code,error,created_at\na@acme.com,550,no,\n"), "", func(err error) bool {
			return err != nil && strings.Contains(err.Error(), "the file name says complaints, its columns are those of bounces")
		}},
		{write("events.jsonl", `{"event":"delivered","id":"x","timestamp":1700000000,"recipient":"a@acme.com"}`+"\n"), "mg.example.com", func(err error) bool {
			return err != nil && strings.Contains(err.Error(), "holds events")
		}},
	} {
		if _, err := remedy.ReadBackup(context.Background(), c.path, c.sd, openFile(c.path)); !c.check(err) {
			t.Errorf("%s: %v", filepath.Base(c.path), err)
		}
	}
	if f, err := remedy.ReadBackup(context.Background(), named, "mg.example.com", openFile(named)); err != nil || f.List != maildiag.ListBounces || f.Entries != 1 {
		t.Errorf("a good backup: %+v, %v", f, err)
	}
}

// Without synced lists the suppressions come from the event log, which
// keeps showing them after removal: the audit tells the next plan that
// they are gone.
func TestRemoveFromEventLogOnly(t *testing.T) {
	e := newEnv(t, true)
	s, db := e.session(t)
	policy := remedy.RemoveFilter{Lists: remedy.DefaultLists, Classes: []string{"policy-block"}}
	res, err := e.remove(t, s, db, "*@acme.com", policy)
	block := e.Block()
	if err != nil || res.Removed != len(block.Addresses) {
		t.Fatalf("%v: removed %d, want the block's %d", err, res.Removed, len(block.Addresses))
	}
	lists := e.Lists()
	for _, x := range res.Entries {
		if x.Source != analyze.FromEvents {
			t.Errorf("%s: source %q, want the event log", x.Address, x.Source)
		}
		if _, listed := lists[x.SendingDomain+" bounces "+x.Address]; listed {
			t.Errorf("%s is still on the server", x.Address)
		}
	}
	again := e.plan(t, db, "*@acme.com", policy)
	if again.Matched != 0 || again.Skipped != len(block.Addresses) {
		t.Errorf("plan after removal: matched %d, skipped %d; want none matched and the block's %d skipped", again.Matched, again.Skipped, len(block.Addresses))
	}
}
