package main

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/index"
	"github.com/maildiag/maildiag/mgserver"
	"github.com/maildiag/maildiag/syncer"
	"github.com/maildiag/maildiag/synth"
)

var threeDomains = []string{"mg.brightcart.io", "mail.ledgerly.com", "notify.tripnest.co"}

func TestSyncAccountExactly(t *testing.T) {
	e := newSyncEnv(t, syncConfig(12000, threeDomains...), mgserver.Options{})
	db := tempDB(t)
	now := e.res.End
	code, sum, errs := e.sync(t, db, now, "--since", "8d")
	if code != 0 {
		t.Fatalf("sync: exit %d: %s", code, errs)
	}
	if strings.Contains(errs, "warning") {
		t.Errorf("unexpected warning: %s", errs)
	}
	sameEvents(t, "first sync", db, e.serverKeys(t, nil))
	if len(sum.Domains) != 3 || sum.Source != "events" {
		t.Fatalf("summary of %d domains from %q, want 3 from events", len(sum.Domains), sum.Source)
	}
	wantTo := now.Add(-30 * time.Minute)
	for _, d := range sum.Domains {
		n := len(e.acct.Events(d.Domain))
		if d.EventsNew != n || d.EventsRead != n || d.EventsSeenAgain != 0 || d.Rejects != 0 {
			t.Errorf("%s: read %d, new %d, seen again %d, rejects %d; want %d new", d.Domain, d.EventsRead, d.EventsNew, d.EventsSeenAgain, d.Rejects, n)
		}
		if d.Pages < n/300 || d.Windows < 2 || d.Error != "" {
			t.Errorf("%s: %d pages in %d windows (error %q), want at least %d pages and several windows", d.Domain, d.Pages, d.Windows, d.Error, n/300)
		}
		if len(d.SyncedRanges) != 1 || !d.SyncedRanges[0].From.Equal(now.Add(-8*24*time.Hour)) || !d.SyncedRanges[0].To.Equal(wantTo) {
			t.Errorf("%s: synced ranges %v, want one from 8 days back to 30 minutes before the sync", d.Domain, d.SyncedRanges)
		}
		lists := map[string]int{}
		for _, l := range d.Suppressions {
			if !l.Complete {
				t.Errorf("%s: %s not complete", d.Domain, l.List)
			}
			lists[l.List] = l.Read
		}
		want := map[string]int{maildiag.ListBounces: len(e.acct.Bounces(d.Domain)), maildiag.ListUnsubscribes: len(e.acct.Unsubscribes(d.Domain)),
			maildiag.ListComplaints: len(e.acct.Complaints(d.Domain)), maildiag.ListAllowlist: len(e.acct.Allowlist(d.Domain))}
		for l, n := range want {
			if lists[l] != n {
				t.Errorf("%s: %s read %d, server has %d", d.Domain, l, lists[l], n)
			}
		}
	}
	if e.maxInFlight < 2 {
		t.Errorf("at most %d request in flight: the windows were not paged in parallel", e.maxInFlight)
	}

	// Ten minutes later only the late-event tail and the new minutes are read.
	later := now.Add(10 * time.Minute)
	sum = e.mustSync(t, db, later, "--since", "8d", "--no-suppressions")
	for _, d := range sum.Domains {
		if d.EventsNew != 0 || d.FetchedFrom == nil || !d.FetchedFrom.Equal(wantTo) || d.Requests > 10 {
			t.Errorf("%s: second sync stored %d new, fetched from %v in %d requests; want 0 new, from %s, a few requests",
				d.Domain, d.EventsNew, d.FetchedFrom, d.Requests, wantTo)
		}
		if n := len(d.SyncedRanges); n != 1 || !d.SyncedRanges[0].To.Equal(later.Add(-30*time.Minute)) {
			t.Errorf("%s: synced ranges %v after the second sync", d.Domain, d.SyncedRanges)
		}
		if d.Suppressions != nil {
			t.Errorf("%s: --no-suppressions read %d lists", d.Domain, len(d.Suppressions))
		}
	}
	sameEvents(t, "second sync", db, e.serverKeys(t, nil))
}

