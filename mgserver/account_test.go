package mgserver

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/maildiag/maildiag/synth"
)

func TestFromSynthHoldsTheAccount(t *testing.T) {
	acct, res, err := FromSynth(context.Background(), smallConfig())
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, d := range res.SendingDomains {
		evs := acct.Events(d)
		if len(evs) != res.ByDomain[d] {
			t.Errorf("%s: %d events, synth emitted %d", d, len(evs), res.ByDomain[d])
		}
		for i, ev := range evs {
			if i > 0 && ev.Time < evs[i-1].Time {
				t.Fatalf("%s: event %d out of time order", d, i)
			}
			if ev.Domain != d || ev.Type == "" || ev.ID == "" || len(ev.EventsJSON) == 0 || len(ev.LogsJSON) == 0 {
				t.Fatalf("%s: event %d incomplete: %+v", d, i, ev)
			}
			if ev.Type == "failed" && ev.Severity == "" {
				t.Fatalf("%s: failed event %d without severity", d, i)
			}
		}
		total += len(evs)
		if len(acct.Bounces(d)) != len(res.Suppressions[d].Bounces) || len(acct.Allowlist(d)) != len(res.Suppressions[d].Allowlist) {
			t.Errorf("%s: lists differ from synth's", d)
		}
	}
	if total != res.Events || acct.AccountID() != res.AccountID {
		t.Errorf("%d events, account %q; want %d, %q", total, acct.AccountID(), res.Events, res.AccountID)
	}
	if !acct.HasDomain("MG.BRIGHTCART.IO") || acct.HasDomain("example.com") {
		t.Error("HasDomain is wrong")
	}
}

func TestConcurrentMutations(t *testing.T) {
	e := newEnv(t, smallConfig(), Options{})
	dom := e.res.SendingDomains[0]
	before := len(e.acct.Events(dom))
	// Events of another account with the same domains, to add while
	// clients read.
	var extra []*synth.Event
	cfg := smallConfig()
	cfg.Seed, cfg.Events = 99, 300
	if _, err := synth.Generate(context.Background(), cfg, func(ev *synth.Event) error {
		extra = append(extra, ev)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	added := 0
	for _, ev := range extra {
		if ev.SendingDomain() == dom {
			added++
		}
	}
	bounces := e.acct.Bounces(dom)
	var wg sync.WaitGroup
	wg.Add(3)
	go func() {
		defer wg.Done()
		for _, ev := range extra {
			if err := e.acct.AddSynthEvent(ev); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	// Readers report with t.Error: only the test's goroutine may stop it.
	read := func(u string) {
		if r, err := e.do("GET", u, "", nil); err != nil || r.status != 200 {
			t.Errorf("GET %s: %v %d", u, err, r.status)
		}
	}
	go func() {
		defer wg.Done()
		for i := 0; i < 20; i++ {
			read(fmt.Sprintf("/v3/%s/events?begin=%s&ascending=yes&limit=300&pretty=no", dom, epoch(e.res.Start.Add(time.Duration(i)*6*time.Hour))))
		}
	}()
	go func() {
		defer wg.Done()
		for _, b := range bounces[:20] {
			if ok, err := e.acct.Delete(dom, Bounces, b.Address); !ok || err != nil {
				t.Errorf("delete %s: %v %v", b.Address, ok, err)
			}
			read("/v3/" + dom + "/bounces?limit=50")
		}
	}()
	wg.Wait()
	evs := e.acct.Events(dom)
	if len(evs) != before+added {
		t.Errorf("%d events, want %d + %d added", len(evs), before, added)
	}
	for i := 1; i < len(evs); i++ {
		if evs[i].Time < evs[i-1].Time {
			t.Fatalf("event %d out of order after concurrent adds", i)
		}
	}
	got, _ := e.followEvents(fmt.Sprintf("/v3/%s/events?begin=%s&ascending=yes&limit=300&pretty=no", dom, epoch(e.res.Start)))
	if len(got) != before+added {
		t.Errorf("paging after the adds: %d items, want %d", len(got), before+added)
	}
	if len(e.acct.Bounces(dom)) != len(bounces)-20 {
		t.Errorf("bounces %d, want %d", len(e.acct.Bounces(dom)), len(bounces)-20)
	}
}
