package mgserver

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mailgun/mailgun-go/v5"
	mgevents "github.com/mailgun/mailgun-go/v5/events"
)

func epoch(t time.Time) string { return fmt.Sprint(t.Unix()) }

func TestEventsAscendingPagingReturnsEveryEventOnce(t *testing.T) {
	e := newEnv(t, smallConfig(), Options{})
	dom := e.res.SendingDomains[0]
	want := e.acct.Events(dom)
	if len(want) < 600 {
		t.Fatalf("only %d events in %s: the test needs several pages", len(want), dom)
	}
	u := fmt.Sprintf("/v3/%s/events?begin=%s&end=%s&limit=250&pretty=no", dom, epoch(e.res.Start), epoch(e.res.End))
	got, _ := e.followEvents(u)
	if len(got) != len(want) {
		t.Fatalf("got %d items, want %d", len(got), len(want))
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i].EventsJSON) {
			t.Fatalf("item %d differs from the account's event:\n got %.200s\nwant %.200s", i, got[i], want[i].EventsJSON)
		}
	}
	if n := e.srv.Stats().EventPages; n != int64(len(want)/250+2) {
		t.Errorf("EventPages = %d, want %d", n, len(want)/250+2)
	}
}

func TestEventsDescendingPaging(t *testing.T) {
	e := newEnv(t, smallConfig(), Options{})
	dom := e.res.SendingDomains[1]
	want := e.acct.Events(dom)
	// begin after end: descending, as Mailgun infers it.
	u := fmt.Sprintf("/v3/%s/events?begin=%s&end=%s&limit=300&pretty=no", dom, epoch(e.res.End), epoch(e.res.Start))
	got, _ := e.followEvents(u)
	if len(got) != len(want) {
		t.Fatalf("got %d items, want %d", len(got), len(want))
	}
	for i := range want {
		if w := want[len(want)-1-i].EventsJSON; !bytes.Equal(got[i], w) {
			t.Fatalf("item %d: got %.120s, want %.120s", i, got[i], w)
		}
	}
	// ascending=no without end reaches back to the start of the data.
	u = fmt.Sprintf("/v3/%s/events?begin=%s&ascending=no&limit=300&pretty=no", dom, url.QueryEscape(e.res.End.Format(time.RFC1123Z)))
	got2, _ := e.followEvents(u)
	if len(got2) != len(want) {
		t.Errorf("ascending=no without end: %d items, want %d", len(got2), len(want))
	}
}

func TestEventsRangeBounds(t *testing.T) {
	e := newEnv(t, smallConfig(), Options{})
	dom := e.res.SendingDomains[0]
	evs := e.acct.Events(dom)
	// Begin at an event's exact time includes it; end at another's excludes it.
	b, en := evs[10], evs[40]
	u := fmt.Sprintf("/v3/%s/events?begin=%d.%06d&end=%d.%06d&limit=300&pretty=no", dom, b.Time/1e6, b.Time%1e6, en.Time/1e6, en.Time%1e6)
	got, _ := e.followEvents(u)
	n := 0
	for _, ev := range evs {
		if ev.Time >= b.Time && ev.Time < en.Time {
			n++
		}
	}
	if len(got) != n || !bytes.Equal(got[0], evs[10].EventsJSON) {
		t.Errorf("got %d items starting %.80s, want %d starting with event 10", len(got), got[0], n)
	}
}

func TestEventsPrettyByDefault(t *testing.T) {
	e := newEnv(t, smallConfig(), Options{})
	dom := e.res.SendingDomains[0]
	pretty := e.get(fmt.Sprintf("/v3/%s/events?begin=%s&ascending=yes&limit=5", dom, epoch(e.res.Start)), http.StatusOK)
	if !bytes.Contains(pretty, []byte("\n  ")) {
		t.Errorf("default response is not indented: %.200s", pretty)
	}
	compact := e.get(fmt.Sprintf("/v3/%s/events?begin=%s&ascending=yes&limit=5&pretty=no", dom, epoch(e.res.Start)), http.StatusOK)
	if bytes.Contains(compact, []byte("\n")) {
		t.Errorf("pretty=no response has newlines")
	}
	var a, c eventsPage
	if json.Unmarshal(pretty, &a) != nil || json.Unmarshal(compact, &c) != nil || len(a.Items) != 5 || len(c.Items) != 5 {
		t.Fatal("pretty or compact page does not decode to 5 items")
	}
	for i := range a.Items {
		var x bytes.Buffer
		json.Compact(&x, a.Items[i])
		if !bytes.Equal(x.Bytes(), c.Items[i]) {
			t.Errorf("item %d: pretty and compact differ in content", i)
		}
	}
}