func TestSyncPicksUpLateEvents(t *testing.T) {
	const delay = 25 * time.Minute
	e := newSyncEnv(t, syncConfig(8000, threeDomains[:2]...), mgserver.Options{LateFraction: 0.5, LateDelay: delay, Seed: 9})
	db := tempDB(t)
	t0 := e.res.End.Add(-3 * time.Hour)
	e.clock.Set(t0)
	first := e.mustSync(t, db, t0, "--since", "8d", "--no-suppressions")
	got, _ := indexKeys(t, db)
	settled := e.serverKeys(t, func(ev *mgserver.Event) bool { return ev.Time <= t0.Add(-delay).UnixMicro() })
	for k := range settled {
		if got[k] == 0 {
			t.Fatalf("event %v older than the late delay is missing after the first sync", k)
		}
	}
	recent := e.serverKeys(t, func(ev *mgserver.Event) bool {
		return ev.Time > t0.Add(-delay).UnixMicro() && ev.Time <= t0.UnixMicro()
	})
	late := 0
	for k := range recent {
		if got[k] == 0 {
			late++
		}
	}
	if late == 0 {
		t.Fatalf("no late event was hidden from the first sync (%d recent events): the test proves nothing", len(recent))
	}
	for _, d := range first.Domains {
		if to := d.SyncedRanges[len(d.SyncedRanges)-1].To; !to.Equal(t0.Add(-30 * time.Minute)) {
			t.Errorf("%s: synced to %s, want the late threshold before the sync, %s", d.Domain, to, t0.Add(-30*time.Minute))
		}
	}

	// Later, the late events have arrived inside ranges already read.
	t1 := e.res.End.Add(time.Hour)
	e.clock.Set(t1)
	second := e.mustSync(t, db, t1, "--since", "8d", "--no-suppressions")
	sameEvents(t, "after the late events arrived", db, e.serverKeys(t, nil))
	newTotal := 0
	for _, d := range second.Domains {
		newTotal += d.EventsNew
	}
	future := len(e.serverKeys(t, func(ev *mgserver.Event) bool { return ev.Time > t0.UnixMicro() }))
	if newTotal != late+future {
		t.Errorf("second sync stored %d new events, want the %d late ones and the %d after the first sync", newTotal, late, future)
	}
}

func TestSyncThroughFaults(t *testing.T) {
	e := newSyncEnv(t, syncConfig(9000, threeDomains...), mgserver.Options{Seed: 4})
	want := e.serverKeys(t, nil)
	events := func(r *http.Request) bool { return strings.Contains(r.URL.Path, "/events") }

	t.Run("429 storm", func(t *testing.T) {
		if err := e.srv.SetFaults(mgserver.Faults{RateLimit: mgserver.FaultRule{First: 16}, RateLimitReset: 700 * time.Millisecond,
			Latency: 5 * time.Millisecond, Filter: events}); err != nil {
			t.Fatal(err)
		}
		before := len(e.log())
		db := tempDB(t)
		sum := e.mustSync(t, db, e.res.End, "--since", "8d", "--no-suppressions")
		sameEvents(t, "after a 429 storm", db, want)
		var limited int64
		for _, d := range sum.Domains {
			limited += d.RateLimited
		}
		if limited != 16 {
			t.Errorf("summary counts %d 429s, want 16", limited)
		}
		if n := checkHeld(t, e.log()[before:], 200*time.Millisecond); n != 16 {
			t.Errorf("%d 429s in the server log, want 16", n)
		}
	})
	t.Run("5xx, cut bodies, dropped connections", func(t *testing.T) {
		if err := e.srv.SetFaults(mgserver.Faults{
			ServerError: mgserver.FaultRule{Every: 6, Burst: 3, Limit: 24},
			Truncate:    mgserver.FaultRule{Every: 7, Limit: 8},
			Drop:        mgserver.FaultRule{Every: 9, Limit: 8},
		}); err != nil {
			t.Fatal(err)
		}
		stats := e.srv.Stats()
		db := tempDB(t)
		sum := e.mustSync(t, db, e.res.End, "--since", "8d")
		sameEvents(t, "through 5xx, cut bodies and drops", db, want)
		after := e.srv.Stats()
		if after.ServerErrors == stats.ServerErrors || after.Truncated == stats.Truncated || after.Dropped == stats.Dropped {
			t.Fatalf("faults injected: %d 5xx, %d cut, %d dropped: want some of each", after.ServerErrors-stats.ServerErrors,
				after.Truncated-stats.Truncated, after.Dropped-stats.Dropped)
		}
		var retries int64
		for _, d := range sum.Domains {
			retries += d.Retries
			for _, l := range d.Suppressions {
				if !l.Complete {
					t.Errorf("%s %s incomplete through faults", d.Domain, l.List)
				}
			}
		}
		if retries == 0 {
			t.Error("summary counts no retries")
		}
	})
	t.Run("gives up, keeps what it read", func(t *testing.T) {
		// Every events request after 15 more pages fails for good.
		base := e.srv.Stats().EventPages
		if err := e.srv.SetFaults(mgserver.Faults{ServerError: mgserver.FaultRule{Fraction: 1}, MaxRun: 1 << 30, Filter: func(r *http.Request) bool {
			return events(r) && e.srv.Stats().EventPages >= base+15
		}}); err != nil {
			t.Fatal(err)
		}
		db := tempDB(t)
		code, sum, errs := e.sync(t, db, e.res.End, "--since", "8d", "--no-suppressions", "--retries", "2", "--workers", "2")
		if code != exitFailure || !strings.Contains(errs, "gave up after 3 attempts") || !strings.Contains(errs, "run sync again") {
			t.Fatalf("exit %d, stderr %q: want 3 and a message that it gave up", code, errs)
		}
		got, rows := indexKeys(t, db)
		if rows == 0 || rows >= len(want) || sum == nil {
			t.Fatalf("%d events kept of %d", rows, len(want))
		}
		for k := range got {
			if want[k] == 0 {
				t.Fatalf("kept an event the server does not have: %v", k)
			}
		}
		e.srv.SetFaults(mgserver.Faults{})
		e.mustSync(t, db, e.res.End, "--since", "8d", "--no-suppressions")
		sameEvents(t, "resumed after giving up", db, want)
	})
}

