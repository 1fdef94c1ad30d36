package ingest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/maildiag/maildiag/internal/mgtest"
	"github.com/maildiag/maildiag/mgserver"
)

func TestRetriesServerErrorsCutBodiesAndDrops(t *testing.T) {
	e := mgtest.New(t, apiConfig(4000), mgserver.Options{Seed: 5, Faults: mgserver.Faults{
		ServerError: mgserver.FaultRule{Every: 4, Burst: 2},
		Truncate:    mgserver.FaultRule{Every: 5},
		Drop:        mgserver.FaultRule{Every: 7},
	}})
	c := apiClient(t, e, RetryPolicy{})
	for _, dom := range e.Res.SendingDomains {
		q := EventQuery{Domain: dom, FromUS: e.Res.Start.UnixMicro(), ToUS: e.Res.End.UnixMicro()}
		got, _ := pageAll(t, c.EventPages, q)
		sameKeys(t, dom, got, serverKeys(t, e.Acct, dom, q.FromUS, q.ToUS))
		logs, _ := pageAll(t, c.LogPages, q)
		sameKeys(t, dom+" logs", logs, got)
	}
	st, ss := c.Stats().Snapshot(), e.Srv.Stats()
	if ss.ServerErrors == 0 || ss.Truncated == 0 || ss.Dropped == 0 {
		t.Fatalf("server injected %d 5xx, %d cut bodies, %d drops: want some of each", ss.ServerErrors, ss.Truncated, ss.Dropped)
	}
	// net/http itself resends a request once when a kept-alive connection
	// is closed before any answer: those drops never reach the client.
	silent := ss.Dropped - st.NetErrors
	if st.ServerErrors != ss.ServerErrors || st.BadBodies != ss.Truncated || silent < 0 || st.Requests+silent != ss.Requests {
		t.Errorf("client counted %d 5xx, %d bad bodies, %d network errors, %d requests; server injected %d, %d, %d drops in %d requests",
			st.ServerErrors, st.BadBodies, st.NetErrors, st.Requests, ss.ServerErrors, ss.Truncated, ss.Dropped, ss.Requests)
	}
	if st.Retries != st.ServerErrors+st.BadBodies+st.NetErrors || st.GaveUp != 0 {
		t.Errorf("client: %d retries, %d given up; want one retry per fault, none given up", st.Retries, st.GaveUp)
	}
}

func TestGivesUpAfterRetries(t *testing.T) {
	e := mgtest.New(t, apiConfig(500), mgserver.Options{Faults: mgserver.Faults{ServerError: mgserver.FaultRule{First: 1000}}})
	c := apiClient(t, e, RetryPolicy{Retries: 3})
	err := c.EventPages(context.Background(), EventQuery{Domain: e.Res.SendingDomains[0], FromUS: 0, ToUS: e.Res.End.UnixMicro()}, Options{},
		func(*Page) error { return nil })
	ae, ok := AsAPIError(err)
	if !ok || ae.Status < 500 || ae.Attempts != 4 {
		t.Fatalf("got %v, want a 5xx after 4 attempts", err)
	}
	if n := e.Srv.Stats().Requests; n != 4 {
		t.Errorf("server saw %d requests, want 4 (1 + 3 retries)", n)
	}
	if !strings.Contains(err.Error(), "gave up after 4 attempts") {
		t.Errorf("error %q does not say it gave up", err)
	}
}

func TestGivesUpOnDroppedConnections(t *testing.T) {
	e := mgtest.New(t, apiConfig(500), mgserver.Options{Faults: mgserver.Faults{Drop: mgserver.FaultRule{First: 1000}}})
	c := apiClient(t, e, RetryPolicy{Retries: 2})
	_, err := c.get(context.Background(), e.URL+"/v3/domains")
	if err == nil || !strings.Contains(err.Error(), "gave up after 3 attempts") {
		t.Fatalf("got %v, want it to give up after 3 attempts", err)
	}
	if st := c.Stats().Snapshot(); st.NetErrors != 3 || st.GaveUp != 1 {
		t.Errorf("%d network errors, %d given up; want 3, 1", st.NetErrors, st.GaveUp)
	}
}

func TestUnauthorizedIsNotRetried(t *testing.T) {
	e := mgtest.New(t, apiConfig(500), mgserver.Options{})
	const wrong = "key-wrong-0000000000000000"
	c, err := NewClient(ClientOptions{BaseURL: e.URL, APIKey: wrong})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Domains(context.Background())
	ae, ok := AsAPIError(err)
	if !ok || ae.Status != http.StatusUnauthorized || ae.Host != strings.TrimPrefix(e.URL, "http://") {
		t.Fatalf("got %v, want a 401 from the test host", err)
	}
	err = c.EventPages(context.Background(), EventQuery{Domain: e.Res.SendingDomains[0], FromUS: 0, ToUS: 1e15}, Options{},
		func(*Page) error { return nil })
	if ae, ok := AsAPIError(err); !ok || ae.Status != http.StatusUnauthorized {
		t.Fatalf("raw pager: got %v, want a 401", err)
	}
	if n := e.Srv.Stats().Unauthorized; n != 2 {
		t.Errorf("server refused %d requests, want 2 (no retries)", n)
	}
	for _, s := range []string{err.Error(), fmt.Sprintf("%v %+v %#v", c, c, c)} {
		if strings.Contains(s, wrong) {
			t.Errorf("the key leaks into %q", s)
		}
	}
}