func TestEventsParameterErrors(t *testing.T) {
	e := newEnv(t, smallConfig(), Options{})
	dom := e.res.SendingDomains[0]
	begin := epoch(e.res.Start)
	cases := []struct {
		query string
		want  int
		text  string
	}{
		{"begin=" + begin + "&ascending=yes&limit=300", 200, ""},
		{"begin=" + begin + "&ascending=yes&limit=301", 400, "limit"},
		{"begin=" + begin + "&ascending=yes&limit=0", 400, "limit"},
		{"begin=" + begin + "&ascending=yes&limit=ten", 400, "limit"},
		{"begin=" + begin, 400, "ascending"},
		{"limit=3", 200, ""}, // no range: newest first
		{"begin=" + begin + "&ascending=maybe", 400, "ascending"},
		{"begin=" + begin + "&end=" + epoch(e.res.End) + "&ascending=no", 400, "contradicts"},
		{"begin=yesterday&ascending=yes", 400, "begin"},
		{"begin=" + begin + "&ascending=yes&event=" + url.QueryEscape("(failed"), 400, "missing )"},
		{"begin=" + begin + "&ascending=yes&subject=" + url.QueryEscape(">5"), 400, "numeric"},
		{"begin=" + url.QueryEscape("Mon, 2 Nov 2026 00:00:00 -0000") + "&ascending=yes", 200, ""},
		{"begin=" + url.QueryEscape("Mon, 02 Nov 2026 00:00:00 GMT") + "&ascending=yes", 200, ""},
	}
	for _, c := range cases {
		body := e.get("/v3/"+dom+"/events?"+c.query, c.want)
		if c.want == 200 {
			var p eventsPage
			if err := json.Unmarshal(body, &p); err != nil {
				t.Errorf("%s: %v", c.query, err)
			}
			if strings.Contains(c.query, "limit=300") && len(p.Items) != 300 {
				t.Errorf("%s: %d items, want 300", c.query, len(p.Items))
			}
			continue
		}
		var m struct{ Message string }
		if err := json.Unmarshal(body, &m); err != nil || !strings.Contains(m.Message, c.text) {
			t.Errorf("%s: body %s, want a message about %q", c.query, body, c.text)
		}
	}
	def := e.eventsPage("/v3/" + dom + "/events?ascending=yes&begin=" + begin)
	if len(def.Items) != 100 {
		t.Errorf("default limit: %d items, want 100", len(def.Items))
	}
}