func TestSyncLogsEqualsEvents(t *testing.T) {
	e := newSyncEnv(t, syncConfig(6000, threeDomains[:2]...), mgserver.Options{})
	viaEvents, viaLogs := tempDB(t), tempDB(t)
	e.mustSync(t, viaEvents, e.res.End, "--since", "8d", "--no-suppressions")
	sum := e.mustSync(t, viaLogs, e.res.End, "--since", "8d", "--no-suppressions", "--source", "logs")
	if e.srv.Stats().LogPages == 0 || sum.Source != "logs" {
		t.Fatal("no Logs API pages read")
	}
	ev, _ := indexKeys(t, viaEvents)
	sameEvents(t, "Logs API", viaLogs, ev)
	sameEvents(t, "Events API", viaEvents, e.serverKeys(t, nil))
	for _, d := range sum.Domains {
		if len(d.SyncedRanges) != 1 {
			t.Errorf("%s: logs synced ranges %v", d.Domain, d.SyncedRanges)
		}
	}
	// The sources' ranges are kept apart: an events sync after a logs
	// sync reads everything again, storing nothing new.
	again := e.mustSync(t, viaLogs, e.res.End, "--since", "8d", "--no-suppressions")
	for _, d := range again.Domains {
		if d.EventsNew != 0 || d.EventsSeenAgain != len(e.acct.Events(d.Domain)) {
			t.Errorf("%s: events after logs: %d new, %d seen again", d.Domain, d.EventsNew, d.EventsSeenAgain)
		}
	}
}