func TestKeyStaysOnTheAPIHost(t *testing.T) {
	e := mgtest.New(t, apiConfig(500), mgserver.Options{})
	c := apiClient(t, e, RetryPolicy{})
	_, err := c.get(context.Background(), "http://127.0.0.2:1/v3/x/events")
	if err == nil || !strings.Contains(err.Error(), "not on the API host") {
		t.Fatalf("got %v, want a refusal to send the key to another host", err)
	}
	if n := e.Srv.Stats().Requests; n != 0 {
		t.Errorf("%d requests made", n)
	}
}

func TestRateLimitHoldsEveryRequest(t *testing.T) {
	e := mgtest.New(t, apiConfig(3000), mgserver.Options{Faults: mgserver.Faults{
		RateLimit:      mgserver.FaultRule{First: 10},
		RateLimitReset: 400 * time.Millisecond,
		Latency:        15 * time.Millisecond, // work left after the storm
	}})
	c := apiClient(t, e, RetryPolicy{})
	dom := e.Res.SendingDomains[0]
	start, end := e.Res.Start.UnixMicro(), e.Res.End.UnixMicro()
	const workers = 6
	var wg sync.WaitGroup
	var mu sync.Mutex
	got := map[eventKey]int{}
	step := (end - start) / workers
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			from := start + int64(i)*step
			to := from + step
			if i == workers-1 {
				to = end
			}
			err := c.EventPages(context.Background(), EventQuery{Domain: dom, FromUS: from, ToUS: to, Limit: 25}, Options{}, func(p *Page) error {
				mu.Lock()
				defer mu.Unlock()
				for j := range p.Batch.Events {
					ev := &p.Batch.Events[j]
					if ev.TimeUS >= from && ev.TimeUS < to {
						got[keyOf(ev)]++
					}
				}
				return nil
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	sameKeys(t, "after a 429 storm", got, serverKeys(t, e.Acct, dom, start, end))
	if n := c.Stats().RateLimited.Load(); n != 10 {
		t.Fatalf("client saw %d 429s, want 10", n)
	}
	// Requests already on their way when a 429 was answered may arrive
	// within 100ms of it; none after that before its reset.
	if n := mgtest.CheckHeld(t, e.Log(), 100*time.Millisecond); n != 10 {
		t.Fatalf("the server answered %d 429s, want 10", n)
	}
}

func TestMailgunGoGoesThroughTheClient(t *testing.T) {
	e := mgtest.New(t, apiConfig(500), mgserver.Options{Faults: mgserver.Faults{
		ServerError: mgserver.FaultRule{First: 2},
		Truncate:    mgserver.FaultRule{Every: 2, Limit: 1},
	}})
	c := apiClient(t, e, RetryPolicy{})
	names, err := c.Domains(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(names, ",") != strings.Join(e.Acct.Domains(), ",") {
		t.Errorf("domains %v, want %v", names, e.Acct.Domains())
	}
	if st := c.Stats().Snapshot(); st.Retries < 2 {
		t.Errorf("%d retries through mailgun-go, want at least 2", st.Retries)
	}
	if err := c.CheckDomain(context.Background(), names[0]); err != nil {
		t.Errorf("CheckDomain(%s): %v", names[0], err)
	}
	if err := c.CheckDomain(context.Background(), "nosuch.example.com"); !errors.Is(err, ErrNoSuchDomain) || !strings.Contains(err.Error(), "nosuch.example.com") {
		t.Errorf("CheckDomain of an unknown domain: %v", err)
	}
}

func TestPostsRetriedOnlyAfter429(t *testing.T) {
	e := mgtest.New(t, apiConfig(500), mgserver.Options{Faults: mgserver.Faults{
		RateLimit: mgserver.FaultRule{First: 1}, ServerError: mgserver.FaultRule{Every: 2, Limit: 1},
		RateLimitReset: 20 * time.Millisecond,
	}})
	c := apiClient(t, e, RetryPolicy{})
	// A resend-like POST: the 429 (request 1) is waited out, the 503
	// (request 2) is not retried, since the server may have acted.
	_, err := c.Post(context.Background(), e.URL+"/v3/domains/mg.brightcart.io/messages/nosuchkey", []byte("to=a@b.c"), "application/x-www-form-urlencoded")
	if ae, ok := AsAPIError(err); !ok || ae.Status < 500 {
		t.Fatalf("got %v, want the 5xx", err)
	}
	if st := e.Srv.Stats(); st.Requests != 2 || st.RateLimited != 1 {
		t.Errorf("server saw %d requests, %d 429s; want 2 and 1", st.Requests, st.RateLimited)
	}
}
