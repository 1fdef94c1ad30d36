package ingest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/internal/mgtest"
	"github.com/maildiag/maildiag/mgserver"
	"github.com/maildiag/maildiag/synth"
)

// apiConfig is ingest's small account: two domains, five days, no stories.
func apiConfig(events int) synth.Config {
	return synth.Config{Seed: 11, Events: events, Days: 5, End: synth.DefaultEnd, NoStories: true,
		SendingDomains: []string{"mg.brightcart.io", "mail.ledgerly.com"}}
}

// apiClient returns a client of the test server with a fast retry policy.
func apiClient(t testing.TB, s *mgtest.Server, p RetryPolicy) *Client {
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
	c, err := NewClient(ClientOptions{BaseURL: s.URL, APIKey: mgtest.Key, Retry: p})
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

// serverKeys normalises the account's events of a domain in [from, to).
func serverKeys(t testing.TB, acct *mgserver.Account, domain string, from, to int64) map[eventKey]int {
	t.Helper()
	out := map[eventKey]int{}
	for _, se := range acct.Events(domain) {
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
