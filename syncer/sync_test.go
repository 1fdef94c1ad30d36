package syncer_test

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/index"
	"github.com/maildiag/maildiag/ingest"
	"github.com/maildiag/maildiag/internal/mgtest"
	"github.com/maildiag/maildiag/internal/testkit"
	"github.com/maildiag/maildiag/mgserver"
	"github.com/maildiag/maildiag/syncer"
	"github.com/maildiag/maildiag/synth"
)

func tempDB(t *testing.T) string { return filepath.Join(t.TempDir(), "index.db") }

func TestSyncAccountExactly(t *testing.T) {
	s := mgtest.New(t, mgtest.Config(12000, mgtest.Domains...), mgserver.Options{})
	db := tempDB(t)
	now := s.Res.End
	rec := &recorder{}
	sum, err := pass(t, s, db, now, options(), rec)
	if err != nil {
		t.Fatalf("sync: %v", err)
	}
	testkit.SameEvents(t, "first sync", db, testkit.EventKeys(t, s.Acct, nil))
	if len(sum.Domains) != 3 || sum.Source != "events" {
		t.Fatalf("summary of %d domains from %q, want 3 from events", len(sum.Domains), sum.Source)
	}
	if len(rec.plans) != 1 || len(rec.plans[0].Domains) != 3 || !rec.plans[0].Oldest.Equal(now.Add(-8*24*time.Hour)) || rec.plans[0].Lists != 4 {
		t.Errorf("plans %+v: want one of 3 domains, 4 lists each, missing from 8 days back", rec.plans)
	}
	wantTo := now.Add(-30 * time.Minute)
	for _, d := range sum.Domains {
		n := len(s.Acct.Events(d.Domain))
		if d.EventsNew != n || d.EventsRead != n || d.EventsSeenAgain != 0 || d.Rejects != 0 {
			t.Errorf("%s: read %d, new %d, seen again %d, rejects %d; want %d new", d.Domain, d.EventsRead, d.EventsNew, d.EventsSeenAgain, d.Rejects, n)
		}
		if d.Pages < n/300 || d.Windows < 2 || d.Error != "" {
			t.Errorf("%s: %d pages in %d windows (error %q), want at least %d pages and several windows", d.Domain, d.Pages, d.Windows, d.Error, n/300)
		}
		if len(d.SyncedRanges) != 1 || !d.SyncedRanges[0].From.Equal(now.Add(-8*24*time.Hour)) || !d.SyncedRanges[0].To.Equal(wantTo) {
			t.Errorf("%s: synced ranges %v, want one from 8 days back to 30 minutes before the sync", d.Domain, d.SyncedRanges)
		}
		if p := rec.last[d.Domain]; p.Share != 1 || p.EventsRead != n || p.EventsNew != n || p.ListsDone != 4 {
			t.Errorf("%s: last progress %+v, want all of its time, %d events and 4 lists", d.Domain, p, n)
		}
		lists := map[string]int{}
		for _, l := range d.Suppressions {
			if !l.Complete {
				t.Errorf("%s: %s not complete", d.Domain, l.List)
			}
			lists[l.List] = l.Read
		}
		want := map[string]int{maildiag.ListBounces: len(s.Acct.Bounces(d.Domain)), maildiag.ListUnsubscribes: len(s.Acct.Unsubscribes(d.Domain)),
			maildiag.ListComplaints: len(s.Acct.Complaints(d.Domain)), maildiag.ListAllowlist: len(s.Acct.Allowlist(d.Domain))}
		for l, n := range want {
			if lists[l] != n {
				t.Errorf("%s: %s read %d, server has %d", d.Domain, l, lists[l], n)
			}
		}
	}
	if s.MaxInFlight() < 2 {
		t.Errorf("at most %d request in flight: the windows were not paged in parallel", s.MaxInFlight())
	}
	if rec.ticks == 0 {
		t.Error("no ticks: the progress was never redrawn")
	}

	// Ten minutes later only the late-event tail and the new minutes are read.
	later := now.Add(10 * time.Minute)
	o := options()
	o.NoSuppressions = true
	sum = mustPass(t, s, db, later, o)
	for _, d := range sum.Domains {
		if d.EventsNew != 0 || d.FetchedFrom == nil || !d.FetchedFrom.Equal(wantTo) || d.Requests > 10 {
			t.Errorf("%s: second sync stored %d new, fetched from %v in %d requests; want 0 new, from %s, a few requests",
				d.Domain, d.EventsNew, d.FetchedFrom, d.Requests, wantTo)
		}
		if n := len(d.SyncedRanges); n != 1 || !d.SyncedRanges[0].To.Equal(later.Add(-30*time.Minute)) {
			t.Errorf("%s: synced ranges %v after the second sync", d.Domain, d.SyncedRanges)
		}
		if d.Suppressions != nil {
			t.Errorf("%s: NoSuppressions read %d lists", d.Domain, len(d.Suppressions))
		}
	}
	testkit.SameEvents(t, "second sync", db, testkit.EventKeys(t, s.Acct, nil))
}

