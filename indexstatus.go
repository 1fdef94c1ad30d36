package maildiag

import (
	"sort"
	"time"
)

// IndexStatus is what an index holds, read from the counts kept at ingest so
// that it costs the same at any size. Both engines give it; its JSON is the
// contract of `maildiag status --output json`, where a list is [] when empty.
type IndexStatus struct {
	Path         string             `json:"path"` // a PostgreSQL URL without its password
	SizeBytes    int64              `json:"size_bytes"`
	Schema       int                `json:"schema_version"`
	Events       int64              `json:"events"`
	FirstUS      int64              `json:"first_event_us,omitempty"`
	LastUS       int64              `json:"last_event_us,omitempty"`
	EventCounts  []EventCount       `json:"events_by_domain_and_type"`
	Coverage     []Coverage         `json:"coverage"`
	Suppressions []SuppressionCount `json:"suppressions"`
	Rejects      int64              `json:"rejects"`
	Imports      []Import           `json:"imports"`
	Syncs        []SyncStatus       `json:"syncs"`
	ListSyncs    []ListSync         `json:"list_syncs"`
}

// SyncStatus is what syncs have read of one sending domain from one
// source: up to when, and when they last ran.
type SyncStatus struct {
	SendingDomain string `json:"sending_domain"`
	Source        string `json:"source"`
	FromUS        int64  `json:"from_us"`
	ToUS          int64  `json:"to_us"` // events before this time are complete
	LastSyncUS    int64  `json:"last_sync_us"`
	Ranges        int    `json:"ranges"` // more than 1: holes a later sync fills
}

// EventCount is the number of events of one type from one sending domain.
type EventCount struct {
	SendingDomain string `json:"sending_domain"`
	Type          string `json:"type"`
	Events        int64  `json:"events"`
}

// Coverage is the span of days a sending domain has events for, and the
// days inside it without any: an export or sync that missed them.
type Coverage struct {
	SendingDomain string     `json:"sending_domain"`
	FirstDay      int64      `json:"first_day"`
	LastDay       int64      `json:"last_day"`
	DaysWithData  int64      `json:"days_with_events"`
	Gaps          []DayRange `json:"gaps"`
}

// DayRange is an inclusive range of UTC day numbers.
type DayRange struct {
	From int64 `json:"from_day"`
	To   int64 `json:"to_day"`
}

// SuppressionCount counts one list of one sending domain.
type SuppressionCount struct {
	SendingDomain string `json:"sending_domain"`
	List          string `json:"list"`
	Active        int64  `json:"active"`
	Removed       int64  `json:"removed"`
}

// DomainDay is a day on which a sending domain has events.
type DomainDay struct {
	SendingDomain string
	Day           int64
}

// SetCounts sets the event counts and their total.
func (st *IndexStatus) SetCounts(counts []EventCount) {
	st.EventCounts, st.Events = counts, 0
	for _, c := range counts {
		st.Events += c.Events
	}
}

// SetCoverage sets the coverage of the days with events, ordered by sending
// domain, then day.
func (st *IndexStatus) SetCoverage(days []DomainDay) {
	st.Coverage = []Coverage{}
	var cur *Coverage
	for _, d := range days {
		if cur == nil || cur.SendingDomain != d.SendingDomain {
			st.Coverage = append(st.Coverage, Coverage{SendingDomain: d.SendingDomain, FirstDay: d.Day, LastDay: d.Day, Gaps: []DayRange{}})
			cur = &st.Coverage[len(st.Coverage)-1]
		} else if d.Day > cur.LastDay+1 {
			cur.Gaps = append(cur.Gaps, DayRange{From: cur.LastDay + 1, To: d.Day - 1})
		}
		cur.LastDay = d.Day
		cur.DaysWithData++
	}
}

// Lists makes the empty lists [] in JSON rather than null, as the contract
// has them.
func (st *IndexStatus) Lists() {
	st.EventCounts = orEmpty(st.EventCounts)
	st.Coverage = orEmpty(st.Coverage)
	st.Suppressions = orEmpty(st.Suppressions)
	st.Imports = orEmpty(st.Imports)
	st.Syncs = orEmpty(st.Syncs)
	st.ListSyncs = orEmpty(st.ListSyncs)
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// MergeRanges sorts ranges and merges the overlapping and touching ones;
// empty ranges go.
func MergeRanges(rs []Range) []Range {
	sort.Slice(rs, func(i, j int) bool { return rs[i].FromUS < rs[j].FromUS })
	var out []Range
	for _, r := range rs {
		if r.ToUS <= r.FromUS {
			continue
		}
		if n := len(out); n > 0 && r.FromUS <= out[n-1].ToUS {
			out[n-1].ToUS = max(out[n-1].ToUS, r.ToUS)
			continue
		}
		out = append(out, r)
	}
	return out
}

// TimeUS is a time in microseconds since the epoch as a UTC time; 0 is the
// zero time, as the index stores "none".
func TimeUS(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}
