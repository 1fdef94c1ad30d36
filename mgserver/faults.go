package mgserver

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// FaultRule picks the requests that get one kind of fault. Requests are
// numbered from 1 in the order they arrive, counting only those
// Faults.Filter accepts. A request is hit when First, Every or Fraction
// selects it, unless Limit hits have already been made.
type FaultRule struct {
	// First hits requests 1 to First: a storm at the start.
	First int
	// Every hits requests Every, 2*Every, 3*Every, ...
	Every int
	// Fraction hits this fraction of requests, chosen by the seed.
	Fraction float64
	// Burst makes each hit chosen by Every or Fraction also hit the
	// Burst-1 requests after it. Default 1.
	Burst int
	// Limit caps the hits of this rule; 0 means no cap.
	Limit int
}

func (r FaultRule) active() bool { return r.First > 0 || r.Every > 0 || r.Fraction > 0 }

func (r FaultRule) validate(name string) error {
	if r.First < 0 || r.Every < 0 || r.Burst < 0 || r.Limit < 0 {
		return fmt.Errorf("%s: negative count", name)
	}
	if r.Fraction < 0 || r.Fraction > 1 {
		return fmt.Errorf("%s: fraction %v out of range 0..1", name, r.Fraction)
	}
	return nil
}

// Faults configures fault injection. Each kind of fault is bounded: First
// and Limit are counts, and hits chosen by Every or Fraction never come
// more than MaxRun in a row, so a client that retries always gets through.
type Faults struct {
	// RateLimit answers 429 with X-Request-Limit, X-Request-Remaining and
	// X-Request-Reset (epoch milliseconds) and no Retry-After, as Mailgun.
	RateLimit FaultRule
	// ServerError answers 500, 502 or 503 (ServerErrorCodes).
	ServerError FaultRule
	// Truncate serves the response with status 200 and its body cut in
	// half, Content-Length matching the cut body.
	Truncate FaultRule
	// Drop closes the connection without a response.
	Drop FaultRule
	// Latency delays every request; LatencyJitter adds up to that much
	// more, chosen by the seed.
	Latency       time.Duration
	LatencyJitter time.Duration
	// RateLimitReset is how far after ResetClock X-Request-Reset lies.
	// Default one second.
	RateLimitReset time.Duration
	// ResetClock is the clock X-Request-Reset is read from. Default
	// time.Now, not Options.Now: clients compare the reset with their own
	// wall clock, and a test's server clock may sit days away from it.
	ResetClock func() time.Time
	// RequestLimit is the X-Request-Limit value. Default 300.
	RequestLimit int
	// ServerErrorCodes are the statuses ServerError answers with, chosen
	// by the seed. Default 500, 502, 503.
	ServerErrorCodes []int
	// MaxRun bounds consecutive hits chosen by Every or Fraction. Default 5.
	MaxRun int
	// Refuse answers the requests under each path 403 or 404 (the first
	// that matches wins), after authentication and outside the numbering
	// of the other rules: a key that may not read everything.
	Refuse []Refusal
	// Filter, when set, limits fault injection (and its numbering) to the
	// requests it accepts.
	Filter func(*http.Request) bool
}

// Fault kinds, in the order they win when several rules hit a request.
const (
	faultDrop = iota
	faultServerError
	faultRateLimit
	faultTruncate
	nFaultKinds
)

func faultName(k int) string {
	switch k {
	case faultDrop:
		return "drop"
	case faultServerError:
		return "5xx"
	case faultRateLimit:
		return "429"
	}
	return "truncate"
}

type faultState struct {
	cfg   Faults
	rules [nFaultKinds]FaultRule
	seed  uint64

	mu   sync.Mutex
	n    int64 // requests numbered so far
	run  int   // consecutive faulted requests
	hits [nFaultKinds]int
}

