package mgserver

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// statuses makes n requests to path and returns their statuses, -1 for a
// transport error.
func (e *env) statuses(path string, n int) ([]int, []response) {
	e.t.Helper()
	var out []int
	var rs []response
	for i := 0; i < n; i++ {
		r, err := e.do(http.MethodGet, path, "", nil)
		if err != nil {
			out = append(out, -1)
		} else {
			out = append(out, r.status)
		}
		rs = append(rs, r)
	}
	return out, rs
}

func bouncesPath(e *env) string { return "/v3/" + e.res.SendingDomains[0] + "/bounces?limit=5" }

func TestRateLimitStorm(t *testing.T) {
	wall := time.Date(2027, 3, 1, 12, 0, 0, 0, time.UTC)
	e := newEnv(t, smallConfig(), Options{Faults: Faults{RateLimit: FaultRule{First: 3}, RateLimitReset: 2 * time.Second,
		ResetClock: func() time.Time { return wall }}})
	st, rs := e.statuses(bouncesPath(e), 5)
	if want := []int{429, 429, 429, 200, 200}; !equalInts(st, want) {
		t.Fatalf("statuses %v, want %v", st, want)
	}
	h := rs[0].header
	reset := h.Get("X-Request-Reset")
	ms, err := strconv.ParseInt(reset, 10, 64)
	if err != nil || len(reset) != 13 || ms != wall.Add(2*time.Second).UnixMilli() {
		t.Errorf("X-Request-Reset %q, want the reset clock plus 2s in epoch milliseconds", reset)
	}
	if h.Get("X-Request-Limit") == "" || h.Get("X-Request-Remaining") != "0" || h.Get("Retry-After") != "" {
		t.Errorf("429 headers %v: want X-Request-Limit, X-Request-Remaining 0 and no Retry-After", h)
	}
	if s := e.srv.Stats(); s.RateLimited != 3 || s.Requests != 5 || s.Served != 2 {
		t.Errorf("stats %+v, want 3 rate-limited of 5 requests, 2 served", s)
	}
}

func TestFirstThirtyFailThenBehave(t *testing.T) {
	e := newEnv(t, smallConfig(), Options{Faults: Faults{ServerError: FaultRule{First: 30}}})
	paths := []string{bouncesPath(e), "/v3/domains", "/v3/" + e.res.SendingDomains[1] + "/events?ascending=yes&limit=1"}
	for i := 0; i < 32; i++ {
		r, err := e.do(http.MethodGet, paths[i%3], "", nil)
		if err != nil {
			t.Fatal(err)
		}
		if fail := r.status >= 500; fail != (i < 30) {
			t.Fatalf("request %d: status %d", i+1, r.status)
		}
		if r.status == 500 && !strings.Contains(string(r.body), "Internal Server Error") {
			t.Errorf("500 body %q", r.body)
		}
		if (r.status == 502 || r.status == 503) && !strings.Contains(string(r.body), "<html>") {
			t.Errorf("%d body %q, want the load balancer's page", r.status, r.body)
		}
	}
	if s := e.srv.Stats(); s.ServerErrors != 30 || s.Faults() != 30 {
		t.Errorf("stats %+v, want 30 server errors", s)
	}
	// SetFaults starts a new storm from the next request.
	if err := e.srv.SetFaults(Faults{RateLimit: FaultRule{First: 1}}); err != nil {
		t.Fatal(err)
	}
	if st, _ := e.statuses(paths[0], 2); !equalInts(st, []int{429, 200}) {
		t.Errorf("after SetFaults: %v, want [429 200]", st)
	}
}

func TestServerErrorBursts(t *testing.T) {
	e := newEnv(t, smallConfig(), Options{Faults: Faults{ServerError: FaultRule{Every: 4, Burst: 2}, ServerErrorCodes: []int{503}}})
	st, _ := e.statuses(bouncesPath(e), 10)
	want := []int{200, 200, 200, 503, 503, 200, 200, 503, 503, 200}
	if !equalInts(st, want) {
		t.Errorf("statuses %v, want %v", st, want)
	}
}

func TestFractionIsSeededAndRunsAreBounded(t *testing.T) {
	faults := Faults{RateLimit: FaultRule{Fraction: 0.5}, ServerError: FaultRule{Fraction: 0.3}, MaxRun: 3}
	run := func(seed int64) []int {
		e := newEnv(t, smallConfig(), Options{Seed: seed, Faults: faults})
		st, _ := e.statuses(bouncesPath(e), 60)
		return st
	}
	a, b, c := run(5), run(5), run(6)
	if !equalInts(a, b) {
		t.Errorf("same seed, different faults:\n%v\n%v", a, b)
	}
	if equalInts(a, c) {
		t.Errorf("different seeds, same faults: %v", a)
	}
	faulted, streak := 0, 0
	for _, s := range a {
		if s != 200 {
			faulted++
			streak++
			if streak > 3 {
				t.Fatalf("more than MaxRun=3 faults in a row: %v", a)
			}
		} else {
			streak = 0
		}
	}
	if faulted < 15 || faulted > 50 {
		t.Errorf("%d of 60 requests faulted with fractions 0.5 and 0.3", faulted)
	}
}

