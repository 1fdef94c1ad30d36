package main

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/maildiag/maildiag/internal/mgtest"
	"github.com/maildiag/maildiag/internal/testkit"
	"github.com/maildiag/maildiag/mgserver"
)

// The engine's tests are in package syncer; these are of the command: its
// flags, its words and its exit codes.

func TestSyncSummaryAndWarnings(t *testing.T) {
	s := mgtest.New(t, mgtest.Config(1000, mgtest.Domains[:1]...), mgserver.Options{})
	code, sum, errs := syncCmd(t, s, tempDB(t), s.Res.End, "--since", "8d")
	if code != 0 || strings.Contains(errs, "warning") || sum == nil || len(sum.Domains) != 1 || sum.Domains[0].EventsNew != len(s.Acct.Events(mgtest.Domains[0])) {
		t.Fatalf("exit %d, stderr %q, summary %+v: want 0, no warning, every event", code, errs, sum)
	}
	code, _, errs = syncCmd(t, s, tempDB(t), s.Res.End, "--since", "45d", "--no-suppressions")
	if code != 0 || !strings.Contains(errs, "warning: --since 45d reaches back") || !strings.Contains(errs, "--retention") {
		t.Fatalf("exit %d, stderr %q: want a retention warning", code, errs)
	}
	code, _, errs = syncCmd(t, s, tempDB(t), s.Res.End, "--since", "45d", "--retention", "60d", "--no-suppressions")
	if code != 0 || strings.Contains(errs, "warning") {
		t.Fatalf("exit %d, stderr %q: want no warning within --retention", code, errs)
	}
}