func TestSyncWrongKey(t *testing.T) {
	e := newSyncEnv(t, syncConfig(1000, threeDomains[:1]...), mgserver.Options{})
	const wrong = "key-WRONG-0123456789abcdef"
	db := tempDB(t)
	code, out, errs := run(t, "", "--db", db, "sync", "--api-base", e.hs.URL, "--api-key", wrong)
	host := strings.TrimPrefix(e.hs.URL, "http://")
	if code != exitFailure || !strings.Contains(errs, "401 from "+host+": bad API key, or the domain is in the other region (try --region eu)") {
		t.Fatalf("exit %d, stderr %q: want 3 and the region hint", code, errs)
	}
	if strings.Contains(out+errs, wrong) {
		t.Fatal("the key is in the output")
	}
	if n := e.srv.Stats().Unauthorized; n != 1 {
		t.Errorf("%d refused requests, want 1 (a 401 is not retried)", n)
	}
	code, _, errs = run(t, "", "--db", db, "sync", "--region", "eu", "--api-base", e.hs.URL, "--api-key", wrong, "--domain", threeDomains[0])
	if code != exitFailure || !strings.Contains(errs, "try --region eu") {
		// --api-base wins over --region: the hint still names the other region.
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
}

func TestSyncUnknownDomain(t *testing.T) {
	e := newSyncEnv(t, syncConfig(1000, threeDomains[:1]...), mgserver.Options{})
	code, _, errs := e.sync(t, tempDB(t), e.res.End, "--domain", "nosuch.example.com", "--domain", threeDomains[0])
	if code != exitFailure || !strings.Contains(errs, "nosuch.example.com") || !strings.Contains(errs, "--region") {
		t.Fatalf("exit %d, stderr %q: want 3 naming the domain", code, errs)
	}
}

func TestSyncSuppressionSnapshots(t *testing.T) {
	e := newSyncEnv(t, syncConfig(6000, threeDomains[:2]...), mgserver.Options{})
	dom := threeDomains[0]
	db := tempDB(t)
	t1 := e.res.End
	e.mustSync(t, db, t1, "--since", "8d", "--domain", dom)
	victim := e.acct.Bounces(dom)[0]
	if ok, err := e.acct.Delete(dom, mgserver.Bounces, victim.Address); !ok || err != nil {
		t.Fatalf("delete %s: %v %v", victim.Address, ok, err)
	}
	state := func() (live, removed []int64) {
		t.Helper()
		rows := queryJSON(t, db, `SELECT removed_at FROM suppressions_full WHERE sending_domain = '`+dom+`' AND list = 'bounces' AND address = '`+victim.Address+`' ORDER BY created_at`)
		for _, r := range rows {
			if r["removed_at"] == nil {
				live = append(live, 0)
			} else {
				removed = append(removed, int64(r["removed_at"].(float64)))
			}
		}
		return live, removed
	}

	t2 := t1.Add(time.Hour)
	sum := e.mustSync(t, db, t2, "--since", "8d", "--domain", dom)
	if live, removed := state(); len(live) != 0 || len(removed) != 1 || removed[0] != t2.UnixMicro() {
		t.Fatalf("after the delete: %d live rows, removed at %v; want one removed at %d", len(live), removed, t2.UnixMicro())
	}
	if l := findList(sum, dom, maildiag.ListBounces); l == nil || l.Removed != 1 || l.New != 0 {
		t.Fatalf("bounces summary %+v, want 1 removed, 0 new", l)
	}

	readded := victim
	readded.CreatedAt = t2.Add(10 * time.Minute).Truncate(time.Second)
	if err := e.acct.AddBounce(dom, readded); err != nil {
		t.Fatal(err)
	}
	t3 := t2.Add(time.Hour)
	sum = e.mustSync(t, db, t3, "--since", "8d", "--domain", dom)
	if live, removed := state(); len(live) != 1 || len(removed) != 1 {
		t.Fatalf("after re-adding: %d live rows, %d removed; want the history and a live entry", len(live), len(removed))
	}
	if l := findList(sum, dom, maildiag.ListBounces); l == nil || l.Removed != 0 || l.New != 1 || l.Read != len(e.acct.Bounces(dom)) {
		t.Fatalf("bounces summary %+v, want 1 new of %d", l, len(e.acct.Bounces(dom)))
	}
	other := queryJSON(t, db, `SELECT COUNT(*) AS n FROM suppressions_full WHERE removed_at IS NOT NULL AND address != '`+victim.Address+`'`)
	if n := other[0]["n"].(float64); n != 0 {
		t.Errorf("%v other entries marked removed", n)
	}
}

func findList(sum *syncer.Summary, domain, list string) *syncer.ListResult {
	for _, d := range sum.Domains {
		if d.Domain == domain {
			for _, l := range d.Suppressions {
				if l.List == list {
					return l
				}
			}
		}
	}
	return nil
}

func TestSyncRetentionWarning(t *testing.T) {
	e := newSyncEnv(t, syncConfig(1000, threeDomains[:1]...), mgserver.Options{})
	code, _, errs := e.sync(t, tempDB(t), e.res.End, "--since", "45d", "--no-suppressions")
	if code != 0 || !strings.Contains(errs, "warning: --since 45d reaches back") || !strings.Contains(errs, "--retention") {
		t.Fatalf("exit %d, stderr %q: want a retention warning", code, errs)
	}
	code, _, errs = e.sync(t, tempDB(t), e.res.End, "--since", "45d", "--retention", "60d", "--no-suppressions")
	if code != 0 || strings.Contains(errs, "warning") {
		t.Fatalf("exit %d, stderr %q: want no warning within --retention", code, errs)
	}
}

func TestSyncKeyNeverLeaks(t *testing.T) {
	e := newSyncEnv(t, syncConfig(3000, threeDomains[:2]...), mgserver.Options{Faults: mgserver.Faults{
		ServerError: mgserver.FaultRule{Every: 6}, RateLimit: mgserver.FaultRule{Every: 9}, RateLimitReset: 50 * time.Millisecond,
	}})
	dir := t.TempDir()
	db := filepath.Join(dir, "index.db")
	var outputs []string
	t.Setenv("MG_API_KEY", syncKey)
	for _, args := range [][]string{
		{"sync", "--api-base", e.hs.URL, "--since", "8d"},
		{"--output", "json", "sync", "--api-base", e.hs.URL, "--since", "8d"},
		{"--output", "csv", "sync", "--api-base", e.hs.URL, "--domain", "nosuch.example.com"},
		{"sync", "--api-base", e.hs.URL, "--api-key", syncKey, "--domain", threeDomains[0], "--source", "logs", "--since", "8d"},
		{"sync", "--api-base", "http://127.0.0.1:1", "--retries", "1", "--timeout", "1s"},
	} {
		_, out, errs := run(t, "", append([]string{"--db", db, "--now", e.res.End.Format(time.RFC3339)}, args...)...)
		outputs = append(outputs, out, errs)
	}
	for _, o := range outputs {
		if strings.Contains(o, syncKey) {
			t.Fatalf("the key is in the output: %q", o)
		}
	}
	files, _ := filepath.Glob(filepath.Join(dir, "index.db*"))
	if len(files) == 0 {
		t.Fatal("no index files")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), syncKey) {
			t.Fatalf("the key is in %s", f)
		}
	}
	sameEvents(t, "synced with the key from MG_API_KEY", db, e.serverKeys(t, nil))
}

