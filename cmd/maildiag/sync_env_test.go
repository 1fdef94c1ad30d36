package main

import (
	"bufio"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/maildiag/maildiag/index"
	"github.com/maildiag/maildiag/ingest"
	"github.com/maildiag/maildiag/mgserver"
	"github.com/maildiag/maildiag/syncer"
	"github.com/maildiag/maildiag/synth"
)

// syncKey is recognisable, so that tests can look for it where it must
// never be.
const syncKey = "key-SYNCTEST-7f3a9c2e1d4b5a60"

var syncEnd = time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)

// syncConfig is an account of n events over a week in the given domains.
func syncConfig(n int, domains ...string) synth.Config {
	return synth.Config{Seed: 21, Events: n, Days: 7, End: syncEnd, NoStories: true, SendingDomains: domains}
}

// testClock is the server's settable clock.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// arrival is one request as the server saw it.
type arrival struct {
	at, done time.Time
	status   int
	reset    time.Time // of a 429
}

// syncEnv is an mgserver on loopback, recording what arrives and how many
// requests are in flight at once.
type syncEnv struct {
	acct  *mgserver.Account
	res   *synth.Result
	srv   *mgserver.Server
	hs    *httptest.Server
	clock *testClock

	mu          sync.Mutex
	arrivals    []arrival
	inFlight    int
	maxInFlight int
}

func newSyncEnv(t testing.TB, cfg synth.Config, opts mgserver.Options) *syncEnv {
	t.Helper()
	acct, res, err := mgserver.FromSynth(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	e := &syncEnv{acct: acct, res: res, clock: &testClock{t: res.End}}
	opts.APIKey = syncKey
	if opts.Now == nil {
		opts.Now = e.clock.Now
	}
	if e.srv, err = mgserver.New(acct, opts); err != nil {
		t.Fatal(err)
	}
	e.hs = httptest.NewServer(http.HandlerFunc(e.serve))
	t.Cleanup(e.hs.Close)
	return e
}

func (e *syncEnv) serve(w http.ResponseWriter, r *http.Request) {
	a := arrival{at: time.Now()}
	e.mu.Lock()
	e.inFlight++
	e.maxInFlight = max(e.maxInFlight, e.inFlight)
	e.mu.Unlock()
	rw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	e.srv.ServeHTTP(rw, r)
	a.done, a.status = time.Now(), rw.status
	if ms, err := strconv.ParseInt(rw.Header().Get("X-Request-Reset"), 10, 64); err == nil && rw.status == http.StatusTooManyRequests {
		a.reset = time.UnixMilli(ms)
	}
	e.mu.Lock()
	e.inFlight--
	e.arrivals = append(e.arrivals, a)
	e.mu.Unlock()
}

// statusWriter remembers the status; it hijacks for dropped connections.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	w.status = 0
	return w.ResponseWriter.(http.Hijacker).Hijack()
}

// sync runs maildiag sync in-process against the env with the clock at now.
func (e *syncEnv) sync(t *testing.T, db string, now time.Time, args ...string) (int, *syncer.Summary, string) {
	t.Helper()
	all := append([]string{"--db", db, "--now", now.UTC().Format(time.RFC3339Nano), "--output", "json",
		"sync", "--api-base", e.hs.URL, "--api-key", syncKey, "--retry-delay", "5ms"}, args...)
	code, out, errs := run(t, "", all...)
	var sum *syncer.Summary
	if out != "" {
		sum = &syncer.Summary{}
		if err := json.Unmarshal([]byte(out), sum); err != nil {
			t.Fatalf("sync output is not a summary: %v: %s", err, out)
		}
	}
	return code, sum, errs
}

// mustSync is sync that fails the test unless it exits 0.
func (e *syncEnv) mustSync(t *testing.T, db string, now time.Time, args ...string) *syncer.Summary {
	t.Helper()
	code, sum, errs := e.sync(t, db, now, args...)
	if code != 0 || sum == nil {
		t.Fatalf("sync: exit %d: %s", code, errs)
	}
	return sum
}

// evKey is an event's identity in the index.
type evKey struct {
	domain    string
	day       int64
	recipient string
	typ       string
	idHash    int64
}

// serverKeys normalises the server's events that keep accepts, counting
// each identity.
func (e *syncEnv) serverKeys(t testing.TB, keep func(*mgserver.Event) bool) map[evKey]int {
	t.Helper()
	out := map[evKey]int{}
	for _, d := range e.acct.Domains() {
		for _, se := range e.acct.Events(d) {
			if keep != nil && !keep(&se) {
				continue
			}
			ev, err := ingest.ParseEvent(se.EventsJSON)
			if err != nil {
				t.Fatalf("server event %s: %v", se.ID, err)
			}
			if ev.SendingDomain == "" {
				ev.SendingDomain = d // as sync names it: the domain it reads (list events name none)
			}
			out[evKey{ev.SendingDomain, ev.Day(), ev.Recipient, ev.Type, ev.IDHash}]++
		}
	}
	return out
}

// indexKeys returns the identities of the events in an index and the
// number of rows.
func indexKeys(t testing.TB, path string) (map[evKey]int, int) {
	t.Helper()
	db, err := index.OpenReadOnly(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(context.Background(), `SELECT sending_domain, day, COALESCE(recipient, ''), type, id_hash FROM events_full`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[evKey]int{}
	n := 0
	for {
		r, err := rows.Next()
		if err != nil {
			t.Fatal(err)
		}
		if r == nil {
			break
		}
		s := func(v any) string { x, _ := v.(string); return x }
		out[evKey{s(r[0]), r[1].(int64), s(r[2]), s(r[3]), r[4].(int64)}]++
		n++
	}
	return out, n
}

// sameEvents fails unless the index holds exactly want, each event once.
func sameEvents(t testing.TB, what, path string, want map[evKey]int) {
	t.Helper()
	got, rows := indexKeys(t, path)
	missing, extra, twice := 0, 0, 0
	for k, n := range want {
		if n > 1 {
			t.Fatalf("the server has event %v %d times", k, n)
		}
		if got[k] == 0 {
			missing++
		}
	}
	for k, n := range got {
		if want[k] == 0 {
			extra++
		}
		if n > 1 {
			twice++
		}
	}
	if missing > 0 || extra > 0 || twice > 0 || rows != len(want) {
		t.Fatalf("%s: index has %d rows, server %d events: %d missing, %d not on the server, %d stored twice",
			what, rows, len(want), missing, extra, twice)
	}
}

// checkHeld fails when a request reached the server after a 429 was
// answered and before its reset; grace covers requests already on their
// way then.
func checkHeld(t *testing.T, log []arrival, grace time.Duration) int {
	t.Helper()
	n := 0
	for _, a := range log {
		if a.status != http.StatusTooManyRequests {
			continue
		}
		n++
		for _, b := range log {
			if b.at.After(a.done.Add(grace)) && b.at.Before(a.reset.Add(-2*time.Millisecond)) {
				t.Fatalf("a request arrived %s after a 429 and %s before its reset", b.at.Sub(a.done), a.reset.Sub(b.at))
			}
		}
	}
	return n
}

func (e *syncEnv) log() []arrival {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]arrival(nil), e.arrivals...)
}