func TestSyncWrongKey(t *testing.T) {
	s := mgtest.New(t, mgtest.Config(1000, mgtest.Domains[:1]...), mgserver.Options{})
	const wrong = "key-WRONG-0123456789abcdef"
	db := tempDB(t)
	code, out, errs := run(t, "", "--db", db, "sync", "--api-base", s.URL, "--api-key", wrong)
	if code != exitFailure || !strings.Contains(errs, "401 from "+s.Host()+": bad API key, or the domain is in the other region (try --region eu)") {
		t.Fatalf("exit %d, stderr %q: want 3 and the region hint", code, errs)
	}
	if strings.Contains(out+errs, wrong) {
		t.Fatal("the key is in the output")
	}
	code, _, errs = run(t, "", "--db", db, "sync", "--region", "eu", "--api-base", s.URL, "--api-key", wrong, "--domain", mgtest.Domains[0])
	if code != exitFailure || !strings.Contains(errs, "try --region eu") {
		// --api-base wins over --region: the hint still names the other region.
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
}

func TestSyncUnknownDomain(t *testing.T) {
	s := mgtest.New(t, mgtest.Config(1000, mgtest.Domains[:1]...), mgserver.Options{})
	code, _, errs := syncCmd(t, s, tempDB(t), s.Res.End, "--domain", "nosuch.example.com", "--domain", mgtest.Domains[0])
	if code != exitFailure || !strings.Contains(errs, "nosuch.example.com") || !strings.Contains(errs, "--region") {
		t.Fatalf("exit %d, stderr %q: want 3 naming the domain", code, errs)
	}
}

// A domain that fails after its retries fails the command; the summary
// still comes, and says what to do.
func TestSyncGivesUp(t *testing.T) {
	s := mgtest.New(t, mgtest.Config(1000, mgtest.Domains[:1]...), mgserver.Options{Faults: mgserver.Faults{
		ServerError: mgserver.FaultRule{Fraction: 1}, MaxRun: 1 << 30,
		Filter: func(r *http.Request) bool { return strings.Contains(r.URL.Path, "/events") }}})
	code, sum, errs := syncCmd(t, s, tempDB(t), s.Res.End, "--since", "8d", "--no-suppressions", "--retries", "1", "--source", "events")
	if code != exitFailure || !strings.Contains(errs, "sync failed for 1 of 1 domains (what was read is committed; run sync again to resume)") ||
		!strings.Contains(errs, "gave up after 2 attempts") {
		t.Fatalf("exit %d, stderr %q: want 3 and a message that it gave up", code, errs)
	}
	if sum == nil || sum.Domains[0].Error == "" {
		t.Fatalf("summary %+v: want the domain's error", sum)
	}
}

func TestSyncKeyNeverLeaks(t *testing.T) {
	s := mgtest.New(t, mgtest.Config(3000, mgtest.Domains[:2]...), mgserver.Options{Faults: mgserver.Faults{
		ServerError: mgserver.FaultRule{Every: 6}, RateLimit: mgserver.FaultRule{Every: 9}, RateLimitReset: 50 * time.Millisecond,
	}})
	dir := t.TempDir()
	db := filepath.Join(dir, "index.db")
	var outputs []string
	t.Setenv("MG_API_KEY", mgtest.Key)
	for _, args := range [][]string{
		{"sync", "--api-base", s.URL, "--since", "8d"},
		{"--output", "json", "sync", "--api-base", s.URL, "--since", "8d"},
		{"--output", "csv", "sync", "--api-base", s.URL, "--domain", "nosuch.example.com"},
		{"sync", "--api-base", s.URL, "--api-key", mgtest.Key, "--domain", mgtest.Domains[0], "--source", "logs", "--since", "8d"},
		{"sync", "--api-base", "http://127.0.0.1:1", "--retries", "1", "--timeout", "1s"},
	} {
		_, out, errs := run(t, "", append([]string{"--db", db, "--now", s.Res.End.Format(time.RFC3339)}, args...)...)
		outputs = append(outputs, out, errs)
	}
	if files, _ := filepath.Glob(filepath.Join(dir, "index.db*")); len(files) == 0 {
		t.Fatal("no index files")
	}
	mgtest.CheckNoKey(t, dir, outputs...)
	testkit.SameEvents(t, "synced with the key from MG_API_KEY", db, testkit.EventKeys(t, s.Acct, nil))
}

func TestSyncWatchUntilInterrupted(t *testing.T) {
	s := mgtest.New(t, mgtest.Config(3000, mgtest.Domains[:1]...), mgserver.Options{})
	db := tempDB(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		// Stop once a second pass is reading events: each pass lists the
		// domains in two pages (the second one empty).
		for s.Srv.Stats().DomainPages < 4 && ctx.Err() == nil {
			time.Sleep(5 * time.Millisecond)
		}
		pages := s.Srv.Stats().LogPages
		for s.Srv.Stats().LogPages == pages && ctx.Err() == nil {
			time.Sleep(5 * time.Millisecond)
		}
		cancel()
	}()
	var out, errb strings.Builder
	code := Run(ctx, []string{"--db", db, "--now", s.Res.End.Format(time.RFC3339), "sync", "--api-base", s.URL, "--api-key", mgtest.Key,
		"--since", "8d", "--watch", "--interval", "1s"}, strings.NewReader(""), &out, &errb)
	if code != 0 {
		t.Fatalf("watch interrupted: exit %d: %s", code, errb.String())
	}
	if n := strings.Count(out.String(), "mg.brightcart.io"); n < 2 {
		t.Errorf("%d summaries printed, want one per pass", n)
	}
	testkit.SameEvents(t, "watched", db, testkit.EventKeys(t, s.Acct, nil))
}

func TestSyncFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--region", "ap"},
		{"--source", "webhooks"},
		{"--workers", "0"},
		{"--since", "yesterday"},
		{"--retention", "soon"},
		{"--output", "xml"},
		{"--watch", "--interval", "10ms"},
	} {
		all := append([]string{"--db", tempDB(t)}, "sync", "--api-key", "k")
		if args[0] == "--output" {
			all = append([]string{"--output", args[1]}, all...)
		} else {
			all = append(all, args...)
		}
		if code, _, errs := run(t, "", all...); code != exitUsage {
			t.Errorf("sync %v: exit %d (%s), want 2", args, code, errs)
		}
	}
	t.Setenv("MG_API_KEY", "")
	t.Setenv("MAILGUN_API_KEY", "")
	if code, _, errs := run(t, "", "--db", tempDB(t), "sync"); code != exitUsage || !strings.Contains(errs, "MG_API_KEY") {
		t.Errorf("no key: exit %d, %q", code, errs)
	}
}

