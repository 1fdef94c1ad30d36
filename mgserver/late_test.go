package mgserver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestLateEventsAppearInServedRanges(t *testing.T) {
	e := newEnv(t, smallConfig(), Options{LateFraction: 0.2, LateDelay: 48 * time.Hour, Seed: 3})
	dom := e.res.SendingDomains[0]
	all := e.acct.Events(dom)
	firstURL := fmt.Sprintf("/v3/%s/events?begin=%s&ascending=yes&limit=300&pretty=no", dom, epoch(e.res.Start))
	early, endURL := e.followEvents(firstURL)
	// With the clock at the end of the range, a fifth of the last two
	// days' events have not arrived.
	missing := len(all) - len(early)
	if missing < 20 || missing > len(all)/5 {
		t.Fatalf("%d of %d events missing before the delay, want some, at most a fifth of the range", missing, len(all))
	}
	seen := map[string]bool{}
	for _, it := range early {
		seen[itemID(t, it)] = true
	}
	cut := e.res.End.Add(-48 * time.Hour).UnixMicro()
	for _, ev := range all {
		if !seen[itemID(t, ev.EventsJSON)] && ev.Time <= cut {
			t.Fatalf("event at %s is missing although older than the delay", ev.When())
		}
	}
	// The saved end-of-data URL (open-ended ascending range) still answers
	// an empty page: the late events lie before its position.
	if p := e.eventsPage(endURL); len(p.Items) != 0 {
		t.Fatalf("end URL gave %d items before the clock moved", len(p.Items))
	}
	e.clock.Set(e.res.End.Add(49 * time.Hour))
	late, _ := e.followEvents(firstURL)
	if len(late) != len(all) {
		t.Fatalf("after the delay: %d items, want all %d", len(late), len(all))
	}
	for i := range all {
		if !bytes.Equal(late[i], all[i].EventsJSON) {
			t.Fatalf("after the delay, item %d is out of order", i)
		}
	}
}

func TestAddedEventIsLate(t *testing.T) {
	e := newEnv(t, smallConfig(), Options{LateDelay: time.Hour})
	dom := e.res.SendingDomains[0]
	base := e.acct.Events(dom)[100]
	// A copy of an event with a new id, placed ten minutes before now.
	var m map[string]any
	if err := json.Unmarshal(base.EventsJSON, &m); err != nil {
		t.Fatal(err)
	}
	at := e.clock.Now().Add(-10 * time.Minute)
	m["id"] = "LateArrivalLateArrival"
	m["timestamp"] = json.Number(fmt.Sprintf("%d.%06d", at.Unix(), at.Nanosecond()/1000))
	raw, _ := json.Marshal(m)
	if err := e.acct.AddEvent(dom, raw, nil); err != nil {
		t.Fatal(err)
	}
	if err := e.acct.AddEvent("nosuch.example.com", raw, nil); err == nil {
		t.Error("AddEvent to an unknown domain: no error")
	}
	if err := e.acct.AddEvent(dom, []byte(`{"event":"accepted"}`), nil); err == nil {
		t.Error("AddEvent without a timestamp: no error")
	}
	u := fmt.Sprintf("/v3/%s/events?begin=%d&ascending=yes&limit=300&pretty=no&event=%s", dom, at.Add(-time.Minute).Unix(), base.Type)
	find := func() bool {
		items, _ := e.followEvents(u)
		for _, it := range items {
			if strings.Contains(string(it), "LateArrivalLateArrival") {
				return true
			}
		}
		return false
	}
	if find() {
		t.Fatal("the added event is visible before its delay")
	}
	e.clock.Set(at.Add(time.Hour))
	if !find() {
		t.Fatal("the added event is not visible once the clock passed its time plus the delay")
	}
	added := 0
	for _, ev := range e.acct.Events(dom) {
		if ev.Added {
			added++
			if ev.ID != "LateArrivalLateArrival" || ev.Time != at.UnixMicro() {
				t.Errorf("added event has id %q time %d, want LateArrivalLateArrival at %d", ev.ID, ev.Time, at.UnixMicro())
			}
		}
	}
	if added != 1 {
		t.Errorf("%d events marked Added, want 1", added)
	}
}

func TestFutureEventsAreHidden(t *testing.T) {
	e := newEnv(t, smallConfig(), Options{})
	dom := e.res.SendingDomains[0]
	all := e.acct.Events(dom)
	mid := all[len(all)/2]
	e.clock.Set(mid.When())
	got, _ := e.followEvents(fmt.Sprintf("/v3/%s/events?begin=%s&ascending=yes&limit=300&pretty=no", dom, epoch(e.res.Start)))
	want := 0
	for _, ev := range all {
		if ev.Time <= mid.Time {
			want++
		}
	}
	if len(got) != want {
		t.Errorf("clock at event %d: %d items, want %d", len(all)/2, len(got), want)
	}
	// Without begin, a descending query starts at the clock.
	p := e.eventsPage(fmt.Sprintf("/v3/%s/events?ascending=no&limit=1&pretty=no", dom))
	if len(p.Items) != 1 || itemID(t, p.Items[0]) != itemID(t, all[want-1].EventsJSON) {
		t.Errorf("descending from now does not start at the latest event")
	}
	// With no range at all, the same: newest first.
	p = e.eventsPage(fmt.Sprintf("/v3/%s/events?limit=2&pretty=no", dom))
	if len(p.Items) != 2 || itemID(t, p.Items[1]) != itemID(t, all[want-2].EventsJSON) {
		t.Errorf("a query without range does not list the newest events first")
	}
}

func TestEventRetention(t *testing.T) {
	e := newEnv(t, smallConfig(), Options{EventRetention: 2 * 24 * time.Hour})
	dom := e.res.SendingDomains[0]
	got, _ := e.followEvents(fmt.Sprintf("/v3/%s/events?begin=%s&ascending=yes&limit=300&pretty=no", dom, epoch(e.res.Start)))
	cut := e.res.End.Add(-48 * time.Hour).UnixMicro()
	want := 0
	for _, ev := range e.acct.Events(dom) {
		if ev.Time >= cut {
			want++
		}
	}
	if len(got) != want || want == 0 {
		t.Errorf("with two days' retention: %d items, want %d", len(got), want)
	}
	e.get("/v3/"+dom+"/events?begin=x", http.StatusBadRequest)
}
