package readrows

import (
	"slices"
	"testing"
	"time"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/analyze"
)

func TestListEntries(t *testing.T) {
	rows := []ListRow{
		{e: analyze.ListEntry{Suppression: maildiag.Suppression{Address: "a@acme.com", List: "bounces"}}, tags: `["t1","t2"]`, first: 1_000_000, last: 2_000_000, imports: 3},
		{e: analyze.ListEntry{Suppression: maildiag.Suppression{Address: "b@other.com", List: "bounces"}}, removed: 5_000_000},
	}
	got := ListEntries(rows, "*@acme.com")
	if len(got) != 1 || got[0].Address != "a@acme.com" {
		t.Fatalf("entries matching *@acme.com: %+v", got)
	}
	e := got[0]
	if !slices.Equal(e.Tags, []string{"t1", "t2"}) || !e.FirstSeen.Equal(time.Unix(1, 0)) || !e.LastSeen.Equal(time.Unix(2, 0)) ||
		!e.Removed.IsZero() || !e.Imported {
		t.Errorf("entry %+v", e)
	}
	all := ListEntries(rows, "")
	if len(all) != 2 || !all[1].Removed.Equal(time.Unix(5, 0)) || all[1].Imported || all[1].Tags != nil {
		t.Errorf("all entries %+v", all)
	}
}