// TestSyncWindowBounded: --window 1ms planned 10.4 million windows (3.4 GB)
// and with --since 1000d ran out of memory. A window under a minute is a
// usage error, and so is one that cuts --since into more windows than a
// pass plans; nothing is fetched.
func TestSyncWindowBounded(t *testing.T) {
	s := mgtest.New(t, mgtest.Config(1000, mgtest.Domains[:1]...), mgserver.Options{})
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--window", "1ms"}, "--window must be at least 1m0s (each window costs at least one request), not 1ms"},
		{[]string{"--window", "-5m"}, "--window must be at least 1m0s"},
		{[]string{"--window", "1m", "--since", "1000d"}, "windows, more than the 100000 a pass plans: use --window 15m0s or more, or a later --since"},
	} {
		start := time.Now()
		code, _, errs := syncCmd(t, s, tempDB(t), s.Res.End, append(tt.args, "--no-suppressions")...)
		if code != exitUsage || !strings.Contains(errs, tt.want) {
			t.Errorf("sync %v: exit %d, stderr %q; want 2 and %q", tt.args, code, errs, tt.want)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("sync %v took %s to refuse", tt.args, d)
		}
	}
	if st := s.Srv.Stats(); st.EventPages+st.LogPages != 0 {
		t.Errorf("%d event and %d log pages fetched, want none", st.EventPages, st.LogPages)
	}
}

// The Logs API is the default source; when it is refused and --source is
// not given, sync reads the Events API and says so; a refused list is a
// warning, and the exit status is 0.
func TestSyncSourcesAndRefusals(t *testing.T) {
	d0 := mgtest.Domains[0]
	s := mgtest.New(t, mgtest.Config(1000, d0), mgserver.Options{Faults: mgserver.Faults{Refuse: []mgserver.Refusal{
		{Path: "/v3/" + d0 + "/whitelists", Status: 403}}}})
	db := tempDB(t)
	code, sum, errs := syncCmd(t, s, db, s.Res.End, "--since", "8d")
	if code != 0 || sum == nil || sum.Source != "logs" || s.Srv.Stats().EventPages != 0 {
		t.Fatalf("exit %d, stderr %q, summary %+v: want 0 from the Logs API alone", code, errs, sum)
	}
	if len(sum.Warnings) != 1 || sum.Warnings[0].List != "allowlist" || sum.Warnings[0].Status != 403 {
		t.Errorf("warnings %+v, want the allowlist's 403", sum.Warnings)
	}
	testkit.SameEvents(t, "logs by default", db, testkit.EventKeys(t, s.Acct, nil))
	code, out, errs := run(t, "", "--db", tempDB(t), "--now", s.Res.End.Format(time.RFC3339), "sync", "--api-base", s.URL,
		"--api-key", mgtest.Key, "--since", "8d")
	if code != 0 || !strings.Contains(errs, "warning: allowlist of "+d0+" skipped: 403") || !strings.Contains(out, "mg.brightcart.io\tbounces") {
		t.Errorf("text output: exit %d, stdout %q, stderr %q: want the warning on stderr", code, out, errs)
	}

	if err := s.Srv.SetFaults(mgserver.Faults{Refuse: []mgserver.Refusal{{Path: "/v1/analytics/logs", Status: 404}}}); err != nil {
		t.Fatal(err)
	}
	db = tempDB(t)
	code, sum, errs = syncCmd(t, s, db, s.Res.End, "--since", "8d", "--no-suppressions")
	if code != 0 || sum == nil || sum.Source != "events" || !strings.Contains(sum.Note, "Logs API refused the account (404") {
		t.Fatalf("logs refused: exit %d, stderr %q, summary %+v: want 0 from the Events API with a note", code, errs, sum)
	}
	testkit.SameEvents(t, "events after the fallback", db, testkit.EventKeys(t, s.Acct, nil))
	code, sum, errs = syncCmd(t, s, tempDB(t), s.Res.End, "--since", "8d", "--no-suppressions", "--source", "logs")
	if code != exitFailure || !strings.Contains(errs, "404") {
		t.Errorf("--source logs refused: exit %d, stderr %q, summary %+v: want 3 naming the 404", code, errs, sum)
	}
}