func newFaultState(f Faults, seed int64) (*faultState, error) {
	st := &faultState{cfg: f, seed: uint64(seed), rules: [nFaultKinds]FaultRule{f.Drop, f.ServerError, f.RateLimit, f.Truncate}}
	for k, r := range st.rules {
		if err := r.validate(faultName(k)); err != nil {
			return nil, err
		}
	}
	if f.Latency < 0 || f.LatencyJitter < 0 || f.RateLimitReset < 0 || f.RequestLimit < 0 || f.MaxRun < 0 {
		return nil, errors.New("faults: negative latency, reset, limit or run")
	}
	for _, r := range f.Refuse {
		if err := r.validate(); err != nil {
			return nil, fmt.Errorf("faults: %w", err)
		}
	}
	if st.cfg.RateLimitReset == 0 {
		st.cfg.RateLimitReset = time.Second
	}
	if st.cfg.ResetClock == nil {
		st.cfg.ResetClock = time.Now
	}
	if st.cfg.RequestLimit == 0 {
		st.cfg.RequestLimit = 300
	}
	if len(st.cfg.ServerErrorCodes) == 0 {
		st.cfg.ServerErrorCodes = []int{500, 502, 503}
	}
	for _, c := range st.cfg.ServerErrorCodes {
		if c < 500 || c > 599 {
			return nil, fmt.Errorf("faults: server error code %d is not 5xx", c)
		}
	}
	if st.cfg.MaxRun == 0 {
		st.cfg.MaxRun = 5
	}
	return st, nil
}

// decision is what happens to one request.
type decision struct {
	kind  int // -1: none
	n     int64
	delay time.Duration
}

// roll numbers the request and picks its fault. The whole choice is made
// under one lock, so the sequence of faults depends only on arrival order.
func (st *faultState) roll() decision {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.n++
	n := st.n
	d := decision{kind: -1, n: n}
	if st.cfg.Latency > 0 || st.cfg.LatencyJitter > 0 {
		d.delay = st.cfg.Latency + time.Duration(unitFloat(st.rand(99, n))*float64(st.cfg.LatencyJitter))
	}
	for k, r := range st.rules {
		if !r.active() || (r.Limit > 0 && st.hits[k] >= r.Limit) {
			continue
		}
		first := n <= int64(r.First)
		if !first && !st.pattern(k, r, n) {
			continue
		}
		if !first && st.run >= st.cfg.MaxRun {
			continue
		}
		d.kind = k
		st.hits[k]++
		break
	}
	if d.kind >= 0 {
		st.run++
	} else {
		st.run = 0
	}
	return d
}

// pattern reports whether Every or Fraction selects request n.
func (st *faultState) pattern(k int, r FaultRule, n int64) bool {
	burst := int64(max(r.Burst, 1))
	if r.Every > 0 {
		every := int64(r.Every)
		if m := n / every * every; m >= every && n-m < burst {
			return true
		}
	}
	if r.Fraction > 0 {
		for j := int64(0); j < burst && n-j >= 1; j++ {
			if unitFloat(st.rand(k, n-j)) < r.Fraction {
				return true
			}
		}
	}
	return false
}

// unroll gives back a hit that could not be applied (a truncation of a
// response with nothing to cut).
func (st *faultState) unroll(k int) {
	st.mu.Lock()
	st.hits[k]--
	st.mu.Unlock()
}

func (st *faultState) rand(k int, n int64) uint64 {
	return mix64(st.seed*0x9e3779b97f4a7c15 ^ uint64(k+1)<<56 ^ uint64(n))
}

// appliedFault is the fault of one request, once chosen.
type appliedFault struct {
	handled bool // the response was written (or the connection dropped)
	name    string
	st      *faultState
	kind    int
}

