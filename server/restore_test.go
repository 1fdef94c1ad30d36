package server

import (
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/maildiag/maildiag"
)

// writeBackup writes a backup as a removal names it into the server's
// backup directory, and returns its name.
func writeBackup(t *testing.T, ts *testServer, sd, list, csv string) string {
	t.Helper()
	dir := ts.BackupDir
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	name := sd + "_" + list + "_20261119T100000Z.csv"
	if err := os.WriteFile(filepath.Join(dir, name), []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	return name
}

// restoreAnswer is the JSON of a restore answer, as a client reads it.
type restoreAnswer struct {
	DryRun bool `json:"dry_run"`
	Files  []struct {
		File     string `json:"file"`
		List     string `json:"list"`
		Entries  int    `json:"entries"`
		Restored int    `json:"restored"`
		Failed   int    `json:"failed"`
	} `json:"files"`
	Entries []struct {
		Address string `json:"address"`
		Result  string `json:"result"`
	} `json:"entries"`
}

// What an agent's removal of acme.com's bounces took away, the agent puts
// back through the API: a dry run first (nothing changes at Mailgun), then
// for real: the lists are as before the removal, codes and creation times
// included, the index lists the addresses again, and the audit names the
// agent for every entry.
func TestRestoreAfterRemove(t *testing.T) {
	for _, e := range engines {
		t.Run(e, func(t *testing.T) { restoreAfterRemove(t, e) })
	}
}

func restoreAfterRemove(t *testing.T, engine string) {
	s := newStoryServerOn(t, engine)
	before := s.mg.Lists()
	agent := s.tokens["agent"]
	code, body := s.do(t, "POST", "/api/v1/suppressions/remove", agent, RemoveRequest{Pattern: "*@acme.com", Yes: true})
	var rm struct {
		Removed int `json:"removed"`
		Backups []struct {
			File string `json:"file"`
		} `json:"backups"`
	}
	if err := json.Unmarshal(body, &rm); code != 200 || err != nil || rm.Removed == 0 || len(rm.Backups) == 0 {
		t.Fatalf("remove: %d %s", code, truncate(body))
	}
	removed := s.mg.Lists()
	if n := len(before) - len(removed); n != rm.Removed {
		t.Fatalf("the removal took %d entries off the lists, it says %d", n, rm.Removed)
	}
	var backups []string
	for i, b := range rm.Backups {
		// The remove answer's path and the bare name both name a backup.
		if i%2 == 1 {
			backups = append(backups, filepath.Base(b.File))
		} else {
			backups = append(backups, b.File)
		}
	}

	code, body = s.do(t, "POST", "/api/v1/suppressions/restore", agent, RestoreRequest{Backups: backups})
	var dry restoreAnswer
	if err := json.Unmarshal(body, &dry); code != 200 || err != nil || !dry.DryRun || len(dry.Entries) != rm.Removed {
		t.Fatalf("restore dry run: %d %s, want %d entries in a dry run", code, truncate(body), rm.Removed)
	}
	for _, e := range dry.Entries {
		if e.Result != maildiag.AuditDryRun {
			t.Errorf("dry run entry %+v", e)
		}
	}
	if d := s.mg.Lists().Diff(removed); d != "" {
		t.Fatalf("a dry run changed the lists:\n%s", d)
	}

	code, body = s.do(t, "POST", "/api/v1/suppressions/restore", agent, RestoreRequest{Backups: backups, Yes: true})
	var done restoreAnswer
	if err := json.Unmarshal(body, &done); code != 200 || err != nil || done.DryRun || len(done.Entries) != rm.Removed {
		t.Fatalf("restore: %d %s", code, truncate(body))
	}
	restored := 0
	for _, f := range done.Files {
		restored += f.Restored
		if f.Failed != 0 {
			t.Errorf("file %+v: failures", f)
		}
	}
	if restored != rm.Removed {
		t.Errorf("%d restored, want %d", restored, rm.Removed)
	}
	if d := s.mg.Lists().Diff(before); d != "" {
		t.Errorf("after the restore the lists differ from before the removal:\n%s", d)
	}

	// The index lists them again.
	code, body = s.do(t, "GET", "/api/v1/suppressed/"+url.PathEscape("*@acme.com")+"?list=bounces", s.tokens["viewer"], nil)
	if code != 200 || strings.Count(string(body), `"address"`) < rm.Removed {
		t.Errorf("suppressed after the restore: %d, want the %d addresses listed again\n%s", code, rm.Removed, truncate(body))
	}

	code, body = s.do(t, "GET", "/api/v1/audit", s.tokens["viewer"], nil)
	var audit []maildiag.AuditEntry
	if err := json.Unmarshal(body, &audit); code != 200 || err != nil {
		t.Fatalf("audit: %d %s", code, truncate(body))
	}
	counts := map[string]int{}
	for _, a := range audit {
		if a.Action != maildiag.AuditRestore {
			continue
		}
		counts[a.Result]++
		if a.User != "agent" || !strings.HasPrefix(a.Command, "maildiag serve: POST /api/v1/suppressions/restore") || a.BackupFile == "" {
			t.Errorf("audit %+v: want the agent, the request and the backup", a)
		}
	}
	if counts[maildiag.AuditDryRun] != rm.Removed || counts[maildiag.AuditRestored] != rm.Removed {
		t.Errorf("restores audited %v, want %d dry-run and %d restored", counts, rm.Removed, rm.Removed)
	}

	// Refusals: a file outside the backups, one that is not there.
	for _, c := range []struct {
		backup string
		want   int
	}{
		{s.Path, 400},
		{"/etc/passwd", 400},
		{"mg.example.com_bounces_20200101T000000Z.csv", 404},
	} {
		if code, body := s.do(t, "POST", "/api/v1/suppressions/restore", agent, RestoreRequest{Backups: []string{c.backup}}); code != c.want {
			t.Errorf("restore %s: %d %s, want %d", c.backup, code, body, c.want)
		}
	}
	noSecrets(t, s, nil)
}

// The UI: after a removal the domain page offers a restore button per
// backup; it is a dry run unless ticked, needs the CSRF token, and an
// agent may not restore complaints.
func TestUIRestore(t *testing.T) {
	s := newStoryServer(t)
	c := browser(t)
	if code, _ := logIn(t, c, s.URL, s.tokens["agent"]); code != 303 {
		t.Fatalf("log-in: %d", code)
	}
	_, page := get(t, c, s.URL+"/domain/acme.com")
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no CSRF field")
	}
	before := s.mg.Lists()
	code, page := postForm(t, c, s.URL+"/domain/acme.com/remove", url.Values{"list": {"bounces"}, "csrf": {m[1]}, "yes": {"true"}})
	if code != 200 || !strings.Contains(page, `action="/domain/acme.com/restore"`) {
		t.Fatalf("removal page: %d, want a restore form\n%.3000s", code, page)
	}
	bm := regexp.MustCompile(`name="backup" value="([^"]+)"`).FindStringSubmatch(page)
	if bm == nil {
		t.Fatalf("no backup in the restore form:\n%.3000s", page)
	}
	backup := bm[1]
	// The audit page lists the removal's backups with a restore button.
	code, page = get(t, c, s.URL+"/audit")
	if code != 200 || !strings.Contains(page, `id="backups"`) || !strings.Contains(page, `name="backup" value="`+backup+`"`) {
		t.Fatalf("audit page: %d, want the backup %s with a restore form\n%.3000s", code, backup, page)
	}
	code, page = postForm(t, c, s.URL+"/audit/restore", url.Values{"backup": {backup}, "csrf": {m[1]}})
	if code != 200 || !strings.Contains(page, "Dry run: nothing was changed") || !strings.Contains(page, "<td>restore</td>") {
		t.Fatalf("restore dry run from the audit page: %d, want the notice and the restore's audit rows\n%.3000s", code, page)
	}
	if code, _ := postForm(t, c, s.URL+"/domain/acme.com/restore", url.Values{"backup": {backup}}); code != 403 {
		t.Errorf("restore without the CSRF token: %d, want 403", code)
	}
	code, page = postForm(t, c, s.URL+"/domain/acme.com/restore", url.Values{"backup": {backup}, "csrf": {m[1]}})
	if code != 200 || !strings.Contains(page, "Dry run: would restore") || !strings.Contains(page, `id="restoration"`) {
		t.Fatalf("restore dry run page: %d\n%.3000s", code, page)
	}
	if d := s.mg.Lists().Diff(before); d == "" {
		t.Fatal("the removal changed nothing")
	}
	code, page = postForm(t, c, s.URL+"/domain/acme.com/restore", url.Values{"backup": {backup}, "csrf": {m[1]}, "yes": {"true"}})
	if code != 200 || !strings.Contains(page, "Restored") {
		t.Fatalf("restore page: %d\n%.3000s", code, page)
	}
	// One backup holds one sending domain's bounces: those are back.
	sd := strings.SplitN(backup, "_", 2)[0]
	if d := s.mg.Lists().Without(func(d, l, a string) bool { return d != sd }).Diff(before.Without(func(d, l, a string) bool { return d != sd })); d != "" {
		t.Errorf("after the restore %s's lists differ from before:\n%s", sd, d)
	}
	viewer := browser(t)
	if code, _ := logIn(t, viewer, s.URL, s.tokens["viewer"]); code != 303 {
		t.Fatalf("viewer's log-in: %d", code)
	}
	_, page = get(t, viewer, s.URL+"/audit")
	if vm := csrfField.FindStringSubmatch(page); vm == nil {
		t.Error("no CSRF field on the viewer's audit page")
	} else if code, _ := postForm(t, viewer, s.URL+"/audit/restore", url.Values{"backup": {backup}, "csrf": {vm[1]}}); code != 403 {
		t.Errorf("a viewer restores from the audit page: %d, want 403", code)
	}
	complaints := writeBackup(t, s.testServer, sd, "complaints", "address,created_at\nnobody@acme.com,\"Thu, 19 Nov 2026 10:00:00 UTC\"\n")
	if code, page := postForm(t, c, s.URL+"/domain/acme.com/restore", url.Values{"backup": {complaints}, "csrf": {m[1]}}); code != 403 || !strings.Contains(page, "need a lead") {
		t.Errorf("an agent restores complaints in the UI: %d, want 403\n%.2000s", code, page)
	}
}

