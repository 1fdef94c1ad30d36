package mgserver

import (
	"bytes"
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"
)

type logsPage struct {
	Start      string            `json:"start"`
	End        string            `json:"end"`
	Items      []json.RawMessage `json:"items"`
	Pagination struct {
		Next     string `json:"next"`
		Previous string `json:"previous"`
		Total    *int   `json:"total"`
	} `json:"pagination"`
	Aggregates map[string]any `json:"aggregates"`
}

func (e *env) logs(body map[string]any, want int) (logsPage, []byte) {
	e.t.Helper()
	b, _ := json.Marshal(body)
	r, err := e.do(http.MethodPost, "/v1/analytics/logs", "application/json", bytes.NewReader(b))
	if err != nil {
		e.t.Fatal(err)
	}
	if r.status != want {
		e.t.Fatalf("logs %s: status %d, want %d: %s", b, r.status, want, r.body)
	}
	var p logsPage
	if want == http.StatusOK {
		if err := json.Unmarshal(r.body, &p); err != nil {
			e.t.Fatalf("logs: %v", err)
		}
	}
	return p, r.body
}

// followLogs pages a Logs query to its end.
func (e *env) followLogs(body map[string]any) []json.RawMessage {
	e.t.Helper()
	var all []json.RawMessage
	for pages := 0; pages < 1000; pages++ {
		p, _ := e.logs(body, http.StatusOK)
		all = append(all, p.Items...)
		if p.Pagination.Next == "" {
			return all
		}
		pg := body["pagination"].(map[string]any)
		pg["token"] = p.Pagination.Next
	}
	e.t.Fatal("logs paging does not end")
	return nil
}

func rfc2822(t time.Time) string { return t.UTC().Format("Mon, 02 Jan 2006 15:04:05 -0000") }

func TestLogsPagingAcrossDomains(t *testing.T) {
	e := newEnv(t, smallConfig(), Options{})
	var want []Event
	for _, d := range e.res.SendingDomains {
		want = append(want, e.acct.Events(d)...)
	}
	sort.SliceStable(want, func(i, j int) bool { return want[i].Time < want[j].Time })
	for _, dir := range []string{"timestamp:asc", "timestamp:desc"} {
		got := e.followLogs(map[string]any{
			"start": rfc2822(e.res.Start), "end": rfc2822(e.res.End),
			"pagination": map[string]any{"sort": dir, "limit": 100},
		})
		if len(got) != len(want) {
			t.Fatalf("%s: %d items, want %d", dir, len(got), len(want))
		}
		seen := map[string]bool{}
		var prev string
		for i, it := range got {
			id := itemID(t, it)
			if seen[id] {
				t.Fatalf("%s: item %d (%s) repeated", dir, i, id)
			}
			seen[id] = true
			var v struct {
				TS string `json:"@timestamp"`
			}
			json.Unmarshal(it, &v)
			if prev != "" && (dir == "timestamp:asc") != (v.TS >= prev) && v.TS != prev {
				t.Fatalf("%s: item %d at %s out of order after %s", dir, i, v.TS, prev)
			}
			prev = v.TS
		}
		for _, ev := range want {
			if !seen[itemID(t, ev.LogsJSON)] {
				t.Fatalf("%s: event %s missing", dir, ev.ID)
			}
		}
	}
	p, _ := e.logs(map[string]any{"start": rfc2822(e.res.Start), "end": rfc2822(e.res.End),
		"pagination": map[string]any{"sort": "timestamp:asc", "limit": 100}}, http.StatusOK)
	if !bytes.Equal(p.Items[0], want[0].LogsJSON) {
		t.Errorf("first item is not the account's earliest event in the Logs shape")
	}
	if p.Start != rfc2822(e.res.Start) || p.End != rfc2822(e.res.End) || p.Aggregates == nil {
		t.Errorf("start %q end %q aggregates %v", p.Start, p.End, p.Aggregates)
	}
}

