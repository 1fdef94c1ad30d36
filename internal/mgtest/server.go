// Package mgtest serves a generated account with the project's
// Mailgun-compatible server (mgserver) on loopback, for the tests of the
// packages that talk to Mailgun, and records every request that reaches
// it. It is for tests only, and imports nothing of the module but mgserver
// and synth, so that ingest's own tests can use it; comparing an index
// with what the server serves is testkit's.
package mgtest

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/maildiag/maildiag/mgserver"
	"github.com/maildiag/maildiag/synth"
)

// Key is the API key the server takes: recognisable, so that tests can
// look for it where it must never be.
const Key = "key-MGTEST-7f3a9c2e1d4b5a60"

// Domains are three sending domains of the generator.
var Domains = []string{"mg.brightcart.io", "mail.ledgerly.com", "notify.tripnest.co"}

// Config is an account of n events over a week in the given domains,
// without the generator's stories.
func Config(n int, domains ...string) synth.Config {
	return synth.Config{Seed: 21, Events: n, Days: 7, End: synth.DefaultEnd, NoStories: true, SendingDomains: domains}
}

// Arrival is one request as the server saw it.
type Arrival struct {
	At, Done time.Time
	Method   string
	Path     string
	Status   int       // 0 for a dropped connection
	Reset    time.Time // of a 429
}

// Server is an account served on loopback, with the log of what arrived.
type Server struct {
	Acct  *mgserver.Account
	Res   *synth.Result
	Srv   *mgserver.Server
	URL   string
	Clock *mgserver.Clock // the server's clock unless the options named one; it starts at the account's end

	mu          sync.Mutex
	arrivals    []Arrival
	since       int // Requests counts from here
	inFlight    int
	maxInFlight int
}

// New generates the account and serves it with opts (the API key is Key)
// until the test ends.
func New(t testing.TB, cfg synth.Config, opts mgserver.Options) *Server {
	t.Helper()
	acct, res, err := mgserver.FromSynth(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return Serve(t, acct, res, opts)
}

// Serve serves an account made by mgserver.FromSynth (and changed, say)
// until the test ends.
func Serve(t testing.TB, acct *mgserver.Account, res *synth.Result, opts mgserver.Options) *Server {
	t.Helper()
	s := &Server{Acct: acct, Res: res, Clock: mgserver.NewClock(res.End)}
	opts.APIKey = Key
	if opts.Now == nil {
		opts.Now = s.Clock.Now
	}
	var err error
	if s.Srv, err = mgserver.New(acct, opts); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(hs.Close)
	s.URL = hs.URL
	return s
}

// Host is the server's host:port.
func (s *Server) Host() string { return strings.TrimPrefix(s.URL, "http://") }

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	a := Arrival{At: time.Now(), Method: r.Method, Path: r.URL.Path}
	s.mu.Lock()
	s.inFlight++
	s.maxInFlight = max(s.maxInFlight, s.inFlight)
	s.mu.Unlock()
	rw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	s.Srv.ServeHTTP(rw, r)
	a.Done, a.Status = time.Now(), rw.status
	if ms, err := strconv.ParseInt(rw.Header().Get("X-Request-Reset"), 10, 64); err == nil && rw.status == http.StatusTooManyRequests {
		a.Reset = time.UnixMilli(ms)
	}
	s.mu.Lock()
	s.inFlight--
	s.arrivals = append(s.arrivals, a)
	s.mu.Unlock()
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

// Log is every request so far.
func (s *Server) Log() []Arrival {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Arrival(nil), s.arrivals...)
}

// MaxInFlight is the most requests the server was answering at once.
func (s *Server) MaxInFlight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxInFlight
}

// Forget starts Requests counting afresh.
func (s *Server) Forget() {
	s.mu.Lock()
	s.since = len(s.arrivals)
	s.mu.Unlock()
}

// Requests counts the requests of a method since Forget.
func (s *Server) Requests(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, a := range s.arrivals[s.since:] {
		if a.Method == method {
			n++
		}
	}
	return n
}

// CheckHeld fails when a request reached the server after a 429 was
// answered and before its reset; grace covers requests already on their
// way then. It returns the number of 429s.
func CheckHeld(t testing.TB, log []Arrival, grace time.Duration) int {
	t.Helper()
	n := 0
	for _, a := range log {
		if a.Status != http.StatusTooManyRequests {
			continue
		}
		n++
		for _, b := range log {
			if b.At.After(a.Done.Add(grace)) && b.At.Before(a.Reset.Add(-2*time.Millisecond)) {
				t.Fatalf("a request arrived %s after a 429 and %s before its reset", b.At.Sub(a.Done), a.Reset.Sub(b.At))
			}
		}
	}
	return n
}