func TestEventsResumeFromSavedNextURL(t *testing.T) {
	cfg := smallConfig()
	e := newEnv(t, cfg, Options{})
	dom := e.res.SendingDomains[0]
	first := e.eventsPage(fmt.Sprintf("/v3/%s/events?begin=%s&ascending=yes&limit=50&pretty=no&event=delivered", dom, epoch(e.res.Start)))
	saved := first.Paging.Next
	if !strings.HasPrefix(saved, e.hs.URL+"/v3/"+dom+"/events/") {
		t.Fatalf("next URL %q is not an absolute URL on the server", saved)
	}
	second := e.eventsPage(saved)
	again := e.eventsPage(saved)
	if len(second.Items) != 50 || !bytes.Equal(second.Items[0], again.Items[0]) {
		t.Fatalf("the saved next URL does not give the same page twice")
	}
	// A new server for the same account accepts the saved URL: the token
	// carries the range, the filter and the position.
	e2 := newEnv(t, cfg, Options{})
	resumed := e2.eventsPage(strings.Replace(saved, e.hs.URL, e2.hs.URL, 1))
	if len(resumed.Items) != len(second.Items) {
		t.Fatalf("resumed page has %d items, want %d", len(resumed.Items), len(second.Items))
	}
	for i := range resumed.Items {
		if !bytes.Equal(resumed.Items[i], second.Items[i]) {
			t.Fatalf("resumed item %d differs", i)
		}
		var v struct{ Event string }
		json.Unmarshal(resumed.Items[i], &v)
		if v.Event != "delivered" {
			t.Fatalf("resumed page lost the filter: item %d is %q", i, v.Event)
		}
	}
	if !bytes.Equal(first.Items[49], e.eventsPage(second.Paging.Previous).Items[49]) {
		t.Error("previous of the second page is not the first page")
	}
	e.get("/v3/"+dom+"/events/not-a-token", http.StatusBadRequest)
	e.get("/v3/"+e.res.SendingDomains[1]+"/events/"+saved[strings.LastIndexByte(saved, '/')+1:], http.StatusBadRequest)
}

func TestEventsFirstAndLastLinks(t *testing.T) {
	e := newEnv(t, smallConfig(), Options{})
	dom := e.res.SendingDomains[0]
	all := e.acct.Events(dom)
	p := e.eventsPage(fmt.Sprintf("/v3/%s/events?begin=%s&end=%s&limit=100&pretty=no", dom, epoch(e.res.Start), epoch(e.res.End)))
	last := e.eventsPage(p.Paging.Last)
	if len(last.Items) != 100 {
		t.Fatalf("last page has %d items", len(last.Items))
	}
	for i, it := range last.Items {
		if !bytes.Equal(it, all[len(all)-100+i].EventsJSON) {
			t.Fatalf("last page item %d is not the account's event %d", i, len(all)-100+i)
		}
	}
	if f := e.eventsPage(last.Paging.First); !bytes.Equal(f.Items[0], all[0].EventsJSON) {
		t.Error("first link does not start at the first event")
	}
	end := e.eventsPage(last.Paging.Next)
	if len(end.Items) != 0 {
		t.Errorf("next of the last page has %d items, want an empty page", len(end.Items))
	}
}

func TestEventsUnknownDomainAndAuth(t *testing.T) {
	e := newEnv(t, smallConfig(), Options{})
	body := e.get("/v3/unknown.example.com/events?ascending=yes", http.StatusNotFound)
	if !strings.Contains(string(body), `"message"`) {
		t.Errorf("404 body %s, want a JSON message", body)
	}
	for _, auth := range []struct{ user, pass string }{{"api", "wrong"}, {"user", testKey}, {"", ""}} {
		req, _ := http.NewRequest(http.MethodGet, e.hs.URL+"/v3/"+e.res.SendingDomains[0]+"/events?ascending=yes", nil)
		if auth.user != "" {
			req.SetBasicAuth(auth.user, auth.pass)
		}
		resp, err := rawClient().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b := new(bytes.Buffer)
		b.ReadFrom(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || b.String() != "Forbidden" {
			t.Errorf("user %q: status %d body %q, want 401 Forbidden", auth.user, resp.StatusCode, b)
		}
	}
	if n := e.srv.Stats().Unauthorized; n != 3 {
		t.Errorf("Unauthorized = %d, want 3", n)
	}
}

func TestSDKListEvents(t *testing.T) {
	e := newEnv(t, smallConfig(), Options{})
	dom := e.res.SendingDomains[0]
	want := len(e.acct.Events(dom))
	mg := e.sdk()
	for _, opts := range []*mailgun.ListEventOptions{
		{Begin: e.res.Start, End: e.res.End, Limit: 300},
		nil, // no range: newest first, back to the oldest
	} {
		it := mg.ListEvents(dom, opts)
		var page []mgevents.Event
		n := 0
		for it.Next(context.Background(), &page) {
			n += len(page)
		}
		if it.Err() != nil || n != want {
			t.Errorf("ListEvents(%+v): %d events (err %v), want %d", opts, n, it.Err(), want)
		}
	}
}
