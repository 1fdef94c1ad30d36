package ingest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/maildiag/maildiag/internal/mgtest"
	"github.com/maildiag/maildiag/mgserver"
)

func TestEventPagesAscendingAndDescending(t *testing.T) {
	e := mgtest.New(t, apiConfig(4000), mgserver.Options{})
	c := apiClient(t, e, RetryPolicy{})
	dom := e.Res.SendingDomains[0]
	from, to := e.Res.Start.UnixMicro(), e.Res.End.UnixMicro()
	want := serverKeys(t, e.Acct, dom, from, to)
	for _, desc := range []bool{false, true} {
		got, pages := pageAll(t, c.EventPages, EventQuery{Domain: dom, FromUS: from, ToUS: to, Descending: desc})
		sameKeys(t, dom, got, want)
		if len(pages) < 3 {
			t.Errorf("descending=%v: %d pages, want several", desc, len(pages))
		}
		var prev int64
		for _, p := range pages {
			for i, ev := range p.Batch.Events {
				if i > 0 || p.Number > 1 {
					if !desc && ev.TimeUS < prev || desc && ev.TimeUS > prev {
						t.Fatalf("descending=%v: page %d item %d out of order", desc, p.Number, i)
					}
				}
				prev = ev.TimeUS
			}
			if p.Batch.Events[0].SendingDomain != dom {
				t.Fatalf("sending domain %q, want %q", p.Batch.Events[0].SendingDomain, dom)
			}
			first, last := p.Batch.Events[0].TimeUS, p.Batch.Events[len(p.Batch.Events)-1].TimeUS
			if p.FirstUS != first || p.LastUS != last {
				t.Fatalf("page %d: FirstUS, LastUS = %d, %d, want %d, %d", p.Number, p.FirstUS, p.LastUS, first, last)
			}
		}
	}
}

func TestEventPagesWindow(t *testing.T) {
	e := mgtest.New(t, apiConfig(3000), mgserver.Options{})
	c := apiClient(t, e, RetryPolicy{})
	dom := e.Res.SendingDomains[1]
	// A window cut mid-second: it is read widened to whole seconds.
	from := e.Res.Start.Add(26*time.Hour + 300*time.Millisecond).UnixMicro()
	to := e.Res.Start.Add(50*time.Hour + 700*time.Millisecond).UnixMicro()
	got, _ := pageAll(t, c.EventPages, EventQuery{Domain: dom, FromUS: from, ToUS: to})
	sameKeys(t, "window", got, serverKeys(t, e.Acct, dom, floorSec(from)*1e6, ceilSec(to)*1e6))
}

func TestLogPagesMatchEventPages(t *testing.T) {
	e := mgtest.New(t, apiConfig(3000), mgserver.Options{})
	c := apiClient(t, e, RetryPolicy{})
	for _, dom := range e.Res.SendingDomains {
		q := EventQuery{Domain: dom, FromUS: e.Res.Start.UnixMicro(), ToUS: e.Res.End.UnixMicro()}
		events, _ := pageAll(t, c.EventPages, q)
		logs, pages := pageAll(t, c.LogPages, q)
		sameKeys(t, dom+" logs", logs, events)
		if len(pages) < 5 {
			t.Errorf("%s: %d Logs API pages, want many of 100", dom, len(pages))
		}
		for _, p := range pages {
			if len(p.Batch.Events) > 100 {
				t.Fatalf("Logs API page of %d items, want at most 100", len(p.Batch.Events))
			}
		}
	}
	if n := e.Srv.Stats().LogPages; n == 0 {
		t.Error("no Logs API pages served")
	}
}

func TestEventPagesUnknownDomain(t *testing.T) {
	e := mgtest.New(t, apiConfig(500), mgserver.Options{})
	c := apiClient(t, e, RetryPolicy{})
	err := c.EventPages(context.Background(), EventQuery{Domain: "nosuch.example.com", FromUS: 0, ToUS: e.Res.End.UnixMicro()}, Options{},
		func(*Page) error { return nil })
	ae, ok := AsAPIError(err)
	if !ok || ae.Status != 404 || !strings.Contains(err.Error(), "nosuch.example.com") {
		t.Fatalf("got %v, want a 404 naming the domain", err)
	}
	if n := e.Srv.Stats().Requests; n != 1 {
		t.Errorf("%d requests for a 404, want 1 (not retried)", n)
	}
}

func TestPagerCallbackErrorStops(t *testing.T) {
	e := mgtest.New(t, apiConfig(2000), mgserver.Options{})
	c := apiClient(t, e, RetryPolicy{})
	stop := errors.New("stop")
	n := 0
	err := c.EventPages(context.Background(), EventQuery{Domain: e.Res.SendingDomains[0], FromUS: 0, ToUS: e.Res.End.UnixMicro()}, Options{},
		func(*Page) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Fatalf("got %v after %d pages, want the callback's error after 1", err, n)
	}
}
