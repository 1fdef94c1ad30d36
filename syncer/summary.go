package syncer

import (
	"time"

	"github.com/maildiag/maildiag"
)

// Summary is what one pass did: the --output json contract of maildiag
// sync.
type Summary struct {
	Source   string           `json:"source"`
	APIBase  string           `json:"api_base"`
	Started  time.Time        `json:"started"`
	Finished time.Time        `json:"finished"`
	Seconds  float64          `json:"seconds"`
	Workers  int              `json:"workers"`
	Domains  []*DomainSummary `json:"domains"`
	// Note says why Source is not the one asked for: the Logs API was
	// refused for the account and the pass read the Events API instead.
	Note string `json:"note,omitempty"`
	// Warnings name the parts of the account the key may not read (a
	// restricted key, a plan without a list, a subaccount): they were
	// skipped, and the rest synced. Never null.
	Warnings []Warning `json:"warnings"`
}

// Warning is one part of the account the API refused to a key it accepts
// (403 or 404): a suppression list of a domain, or a domain's events.
type Warning struct {
	Domain string `json:"domain"`
	// List is the suppression list refused, "metrics" for the Metrics
	// API; "" for the domain's events.
	List    string `json:"list,omitempty"`
	Status  int    `json:"status"`
	Message string `json:"message"`
}

// DomainSummary is one sending domain's part of a pass.
type DomainSummary struct {
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
	SyncedRanges []TimeRange `json:"synced_ranges"`
	// MetricPeriods counts the hourly and daily periods of the Metrics API
	// stored (sync --metrics).
	MetricPeriods int           `json:"metric_periods,omitempty"`
	Suppressions  []*ListResult `json:"suppressions,omitempty"`
	// Error is the text of Err, the failure that ended the domain's part;
	// a caller may word it for its users.
	Error string `json:"error,omitempty"`
	Err   error  `json:"-"`
}

// ListResult is one suppression list's snapshot.
type ListResult struct {
	List     string `json:"list"`
	Read     int    `json:"read"`
	New      int    `json:"new"`
	Removed  int    `json:"removed"`
	Pages    int    `json:"pages"`
	Complete bool   `json:"complete"` // the whole list was read and removals marked
}

// TimeRange is a half-open range of times.
type TimeRange struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

func timeRanges(rs []maildiag.Range) []TimeRange {
	out := make([]TimeRange, 0, len(rs))
	for _, r := range rs {
		out = append(out, TimeRange{microTime(r.FromUS), microTime(r.ToUS)})
	}
	return out
}

// microTime is a time in microseconds as a UTC time.
func microTime(us int64) time.Time { return time.UnixMicro(us).UTC() }