func TestTruncatedBody(t *testing.T) {
	e := newEnv(t, smallConfig(), Options{Faults: Faults{Truncate: FaultRule{First: 1, Limit: 1}}})
	path := "/v3/" + e.res.SendingDomains[0] + "/events?ascending=yes&limit=20&pretty=no&begin=" + epoch(e.res.Start)
	st, rs := e.statuses(path, 2)
	if st[0] != 200 || st[1] != 200 {
		t.Fatalf("statuses %v, want 200 twice", st)
	}
	if json.Valid(rs[0].body) || !json.Valid(rs[1].body) {
		t.Fatalf("first body valid=%v, second valid=%v; want the first cut", json.Valid(rs[0].body), json.Valid(rs[1].body))
	}
	if cl := rs[0].header.Get("Content-Length"); cl != strconv.Itoa(len(rs[0].body)) || len(rs[0].body) != len(rs[1].body)/2 {
		t.Errorf("cut body %d bytes with Content-Length %s; full body %d", len(rs[0].body), cl, len(rs[1].body))
	}
	if !strings.HasPrefix(string(rs[1].body), string(rs[0].body)) {
		t.Error("the cut body is not a prefix of the full one")
	}
	if s := e.srv.Stats(); s.Truncated != 1 {
		t.Errorf("Truncated = %d, want 1", s.Truncated)
	}
}

func TestTruncateSkipsErrors(t *testing.T) {
	e := newEnv(t, smallConfig(), Options{Faults: Faults{Truncate: FaultRule{First: 2, Limit: 1}}})
	// A 404 is not cut and does not use up the limit.
	r, _ := e.do(http.MethodGet, "/v3/"+e.res.SendingDomains[0]+"/bounces/nobody@nowhere.example", "", nil)
	if r.status != 404 || !json.Valid(r.body) {
		t.Errorf("404 was cut: %q", r.body)
	}
	_, rs := e.statuses(bouncesPath(e), 1)
	if json.Valid(rs[0].body) || e.srv.Stats().Truncated != 1 {
		t.Errorf("second request not truncated: %q", rs[0].body)
	}
}

func TestDroppedConnection(t *testing.T) {
	e := newEnv(t, smallConfig(), Options{Faults: Faults{Drop: FaultRule{First: 1}}})
	_, err := e.do(http.MethodGet, bouncesPath(e), "", nil)
	if err == nil || !(errors.Is(err, io.EOF) || strings.Contains(err.Error(), "EOF") || strings.Contains(err.Error(), "reset")) {
		t.Fatalf("dropped request: %v, want a connection error", err)
	}
	if st, _ := e.statuses(bouncesPath(e), 1); st[0] != 200 {
		t.Errorf("request after the drop: %d", st[0])
	}
	if s := e.srv.Stats(); s.Dropped != 1 || s.Served != 1 {
		t.Errorf("stats %+v, want 1 dropped, 1 served", s)
	}
}

func TestLatencyAndFilter(t *testing.T) {
	e := newEnv(t, smallConfig(), Options{Faults: Faults{
		Latency:   60 * time.Millisecond,
		RateLimit: FaultRule{Every: 2},
		Filter:    func(r *http.Request) bool { return strings.Contains(r.URL.Path, "/events") },
	}})
	start := time.Now()
	if st, _ := e.statuses(bouncesPath(e), 3); !equalInts(st, []int{200, 200, 200}) {
		t.Errorf("filtered-out requests were faulted: %v", st)
	}
	if time.Since(start) > 2*time.Second {
		t.Errorf("filtered-out requests were delayed")
	}
	start = time.Now()
	st, _ := e.statuses("/v3/"+e.res.SendingDomains[0]+"/events?ascending=yes&limit=1", 2)
	if d := time.Since(start); d < 120*time.Millisecond {
		t.Errorf("two requests with 60ms latency took %s", d)
	}
	if !equalInts(st, []int{200, 429}) {
		t.Errorf("events statuses %v, want [200 429]", st)
	}
	if s := e.srv.Stats(); s.Delayed != 2 || s.RateLimited != 1 {
		t.Errorf("stats %+v, want 2 delayed, 1 rate-limited", s)
	}
}

func TestParseFaultRule(t *testing.T) {
	r, err := ParseFaultRule("first=30, every=7,burst=2,p=0.05,limit=20")
	if err != nil || r != (FaultRule{First: 30, Every: 7, Burst: 2, Fraction: 0.05, Limit: 20}) {
		t.Errorf("got %+v, %v", r, err)
	}
	for _, bad := range []string{"first", "first=x", "speed=3", "p=2", "every=-1"} {
		if _, err := ParseFaultRule(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
	if _, err := New(&Account{}, Options{APIKey: "k", Faults: Faults{ServerErrorCodes: []int{404}}}); err == nil {
		t.Error("a 404 server error code was accepted")
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