func TestLogsFilters(t *testing.T) {
	e := newEnv(t, smallConfig(), Options{})
	var all []Event
	for _, d := range e.res.SendingDomains {
		all = append(all, e.acct.Events(d)...)
	}
	// A recipient domain with traffic.
	byDomain := map[string]int{}
	for _, ev := range all {
		if i := strings.LastIndexByte(ev.Recipient, '@'); i > 0 {
			byDomain[ev.Recipient[i+1:]]++
		}
	}
	rdom, best := "", 0
	for d, n := range byDomain {
		if n > best || n == best && d < rdom {
			rdom, best = d, n
		}
	}
	mid := all[len(all)/3].MessageID
	cond := func(attr, cmp string, vals ...string) map[string]any {
		var vs []map[string]string
		for _, v := range vals {
			vs = append(vs, map[string]string{"label": v, "value": v})
		}
		return map[string]any{"attribute": attr, "comparator": cmp, "values": vs}
	}
	cases := []struct {
		name   string
		events []string
		conds  []map[string]any
		want   func(ev Event) bool
	}{
		{"domain", nil, []map[string]any{cond("domain", "=", e.res.SendingDomains[1])}, func(ev Event) bool { return ev.Domain == e.res.SendingDomains[1] }},
		{"failed permanent", []string{"failed"}, []map[string]any{cond("severity", "=", "permanent")}, func(ev Event) bool { return ev.Type == "failed" && ev.Severity == "permanent" }},
		{"recipient_domain", nil, []map[string]any{cond("recipient_domain", "=", rdom)}, func(ev Event) bool { return strings.HasSuffix(ev.Recipient, "@"+rdom) }},
		{"recipient !=", []string{"delivered"}, []map[string]any{cond("recipient_domain", "!=", rdom)}, func(ev Event) bool { return ev.Type == "delivered" && !strings.HasSuffix(ev.Recipient, "@"+rdom) }},
		{"recipient contains", nil, []map[string]any{cond("recipient", "contains", "@"+rdom)}, func(ev Event) bool { return strings.Contains(ev.Recipient, "@"+rdom) }},
		{"message_id", nil, []map[string]any{cond("message_id", "=", mid)}, func(ev Event) bool { return ev.MessageID == mid }},
		{"event attribute", nil, []map[string]any{cond("event", "=", "opened", "clicked")}, func(ev Event) bool { return ev.Type == "opened" || ev.Type == "clicked" }},
		{"code 250", nil, []map[string]any{cond("delivery_status_code", "=", "250")}, func(ev Event) bool {
			return strings.Contains(string(ev.EventsJSON), `"code":250,`)
		}},
	}
	for _, c := range cases {
		want := 0
		for _, ev := range all {
			if c.want(ev) {
				want++
			}
		}
		if want == 0 {
			t.Errorf("%s: nothing matches in the account", c.name)
			continue
		}
		body := map[string]any{
			"start": rfc2822(e.res.Start), "end": rfc2822(e.res.End),
			"filter":     map[string]any{"AND": c.conds},
			"pagination": map[string]any{"sort": "timestamp:asc", "limit": 100},
		}
		if c.events != nil {
			body["events"] = c.events
		}
		got := e.followLogs(body)
		if len(got) != want {
			t.Errorf("%s: %d items, want %d", c.name, len(got), want)
		}
	}
	body := map[string]any{"start": rfc2822(e.res.Start), "end": rfc2822(e.res.End), "include_totals": true,
		"events": []string{"failed"}, "pagination": map[string]any{"limit": 5}}
	p, _ := e.logs(body, http.StatusOK)
	failed := 0
	for _, ev := range all {
		if ev.Type == "failed" {
			failed++
		}
	}
	if p.Pagination.Total == nil || *p.Pagination.Total != failed || len(p.Items) != 5 {
		t.Errorf("include_totals: total %v with %d items, want %d with 5", p.Pagination.Total, len(p.Items), failed)
	}
}

func TestLogsErrors(t *testing.T) {
	e := newEnv(t, smallConfig(), Options{})
	ok := map[string]any{"start": rfc2822(e.res.Start), "end": rfc2822(e.res.End), "pagination": map[string]any{"limit": 100}}
	p, _ := e.logs(ok, http.StatusOK)
	if len(p.Items) != 100 || p.Pagination.Next == "" {
		t.Fatalf("limit 100: %d items, next %q", len(p.Items), p.Pagination.Next)
	}
	bad := []struct {
		body map[string]any
		text string
	}{
		{map[string]any{"pagination": map[string]any{"limit": 101}}, "limit"},
		{map[string]any{"pagination": map[string]any{"sort": "time:asc"}}, "sort"},
		{map[string]any{"start": "yesterday"}, "start"},
		{map[string]any{"start": rfc2822(e.res.End), "end": rfc2822(e.res.Start)}, "before"},
		{map[string]any{"events": []string{"bounced"}}, "events"},
		{map[string]any{"filter": map[string]any{"OR": []any{}}}, "AND"},
		{map[string]any{"filter": map[string]any{"AND": []any{map[string]any{"attribute": "ip", "comparator": "=", "values": []any{map[string]string{"value": "1"}}}}}}, "ip"},
		{map[string]any{"pagination": map[string]any{"token": "garbage"}}, "token"},
		// A token from one query does not apply to another.
		{map[string]any{"start": rfc2822(e.res.Start.Add(time.Hour)), "end": rfc2822(e.res.End), "pagination": map[string]any{"token": p.Pagination.Next}}, "different query"},
	}
	for _, c := range bad {
		_, body := e.logs(c.body, http.StatusBadRequest)
		if !strings.Contains(string(body), c.text) {
			t.Errorf("%v: body %s, want a message about %q", c.body, body, c.text)
		}
	}
	// The last page has no next.
	last, _ := e.logs(map[string]any{"start": rfc2822(e.res.End.Add(-time.Minute)), "end": rfc2822(e.res.End), "pagination": map[string]any{"limit": 100}}, http.StatusOK)
	if last.Pagination.Next != "" {
		t.Errorf("a one-page result has next %q", last.Pagination.Next)
	}
}