// The restore clicked through in chromium: an agent removes acme.com's
// bounces, restores one backup from the domain page (a dry run, then for
// real), and the audit page lists the backup with its restore button.
func TestBrowserRestore(t *testing.T) {
	s := newStoryServer(t)
	b := newBrowser(t, s.URL)
	ctx := b.ctx
	before := s.mg.Lists()
	b.logIn(t, "/domain/"+url.PathEscape("*@acme.com"), s.tokens["agent"])
	if err := chromedp.Do(ctx,
		chromedp.WaitVisible(`#suppressed`),
		chromedp.SetValue(`select[name=list]`, "bounces"),
		chromedp.Click(`input[name=yes]`),
		chromedp.Click(`#remove`),
		chromedp.WaitVisible(`form.restore`),
	); err != nil {
		t.Fatalf("remove: %v", err)
	}
	removed := s.mg.Lists()
	if len(removed) >= len(before) {
		t.Fatalf("the removal took nothing off the lists (%d entries, %d before)", len(removed), len(before))
	}
	if err := chromedp.Do(ctx, chromedp.Click(`form.restore button`), chromedp.WaitVisible(`#restoration.dry-run`)); err != nil {
		t.Fatalf("restore dry run: %v", err)
	}
	b.shot(t, "restore-dry-run.png")
	if notice := b.text(t, `p.ok`); !strings.HasPrefix(notice, "Dry run") {
		t.Errorf("the restore's dry run says %q", notice)
	}
	if d := s.mg.Lists().Diff(removed); d != "" {
		t.Fatalf("a dry run changed the lists:\n%s", d)
	}
	// The dry-run page also has #restoration: wait for the page the click leads to.
	if err := chromedp.Do(ctx, chromedp.Click(`form.restore button`), chromedp.WaitVisible(`#restoration.done`)); err != nil {
		t.Fatalf("restore: %v", err)
	}
	b.shot(t, "restore.png")
	notice := b.text(t, `p.ok`)
	if !strings.HasPrefix(notice, "Restored ") || strings.HasPrefix(notice, "Restored 0,") || !strings.HasSuffix(notice, "failed 0.") {
		t.Errorf("the restore says %q", notice)
	}
	if after := s.mg.Lists(); len(after) <= len(removed) {
		t.Errorf("the lists have %d entries after the restore, %d after the removal", len(after), len(removed))
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(s.URL+"/audit"), chromedp.WaitVisible(`#backups`)); err != nil {
		t.Fatalf("audit page: %v", err)
	}
	b.shot(t, "audit-backups.png")
	if audit := b.text(t, `#audit`); !strings.Contains(audit, "restored") || !strings.Contains(audit, "dry-run") {
		t.Errorf("the audit page lacks the restore: %.500s", audit)
	}
	b.clean(t)
}