func TestSyncWatchUntilInterrupted(t *testing.T) {
	e := newSyncEnv(t, syncConfig(3000, threeDomains[:1]...), mgserver.Options{})
	db := tempDB(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		// Stop once a second pass is reading events: each pass lists the
		// domains in two pages (the second one empty).
		for e.srv.Stats().DomainPages < 4 && ctx.Err() == nil {
			time.Sleep(5 * time.Millisecond)
		}
		pages := e.srv.Stats().EventPages
		for e.srv.Stats().EventPages == pages && ctx.Err() == nil {
			time.Sleep(5 * time.Millisecond)
		}
		cancel()
	}()
	var out, errb strings.Builder
	code := Run(ctx, []string{"--db", db, "--now", e.res.End.Format(time.RFC3339), "sync", "--api-base", e.hs.URL, "--api-key", syncKey,
		"--since", "8d", "--watch", "--interval", "1s"}, strings.NewReader(""), &out, &errb)
	if code != 0 {
		t.Fatalf("watch interrupted: exit %d: %s", code, errb.String())
	}
	if n := strings.Count(out.String(), "mg.brightcart.io"); n < 2 {
		t.Errorf("%d summaries printed, want one per pass", n)
	}
	sameEvents(t, "watched", db, e.serverKeys(t, nil))
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

// Ensure the index records the sync ranges it reports.
func TestSyncRangesInIndex(t *testing.T) {
	e := newSyncEnv(t, synth.Config{Seed: 2, Events: 2000, Days: 3, End: syncEnd, NoStories: true, SendingDomains: threeDomains[:1]}, mgserver.Options{})
	db := tempDB(t)
	e.mustSync(t, db, e.res.End, "--since", "2d", "--no-suppressions", "--source", "logs")
	ix, err := index.OpenReadOnly(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	rs, err := ix.SyncedRanges(context.Background(), threeDomains[0], "logs")
	if err != nil {
		t.Fatal(err)
	}
	want := maildiag.Range{FromUS: e.res.End.Add(-48 * time.Hour).UnixMicro(), ToUS: e.res.End.Add(-30 * time.Minute).UnixMicro()}
	if len(rs) != 1 || rs[0] != want {
		t.Fatalf("synced ranges %v, want %v", rs, want)
	}
	if other, _ := ix.SyncedRanges(context.Background(), threeDomains[0], "events"); len(other) != 0 {
		t.Errorf("events ranges %v after a logs sync", other)
	}
}
