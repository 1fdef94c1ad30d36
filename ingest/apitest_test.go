package ingest

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/mgserver"
	"github.com/maildiag/maildiag/synth"
)

const apiKey = "key-ingest-test-5f1e2d3c4b5a6978"

var apiEnd = time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)

// apiConfig is a small account: two domains, five days, no stories.
func apiConfig(events int) synth.Config {
	return synth.Config{Seed: 11, Events: events, Days: 5, End: apiEnd, NoStories: true,
		SendingDomains: []string{"mg.brightcart.io", "mail.ledgerly.com"}}
}

// arrival is one request as the server saw it.
type arrival struct {
	at     time.Time // when it arrived
	done   time.Time // when it was answered
	path   string
	status int
	reset  time.Time // of a 429
}

// apiEnv is an mgserver on loopback with a log of what arrived.
type apiEnv struct {
	acct *mgserver.Account
	res  *synth.Result
	srv  *mgserver.Server
	hs   *httptest.Server

	mu       sync.Mutex
	arrivals []arrival
}

func newAPIEnv(t testing.TB, cfg synth.Config, opts mgserver.Options) *apiEnv {
	t.Helper()
	acct, res, err := mgserver.FromSynth(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if opts.APIKey == "" {
		opts.APIKey = apiKey
	}
	if opts.Now == nil {
		end := res.End
		opts.Now = func() time.Time { return end }
	}
	srv, err := mgserver.New(acct, opts)
	if err != nil {
		t.Fatal(err)
	}
	e := &apiEnv{acct: acct, res: res, srv: srv}
	e.hs = httptest.NewServer(http.HandlerFunc(e.serve))
	t.Cleanup(e.hs.Close)
	return e
}

// serve records each request's arrival and answer around the server.
func (e *apiEnv) serve(w http.ResponseWriter, r *http.Request) {
	a := arrival{at: time.Now(), path: r.URL.Path}
	rw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	e.srv.ServeHTTP(rw, r)
	a.done = time.Now()
	a.status = rw.status
	if ms, err := strconv.ParseInt(rw.Header().Get("X-Request-Reset"), 10, 64); err == nil && rw.status == http.StatusTooManyRequests {
		a.reset = time.UnixMilli(ms)
	}
	e.mu.Lock()
	e.arrivals = append(e.arrivals, a)
	e.mu.Unlock()
}

func (e *apiEnv) log() []arrival {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]arrival(nil), e.arrivals...)
}

// statusWriter remembers the status; it hijacks for the server's dropped
// connections.
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

// client returns a client of the env's server with a fast retry policy.
func (e *apiEnv) client(t testing.TB, p RetryPolicy) *Client {
	t.Helper()
	if p.BaseDelay == 0 {
		p.BaseDelay = 5 * time.Millisecond
	}
	if p.MaxDelay == 0 {
		p.MaxDelay = 50 * time.Millisecond
	}
	if p.AttemptTimeout == 0 {
		p.AttemptTimeout = 10 * time.Second
	}
	c, err := NewClient(ClientOptions{BaseURL: e.hs.URL, APIKey: apiKey, Retry: p})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// eventKey identifies an event as the index does: day, recipient, type, id.
type eventKey struct {
	day       int64
	recipient string
	typ, id   string
}

func keyOf(ev *maildiag.Event) eventKey {
	return eventKey{ev.TimeUS / (86400 * 1_000_000), ev.Recipient, ev.Type, ev.ID}
}

// serverKeys normalises the server's events of a domain in [from, to).
func (e *apiEnv) serverKeys(t testing.TB, domain string, from, to int64) map[eventKey]int {
	t.Helper()
	out := map[eventKey]int{}
	for _, se := range e.acct.Events(domain) {
		if se.Time < from || se.Time >= to {
			continue
		}
		ev, err := ParseEvent(se.EventsJSON)
		if err != nil {
			t.Fatalf("server event %s: %v", se.ID, err)
		}
		out[keyOf(&ev)]++
	}
	return out
}

// pageAll reads a range with pager and returns the keys and pages seen.
func pageAll(t testing.TB, pager func(context.Context, EventQuery, Options, func(*Page) error) error, q EventQuery) (map[eventKey]int, []*Page) {
	t.Helper()
	got := map[eventKey]int{}
	var pages []*Page
	err := pager(context.Background(), q, Options{}, func(p *Page) error {
		pages = append(pages, p)
		for i := range p.Batch.Events {
			got[keyOf(&p.Batch.Events[i])]++
		}
		if len(p.Batch.Rejects) > 0 {
			return fmt.Errorf("page %d: %d rejects: %s", p.Number, len(p.Batch.Rejects), p.Batch.Rejects[0].Reason)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got, pages
}

func sameKeys(t testing.TB, what string, got, want map[eventKey]int) {
	t.Helper()
	missing, extra := 0, 0
	for k, n := range want {
		if got[k] < n {
			missing++
		}
	}
	for k, n := range got {
		if n > want[k] {
			extra++
		}
	}
	if missing > 0 || extra > 0 || len(got) != len(want) {
		t.Fatalf("%s: got %d events, want %d: %d missing, %d extra or repeated", what, len(got), len(want), missing, extra)
	}
}