// inject applies the fault chosen for r. Faults come before
// authentication: they stand for Mailgun's edge, not its API.
func (s *Server) inject(rec *recorder, r *http.Request) appliedFault {
	st := s.faultState()
	if st.cfg.Filter != nil && !st.cfg.Filter(r) {
		return appliedFault{kind: -1}
	}
	d := st.roll()
	af := appliedFault{st: st, kind: d.kind}
	if d.delay > 0 {
		s.stats.delayed.Add(1)
		t := time.NewTimer(d.delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			af.handled, af.name = true, "latency"
			return af
		}
	}
	if d.kind < 0 {
		return af
	}
	af.name = faultName(d.kind)
	switch d.kind {
	case faultDrop:
		s.stats.dropped.Add(1)
		af.handled = true
		rec.status = 0 // nothing was answered
		hj, ok := rec.ResponseWriter.(http.Hijacker)
		if !ok {
			panic(http.ErrAbortHandler)
		}
		conn, _, err := hj.Hijack()
		if err != nil {
			panic(http.ErrAbortHandler)
		}
		conn.Close()
	case faultServerError:
		s.stats.serverErrors.Add(1)
		af.handled = true
		codes := st.cfg.ServerErrorCodes
		writeServerError(rec, codes[st.rand(50, d.n)%uint64(len(codes))])
	case faultRateLimit:
		s.stats.rateLimited.Add(1)
		af.handled = true
		reset := st.cfg.ResetClock().Add(st.cfg.RateLimitReset).UnixMilli()
		h := rec.Header()
		h.Set("X-Request-Limit", strconv.Itoa(st.cfg.RequestLimit))
		h.Set("X-Request-Remaining", "0")
		h.Set("X-Request-Reset", strconv.FormatInt(reset, 10))
		writeMessage(rec, http.StatusTooManyRequests, "Too many requests")
	case faultTruncate:
		rec.hold = true
	}
	return af
}

// finish completes a request the handler answered: a truncation cuts the
// held body, if there is one worth cutting.
func (af appliedFault) finish(s *Server, rec *recorder) {
	if af.kind != faultTruncate || !rec.hold {
		return
	}
	if rec.status != http.StatusOK || len(rec.held) < 2 {
		af.st.unroll(faultTruncate)
		rec.release(-1)
		return
	}
	s.stats.truncated.Add(1)
	rec.release(len(rec.held) / 2)
}

// writeServerError answers like the layer that fails: the API's JSON for a
// 500, the load balancer's HTML page for a 502 or 503.
func writeServerError(w http.ResponseWriter, code int) {
	if code == http.StatusInternalServerError {
		writeMessage(w, code, "Internal Server Error")
		return
	}
	text := http.StatusText(code)
	if text == "" {
		text = "Server Error"
	}
	w.Header().Set("Content-Type", "text/html")
	w.WriteHeader(code)
	fmt.Fprintf(w, "<html>\r\n<head><title>%d %s</title></head>\r\n<body>\r\n<center><h1>%d %s</h1></center>\r\n</body>\r\n</html>\r\n", code, text, code, text)
}

// ParseFaultRule parses a rule written as comma-separated settings, the
// form mgsim serve takes: "first=30", "every=7,burst=2", "p=0.05,limit=20".
func ParseFaultRule(spec string) (FaultRule, error) {
	var r FaultRule
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return r, fmt.Errorf("fault rule %q: %q is not key=value", spec, part)
		}
		var err error
		switch strings.TrimSpace(k) {
		case "first":
			r.First, err = strconv.Atoi(v)
		case "every":
			r.Every, err = strconv.Atoi(v)
		case "p", "fraction":
			r.Fraction, err = strconv.ParseFloat(v, 64)
		case "burst":
			r.Burst, err = strconv.Atoi(v)
		case "limit":
			r.Limit, err = strconv.Atoi(v)
		default:
			return r, fmt.Errorf("fault rule %q: unknown setting %q (first, every, p, burst, limit)", spec, k)
		}
		if err != nil {
			return r, fmt.Errorf("fault rule %q: %s: %w", spec, k, err)
		}
	}
	if err := r.validate("fault rule"); err != nil {
		return r, err
	}
	return r, nil
}
