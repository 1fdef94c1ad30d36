package main

import (
	"time"

	"github.com/maildiag/maildiag"
)

// syncSummary is what one pass of sync did: the --output json contract.
type syncSummary struct {
	Source   string           `json:"source"`
	APIBase  string           `json:"api_base"`
	Started  time.Time        `json:"started"`
	Finished time.Time        `json:"finished"`
	Seconds  float64          `json:"seconds"`
	Workers  int              `json:"workers"`
	Domains  []*domainSummary `json:"domains"`
}

// domainSummary is one sending domain's part of a pass.
type domainSummary struct {
	Domain          string `json:"domain"`
	EventsRead      int    `json:"events_read"`
	EventsNew       int    `json:"events_new"`
	EventsSeenAgain int    `json:"events_seen_again"`
	Rejects         int    `json:"rejects"`
	Pages           int    `json:"pages"`
	Windows         int    `json:"windows"`
	// Requests, Retries, RateLimited and ServerErrors count every
	// request of the domain (events and lists), attempts included.
	Requests     int64 `json:"requests"`
	Retries      int64 `json:"retries"`
	RateLimited  int64 `json:"rate_limited"`
	ServerErrors int64 `json:"server_errors"`
	// FetchedFrom and FetchedTo bound what this pass read; absent when
	// the index already had everything.
	FetchedFrom *time.Time `json:"fetched_from,omitempty"`
	FetchedTo   *time.Time `json:"fetched_to,omitempty"`
	// SyncedRanges are the ranges the index holds as read completely from
	// the source, after the pass.
	SyncedRanges []timeRange   `json:"synced_ranges"`
	Suppressions []*listResult `json:"suppressions,omitempty"`
	Error        string        `json:"error,omitempty"`
}

// listResult is one suppression list's snapshot.
type listResult struct {
	List     string `json:"list"`
	Read     int    `json:"read"`
	New      int    `json:"new"`
	Removed  int    `json:"removed"`
	Pages    int    `json:"pages"`
	Complete bool   `json:"complete"` // the whole list was read and removals marked
}

// timeRange is a half-open range of times.
type timeRange struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

func timeRanges(rs []maildiag.Range) []timeRange {
	out := make([]timeRange, 0, len(rs))
	for _, r := range rs {
		out = append(out, timeRange{microTime(r.FromUS), microTime(r.ToUS)})
	}
	return out
}

// microTime is a time in microseconds as a UTC time.
func microTime(us int64) time.Time { return time.UnixMicro(us).UTC() }

// tables renders the summary for table and CSV output.
func (s *syncSummary) tables() []*table {
	ev := &table{title: "Events (" + s.Source + " API)", columns: []string{"domain", "read", "new", "seen_again", "rejects",
		"pages", "requests", "retries", "rate_limited", "fetched_from", "fetched_to", "synced_to", "error"}}
	lists := &table{title: "Suppression lists", columns: []string{"domain", "list", "read", "new", "removed", "complete"}}
	for _, d := range s.Domains {
		var from, to, synced any
		if d.FetchedFrom != nil {
			from, to = *d.FetchedFrom, *d.FetchedTo
		}
		if n := len(d.SyncedRanges); n > 0 {
			synced = d.SyncedRanges[n-1].To
		}
		ev.add(d.Domain, d.EventsRead, d.EventsNew, d.EventsSeenAgain, d.Rejects, d.Pages, d.Requests, d.Retries,
			d.RateLimited, from, to, synced, d.Error)
		for _, l := range d.Suppressions {
			lists.add(d.Domain, l.List, l.Read, l.New, l.Removed, l.Complete)
		}
	}
	if len(lists.rows) == 0 {
		return []*table{ev}
	}
	return []*table{ev, lists}
}
