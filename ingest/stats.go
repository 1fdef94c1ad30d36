package ingest

import "sync/atomic"

// Stats counts what a Client's requests met. Several clients may share one
// (Client.WithStats); the counters are safe for concurrent use.
type Stats struct {
	Requests     atomic.Int64 // attempts sent, retries included
	Retries      atomic.Int64 // attempts repeated after a 429, a 5xx, a network error or a bad body
	RateLimited  atomic.Int64 // 429 answers
	ServerErrors atomic.Int64 // 5xx answers
	NetErrors    atomic.Int64 // connection errors and timeouts
	BadBodies    atomic.Int64 // 2xx answers cut short or not valid JSON
	GaveUp       atomic.Int64 // requests that failed after every retry
}

// StatsSnapshot is a copy of Stats at one moment.
type StatsSnapshot struct {
	Requests, Retries, RateLimited, ServerErrors, NetErrors, BadBodies, GaveUp int64
}

// Snapshot returns the counters' current values.
func (s *Stats) Snapshot() StatsSnapshot {
	return StatsSnapshot{
		Requests: s.Requests.Load(), Retries: s.Retries.Load(), RateLimited: s.RateLimited.Load(),
		ServerErrors: s.ServerErrors.Load(), NetErrors: s.NetErrors.Load(), BadBodies: s.BadBodies.Load(),
		GaveUp: s.GaveUp.Load(),
	}
}
