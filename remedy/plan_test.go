package remedy

import (
	"strings"
	"testing"
	"time"

	"github.com/maildiag/maildiag/analyze"
)

func TestSelectRemovals(t *testing.T) {
	day := func(d int) time.Time { return time.Date(2026, 11, d, 12, 0, 0, 0, time.UTC) }
	block := &analyze.Cause{Code: 550, Enhanced: "5.7.1", Reply: "5.7.1 Envelope blocked\nsecond line", Class: "policy-block"}
	unknown := &analyze.Cause{Code: 550, Enhanced: "5.1.1", Reply: "no such user", Class: "user-unknown"}
	res := &analyze.SuppressedResult{Addresses: []analyze.SuppressedAddress{
		{Address: "a@acme.com", SendingDomain: "mg.x.com", List: "bounces", Since: day(5), State: "listed", Source: "list", ListCode: "550", Cause: block},
		{Address: "a@acme.com", SendingDomain: "mg.x.com", List: "bounces", Since: day(7), State: "listed", Source: "list", ListCode: "550", Cause: block},
		{Address: "b@acme.com", SendingDomain: "mg.x.com", List: "bounces", Since: day(6), State: "probably-listed", Source: "events", Cause: unknown},
		{Address: "c@acme.com", SendingDomain: "mg.x.com", List: "bounces", Since: day(6), State: "removed", Source: "list", Cause: block},
		{Address: "d@acme.com", SendingDomain: "mg.x.com", List: "unsubscribes", Since: day(8), State: "listed", Source: "list", Tags: []string{"news"}},
		{Address: "e@acme.com", SendingDomain: "mg.x.com", List: "complaints", Since: day(9), State: "listed", Source: "list"},
		{Address: "*@acme.com", SendingDomain: "mg.x.com", List: "allowlist", Since: day(1), State: "listed", Source: "list"},
		{Address: "f@acme.com", SendingDomain: "mg.x.com", List: "bounces", Since: day(4), State: "probably-listed", Source: "events", Cause: block},
	}}
	gone := map[entryKey]int64{{"f@acme.com", "mg.x.com", "bounces"}: day(10).UnixMicro()}
	for _, c := range []struct {
		name             string
		f                RemoveFilter
		want             string
		skipped, unknown int
	}{
		{"default lists", RemoveFilter{Lists: DefaultLists}, "a@acme.com", 1, 1},
		{"unknown users included", RemoveFilter{Lists: DefaultLists, IncludeUnknownUsers: true}, "a@acme.com b@acme.com", 1, 0},
		{"unknown users named", RemoveFilter{Lists: DefaultLists, Classes: []string{"user-unknown"}}, "b@acme.com", 0, 0},
		{"all lists", RemoveFilter{Lists: RemovableLists, IncludeUnknownUsers: true}, "a@acme.com b@acme.com d@acme.com e@acme.com", 1, 0},
		{"class", RemoveFilter{Lists: RemovableLists, Classes: []string{"policy-block"}}, "a@acme.com", 1, 0},
		{"after", RemoveFilter{Lists: RemovableLists, After: day(7)}, "a@acme.com d@acme.com e@acme.com", 0, 0},
		{"before", RemoveFilter{Lists: RemovableLists, Before: day(7), IncludeUnknownUsers: true}, "a@acme.com b@acme.com", 1, 0},
		{"unsubscribes", RemoveFilter{Lists: []string{"unsubscribes"}}, "d@acme.com", 0, 0},
	} {
		got, skipped, unknown := selectRemovals(res, c.f, gone)
		var addrs []string
		for _, r := range got {
			addrs = append(addrs, r.Address)
		}
		if s := strings.Join(addrs, " "); s != c.want || skipped != c.skipped || unknown != c.unknown {
			t.Errorf("%s: got %q (%d skipped, %d unknown users), want %q (%d, %d)", c.name, s, skipped, unknown, c.want, c.skipped, c.unknown)
		}
	}
	if err := (&RemoveResult{Entries: make([]Removal, DefaultMax+1)}).CheckMax(0); err == nil || !strings.Contains(err.Error(), "raise --max") {
		t.Errorf("a removal over the cap: %v", err)
	}
	if err := (&RemoveResult{Entries: make([]Removal, 150)}).CheckMax(200); err != nil {
		t.Errorf("a removal under a raised cap: %v", err)
	}
	got, _, _ := selectRemovals(res, RemoveFilter{Lists: DefaultLists, IncludeUnknownUsers: true}, gone)
	if a := got[0]; !a.Since.Equal(day(7)) || a.Cause != "550 5.7.1 Envelope blocked" {
		t.Errorf("a@acme.com: since %v, cause %q; want the newer entry and the first line of the reply", a.Since, a.Cause)
	}
	if b := got[1]; b.ListCode != "550" || b.ListError != "no such user" || b.Source != "events" {
		t.Errorf("b@acme.com from the event log: code %q, error %q; want the failure's", b.ListCode, b.ListError)
	}
}
