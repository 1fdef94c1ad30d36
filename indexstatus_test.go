package maildiag

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestSetCoverageFindsGaps(t *testing.T) {
	var st IndexStatus
	st.SetCoverage([]DomainDay{{"", 5}, {"a.example", 10}, {"a.example", 11}, {"a.example", 14}, {"a.example", 20}, {"b.example", 3}})
	want := []Coverage{
		{SendingDomain: "", FirstDay: 5, LastDay: 5, DaysWithData: 1, Gaps: []DayRange{}},
		{SendingDomain: "a.example", FirstDay: 10, LastDay: 20, DaysWithData: 4, Gaps: []DayRange{{12, 13}, {15, 19}}},
		{SendingDomain: "b.example", FirstDay: 3, LastDay: 3, DaysWithData: 1, Gaps: []DayRange{}},
	}
	if !reflect.DeepEqual(st.Coverage, want) {
		t.Errorf("coverage %+v, want %+v", st.Coverage, want)
	}
}

func TestEmptyStatusListsAreEmptyInJSON(t *testing.T) {
	var st IndexStatus
	st.SetCounts(nil)
	st.SetCoverage(nil)
	st.Lists()
	b, _ := json.Marshal(&st)
	var m map[string]any
	json.Unmarshal(b, &m)
	for _, k := range []string{"events_by_domain_and_type", "coverage", "suppressions", "imports", "syncs", "list_syncs"} {
		if l, ok := m[k].([]any); !ok || len(l) != 0 {
			t.Errorf("%s is %v in %s, want []", k, m[k], b)
		}
	}
}

func TestMergeRanges(t *testing.T) {
	got := MergeRanges([]Range{{30, 40}, {0, 10}, {10, 15}, {5, 7}, {50, 50}, {39, 45}})
	want := []Range{{0, 15}, {30, 45}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("merged %v, want %v", got, want)
	}
}
