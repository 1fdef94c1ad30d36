package mgserver

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
)

func TestFilterExpressions(t *testing.T) {
	ev := &Event{
		Type: "failed", Severity: "permanent", Recipient: "Jane.Doe@Initech.example",
		MessageID: "20261101.1.ABC@mg.brightcart.io",
		from:      "Brightcart <no-reply@mg.brightcart.io>", to: "jane.doe@initech.example",
		subject: "Reset your password, Jane.", tags: []string{"password-reset", "transactional"},
		attachments: []string{"invoice.pdf"}, size: 15000,
	}
	cases := []struct {
		field, expr string
		want        bool
	}{
		{"event", "failed", true},
		{"event", "rejected OR failed", true},
		{"event", "delivered OR accepted", false},
		{"event", "NOT delivered", true},
		{"event", "-failed", false},
		{"event", "NOT (delivered OR failed)", false},
		{"severity", "Permanent", true},
		{"recipient", "jane.doe@initech.example", true},
		{"recipient", "initech.example", false}, // no wildcard, no partial address
		{"recipient", "*@initech.example", false},
		{"message-id", "<20261101.1.ABC@mg.brightcart.io>", true},
		{"from", "no-reply@mg.brightcart.io", true},
		{"from", "brightcart", true},
		{"from", "ledgerly", false},
		{"subject", "password reset", true},        // both terms
		{"subject", "password AND jane", true},     // explicit AND
		{"subject", `"reset your password"`, true}, // phrase
		{"subject", `"password reset"`, false},     // phrase in another order
		{"subject", "password -jane", false},
		{"subject", "invoice OR jane", true},
		{"tags", "transactional", true},
		{"tags", "marketing OR transactional", true},
		{"tags", "transactional AND NOT password-reset", false},
		{"attachment", "invoice.pdf", true},
		{"size", ">10000", true},
		{"size", ">10000 <12000", false},
		{"size", ">=15000 <=15000", true},
		{"size", "15000", true},
		{"to", "jane.doe@initech.example", true},
	}
	for _, c := range cases {
		m, err := compileFilters([][2]string{{c.field, c.expr}})
		if err != nil {
			t.Errorf("%s=%q: %v", c.field, c.expr, err)
			continue
		}
		if got := m(ev); got != c.want {
			t.Errorf("%s=%q: got %v, want %v", c.field, c.expr, got, c.want)
		}
	}
	for _, bad := range [][2]string{
		{"event", ""}, {"event", "(failed"}, {"event", "failed)"}, {"event", "failed OR"},
		{"event", `"failed`}, {"subject", ">5"}, {"nosuch", "x"}, {"event", "AND failed"},
	} {
		if _, err := compileFilters([][2]string{bad}); err == nil {
			t.Errorf("%s=%q: no error", bad[0], bad[1])
		}
	}
	// A repeated field means AND.
	m, err := compileFilters([][2]string{{"event", "failed"}, {"severity", "temporary"}})
	if err != nil || m(ev) {
		t.Errorf("event=failed&severity=temporary matched a permanent failure (err %v)", err)
	}
}

// decoded is what the filter tests read from items, independently of the
// server's own field extraction.
type decoded struct {
	Event     string   `json:"event"`
	Severity  string   `json:"severity"`
	Recipient string   `json:"recipient"`
	Tags      []string `json:"tags"`
	Message   struct {
		Headers struct {
			Subject   string `json:"subject"`
			MessageID string `json:"message-id"`
		} `json:"headers"`
	} `json:"message"`
}

func TestEventsFiltersOverHTTP(t *testing.T) {
	e := newEnv(t, smallConfig(), Options{})
	dom := e.res.SendingDomains[0]
	var all []decoded
	for _, ev := range e.acct.Events(dom) {
		var d decoded
		if err := json.Unmarshal(ev.EventsJSON, &d); err != nil {
			t.Fatal(err)
		}
		all = append(all, d)
	}
	// Pick a recipient with several events and a subject with two words.
	counts := map[string]int{}
	subject := ""
	for _, d := range all {
		counts[d.Recipient]++
		if subject == "" && len(strings.Fields(d.Message.Headers.Subject)) >= 3 {
			subject = d.Message.Headers.Subject
		}
	}
	rcpt := ""
	for r, n := range counts {
		if r != "" && n >= 3 && (rcpt == "" || r < rcpt) {
			rcpt = r
		}
	}
	words := strings.Fields(strings.ToLower(subject))
	w1, w2 := strings.Trim(words[0], ",.!?:"), strings.Trim(words[len(words)-1], ",.!?:")
	mid := all[len(all)/2].Message.Headers.MessageID
	cases := []struct {
		params string
		want   func(d decoded) bool
	}{
		{"event=failed", func(d decoded) bool { return d.Event == "failed" }},
		{"event=" + url.QueryEscape("rejected OR failed"), func(d decoded) bool { return d.Event == "failed" || d.Event == "rejected" }},
		{"event=" + url.QueryEscape("NOT delivered"), func(d decoded) bool { return d.Event != "delivered" }},
		{"event=failed&severity=temporary", func(d decoded) bool { return d.Event == "failed" && d.Severity == "temporary" }},
		{"recipient=" + url.QueryEscape(rcpt), func(d decoded) bool { return d.Recipient == rcpt }},
		{"message-id=" + url.QueryEscape(mid), func(d decoded) bool { return d.Message.Headers.MessageID == mid }},
		{"subject=" + url.QueryEscape(`"`+subject+`"`), func(d decoded) bool {
			return strings.Contains(strings.ToLower(d.Message.Headers.Subject), strings.ToLower(subject))
		}},
		{"subject=" + url.QueryEscape(w1+" "+w2), func(d decoded) bool {
			ws := strings.FieldsFunc(strings.ToLower(d.Message.Headers.Subject), func(r rune) bool { return strings.ContainsRune(" ,.!?:", r) })
			has := func(w string) bool {
				for _, x := range ws {
					if x == w {
						return true
					}
				}
				return false
			}
			return has(w1) && has(w2)
		}},
	}
	for _, c := range cases {
		want := 0
		for _, d := range all {
			if c.want(d) {
				want++
			}
		}
		if want == 0 {
			t.Errorf("%s: the account has no matching event; the case tests nothing", c.params)
			continue
		}
		got, _ := e.followEvents(fmt.Sprintf("/v3/%s/events?begin=%s&end=%s&limit=300&pretty=no&%s", dom, epoch(e.res.Start), epoch(e.res.End), c.params))
		if len(got) != want {
			t.Errorf("%s: %d items, want %d", c.params, len(got), want)
		}
		for _, it := range got {
			var d decoded
			json.Unmarshal(it, &d)
			if !c.want(d) {
				t.Errorf("%s: item does not match: %.200s", c.params, it)
				break
			}
		}
	}
}