func TestSyncPicksUpLateEvents(t *testing.T) {
	const delay = 25 * time.Minute
	s := mgtest.New(t, mgtest.Config(8000, mgtest.Domains[:2]...), mgserver.Options{LateFraction: 0.5, LateDelay: delay, Seed: 9})
	db := tempDB(t)
	o := options()
	o.NoSuppressions = true
	t0 := s.Res.End.Add(-3 * time.Hour)
	s.Clock.Set(t0)
	first := mustPass(t, s, db, t0, o)
	got, _ := testkit.IndexKeys(t, db)
	settled := testkit.EventKeys(t, s.Acct, func(ev *mgserver.Event) bool { return ev.Time <= t0.Add(-delay).UnixMicro() })
	for k := range settled {
		if got[k] == 0 {
			t.Fatalf("event %v older than the late delay is missing after the first sync", k)
		}
	}
	recent := testkit.EventKeys(t, s.Acct, func(ev *mgserver.Event) bool {
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
	t1 := s.Res.End.Add(time.Hour)
	s.Clock.Set(t1)
	second := mustPass(t, s, db, t1, o)
	testkit.SameEvents(t, "after the late events arrived", db, testkit.EventKeys(t, s.Acct, nil))
	newTotal := 0
	for _, d := range second.Domains {
		newTotal += d.EventsNew
	}
	future := len(testkit.EventKeys(t, s.Acct, func(ev *mgserver.Event) bool { return ev.Time > t0.UnixMicro() }))
	if newTotal != late+future {
		t.Errorf("second sync stored %d new events, want the %d late ones and the %d after the first sync", newTotal, late, future)
	}
}

func TestSyncThroughFaults(t *testing.T) {
	s := mgtest.New(t, mgtest.Config(9000, mgtest.Domains...), mgserver.Options{Seed: 4})
	want := testkit.EventKeys(t, s.Acct, nil)
	events := func(r *http.Request) bool { return strings.Contains(r.URL.Path, "/events") }
	noLists := options()
	noLists.NoSuppressions = true

	t.Run("429 storm", func(t *testing.T) {
		if err := s.Srv.SetFaults(mgserver.Faults{RateLimit: mgserver.FaultRule{First: 16}, RateLimitReset: 700 * time.Millisecond,
			Latency: 5 * time.Millisecond, Filter: events}); err != nil {
			t.Fatal(err)
		}
		before := len(s.Log())
		db := tempDB(t)
		sum := mustPass(t, s, db, s.Res.End, noLists)
		testkit.SameEvents(t, "after a 429 storm", db, want)
		var limited int64
		for _, d := range sum.Domains {
			limited += d.RateLimited
		}
		if limited != 16 {
			t.Errorf("summary counts %d 429s, want 16", limited)
		}
		if n := mgtest.CheckHeld(t, s.Log()[before:], 200*time.Millisecond); n != 16 {
			t.Errorf("%d 429s in the server log, want 16", n)
		}
	})
	t.Run("5xx, cut bodies, dropped connections", func(t *testing.T) {
		if err := s.Srv.SetFaults(mgserver.Faults{
			ServerError: mgserver.FaultRule{Every: 6, Burst: 3, Limit: 24},
			Truncate:    mgserver.FaultRule{Every: 7, Limit: 8},
			Drop:        mgserver.FaultRule{Every: 9, Limit: 8},
		}); err != nil {
			t.Fatal(err)
		}
		stats := s.Srv.Stats()
		db := tempDB(t)
		sum := mustPass(t, s, db, s.Res.End, options())
		testkit.SameEvents(t, "through 5xx, cut bodies and drops", db, want)
		after := s.Srv.Stats()
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
		base := s.Srv.Stats().EventPages
		if err := s.Srv.SetFaults(mgserver.Faults{ServerError: mgserver.FaultRule{Fraction: 1}, MaxRun: 1 << 30, Filter: func(r *http.Request) bool {
			return events(r) && s.Srv.Stats().EventPages >= base+15
		}}); err != nil {
			t.Fatal(err)
		}
		db := tempDB(t)
		o := noLists
		o.Workers = 2
		sum, err := passWith(t, testkit.Client(t, s.URL, mgtest.Key, 2), db, s.Res.End, o, nil)
		var failed *syncer.DomainsFailed
		if !errors.As(err, &failed) || len(failed.Errs) == 0 || !strings.Contains(err.Error(), "gave up after 3 attempts") || !syncer.Retryable(err) {
			t.Fatalf("error %v: want domains that gave up after 3 attempts, worth a retry", err)
		}
		for _, d := range sum.Domains {
			if d.Err != nil && d.Error != d.Err.Error() {
				t.Errorf("%s: error %q, want the text of %v", d.Domain, d.Error, d.Err)
			}
		}
		got, rows := testkit.IndexKeys(t, db)
		if rows == 0 || rows >= len(want) || sum == nil {
			t.Fatalf("%d events kept of %d", rows, len(want))
		}
		for k := range got {
			if want[k] == 0 {
				t.Fatalf("kept an event the server does not have: %v", k)
			}
		}
		s.Srv.SetFaults(mgserver.Faults{})
		mustPass(t, s, db, s.Res.End, noLists)
		testkit.SameEvents(t, "resumed after giving up", db, want)
	})
	t.Run("server dies: the pass stops within one page's retries", func(t *testing.T) {
		// 192 windows of an hour; after 15 pages every request fails for
		// good. Each remaining window spent its own retries, one after
		// another (230 s against a real server's back-off); once one
		// request has given up, the pass stops.
		base := s.Srv.Stats().EventPages
		if err := s.Srv.SetFaults(mgserver.Faults{ServerError: mgserver.FaultRule{Fraction: 1}, MaxRun: 1 << 30, Filter: func(r *http.Request) bool {
			return s.Srv.Stats().EventPages >= base+15
		}}); err != nil {
			t.Fatal(err)
		}
		defer s.Srv.SetFaults(mgserver.Faults{})
		before := s.Srv.Stats().ServerErrors
		db := tempDB(t)
		o := options()
		o.Workers, o.Window = 2, time.Hour
		const retries = 2
		sum, err := passWith(t, testkit.Client(t, s.URL, mgtest.Key, retries), db, s.Res.End, o, nil)
		// In flight when the first request gave up: one a worker, each
		// with its retries.
		failed := s.Srv.Stats().ServerErrors - before
		if !errors.Is(err, syncer.ErrServerDown) || !syncer.Retryable(err) {
			t.Fatalf("error %v (%d requests failed): want ErrServerDown, worth a retry", err, failed)
		}
		if limit := int64(o.Workers * (retries + 1)); failed > limit {
			t.Errorf("%d requests failed after the server died, want at most %d (one page's retries a worker)", failed, limit)
		}
		if sum == nil {
			t.Fatal("no summary")
		}
		stopped := 0
		for _, d := range sum.Domains {
			if d.Err == nil {
				continue
			}
			stopped++
			if !errors.Is(d.Err, syncer.ErrServerDown) {
				t.Errorf("%s: error %v, want ErrServerDown", d.Domain, d.Err)
			}
		}
		if stopped == 0 {
			t.Error("no domain says it was stopped")
		}
	})
}

func TestSyncLogsEqualsEvents(t *testing.T) {
	s := mgtest.New(t, mgtest.Config(6000, mgtest.Domains[:2]...), mgserver.Options{})
	viaEvents, viaLogs := tempDB(t), tempDB(t)
	o := options()
	o.NoSuppressions = true
	mustPass(t, s, viaEvents, s.Res.End, o)
	logs := o
	logs.Source = ingest.SourceLogs
	sum := mustPass(t, s, viaLogs, s.Res.End, logs)
	if s.Srv.Stats().LogPages == 0 || sum.Source != "logs" {
		t.Fatal("no Logs API pages read")
	}
	ev, _ := testkit.IndexKeys(t, viaEvents)
	testkit.SameEvents(t, "Logs API", viaLogs, ev)
	testkit.SameEvents(t, "Events API", viaEvents, testkit.EventKeys(t, s.Acct, nil))
	for _, d := range sum.Domains {
		if len(d.SyncedRanges) != 1 {
			t.Errorf("%s: logs synced ranges %v", d.Domain, d.SyncedRanges)
		}
	}
	// The sources' ranges are kept apart: an events sync after a logs
	// sync reads everything again, storing nothing new.
	again := mustPass(t, s, viaLogs, s.Res.End, o)
	for _, d := range again.Domains {
		if d.EventsNew != 0 || d.EventsSeenAgain != len(s.Acct.Events(d.Domain)) {
			t.Errorf("%s: events after logs: %d new, %d seen again", d.Domain, d.EventsNew, d.EventsSeenAgain)
		}
	}
}

// A refused key ends the pass at once, before any page, and is no reason
// to try again; so is a domain the account does not have.
func TestSyncRefusals(t *testing.T) {
	s := mgtest.New(t, mgtest.Config(1000, mgtest.Domains[:1]...), mgserver.Options{})
	sum, err := passWith(t, testkit.Client(t, s.URL, "key-WRONG-0123456789abcdef", 8), tempDB(t), s.Res.End, options(), nil)
	if !syncer.KeyRefused(err) || syncer.Retryable(err) || sum != nil {
		t.Fatalf("wrong key: %v (summary %v): want a refused key, not worth a retry, no summary", err, sum)
	}
	if n := s.Srv.Stats().Unauthorized; n != 1 {
		t.Errorf("%d refused requests, want 1 (a 401 is not retried)", n)
	}
	o := options()
	o.Domains = []string{"nosuch.example.com", mgtest.Domains[0]}
	_, err = pass(t, s, tempDB(t), s.Res.End, o, nil)
	if !errors.Is(err, ingest.ErrNoSuchDomain) || !strings.Contains(err.Error(), "nosuch.example.com") || syncer.Retryable(err) {
		t.Fatalf("unknown domain: %v: want ErrNoSuchDomain naming it", err)
	}
}

func TestSyncSuppressionSnapshots(t *testing.T) {
	s := mgtest.New(t, mgtest.Config(6000, mgtest.Domains[:2]...), mgserver.Options{})
	dom := mgtest.Domains[0]
	db := tempDB(t)
	o := options()
	o.Domains = []string{dom}
	t1 := s.Res.End
	mustPass(t, s, db, t1, o)
	victim := s.Acct.Bounces(dom)[0]
	if ok, err := s.Acct.Delete(dom, mgserver.Bounces, victim.Address); !ok || err != nil {
		t.Fatalf("delete %s: %v %v", victim.Address, ok, err)
	}
	state := func() (live, removed []int64) {
		t.Helper()
		rows := query(t, db, `SELECT removed_at FROM suppressions_full WHERE sending_domain = '`+dom+`' AND list = 'bounces' AND address = '`+victim.Address+`' ORDER BY created_at`)
		for _, r := range rows {
			if r[0] == nil {
				live = append(live, 0)
			} else {
				removed = append(removed, r[0].(int64))
			}
		}
		return live, removed
	}

	t2 := t1.Add(time.Hour)
	sum := mustPass(t, s, db, t2, o)
	if live, removed := state(); len(live) != 0 || len(removed) != 1 || removed[0] != t2.UnixMicro() {
		t.Fatalf("after the delete: %d live rows, removed at %v; want one removed at %d", len(live), removed, t2.UnixMicro())
	}
	if l := findList(sum, dom, maildiag.ListBounces); l == nil || l.Removed != 1 || l.New != 0 {
		t.Fatalf("bounces summary %+v, want 1 removed, 0 new", l)
	}

	readded := victim
	readded.CreatedAt = t2.Add(10 * time.Minute).Truncate(time.Second)
	if err := s.Acct.AddBounce(dom, readded); err != nil {
		t.Fatal(err)
	}
	t3 := t2.Add(time.Hour)
	sum = mustPass(t, s, db, t3, o)
	if live, removed := state(); len(live) != 1 || len(removed) != 1 {
		t.Fatalf("after re-adding: %d live rows, %d removed; want the history and a live entry", len(live), len(removed))
	}
	if l := findList(sum, dom, maildiag.ListBounces); l == nil || l.Removed != 0 || l.New != 1 || l.Read != len(s.Acct.Bounces(dom)) {
		t.Fatalf("bounces summary %+v, want 1 new of %d", l, len(s.Acct.Bounces(dom)))
	}
	other := query(t, db, `SELECT COUNT(*) FROM suppressions_full WHERE removed_at IS NOT NULL AND address != '`+victim.Address+`'`)
	if n := other[0][0].(int64); n != 0 {
		t.Errorf("%v other entries marked removed", n)
	}
}

// The index records the synced ranges the summary reports, per source.
func TestSyncRangesInIndex(t *testing.T) {
	s := mgtest.New(t, synth.Config{Seed: 2, Events: 2000, Days: 3, End: synth.DefaultEnd, NoStories: true, SendingDomains: mgtest.Domains[:1]}, mgserver.Options{})
	db := tempDB(t)
	o := options()
	o.Lookback, o.NoSuppressions, o.Source = 48*time.Hour, true, ingest.SourceLogs
	mustPass(t, s, db, s.Res.End, o)
	ix, err := index.OpenReadOnly(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	rs, err := ix.SyncedRanges(context.Background(), mgtest.Domains[0], "logs")
	if err != nil {
		t.Fatal(err)
	}
	want := maildiag.Range{FromUS: s.Res.End.Add(-48 * time.Hour).UnixMicro(), ToUS: s.Res.End.Add(-30 * time.Minute).UnixMicro()}
	if len(rs) != 1 || rs[0] != want {
		t.Fatalf("synced ranges %v, want %v", rs, want)
	}
	if other, _ := ix.SyncedRanges(context.Background(), mgtest.Domains[0], "events"); len(other) != 0 {
		t.Errorf("events ranges %v after a logs sync", other)
	}
}

// Watch makes a pass at once and then one every interval until ctx ends,
// and says nothing of a pass that was merely interrupted.
func TestWatchUntilCancelled(t *testing.T) {
	s := mgtest.New(t, mgtest.Config(3000, mgtest.Domains[:1]...), mgserver.Options{})
	db := tempDB(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var shown []*syncer.Summary
	passes := 0
	err := syncer.Watch(ctx, 20*time.Millisecond, func(ctx context.Context) (*syncer.Summary, error) {
		passes++
		if passes == 3 {
			cancel()
		}
		return pass(t, s, db, s.Res.End, options(), nil)
	}, func(sum *syncer.Summary) error {
		shown = append(shown, sum)
		return nil
	}, func(n int, err error) { t.Errorf("pass %d: %v: want no retry", n, err) })
	if err != nil || passes != 3 || len(shown) < 2 {
		t.Fatalf("watch: %v after %d passes, %d summaries: want nil after 3 passes and a summary each", err, passes, len(shown))
	}
	if shown[1].Domains[0].EventsNew != 0 {
		t.Errorf("the second pass stored %d new events, want 0", shown[1].Domains[0].EventsNew)
	}
	testkit.SameEvents(t, "watched", db, testkit.EventKeys(t, s.Acct, nil))
}
