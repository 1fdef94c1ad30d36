package mgserver

import "sync/atomic"

// Stats counts what a server has done since it started.
type Stats struct {
	// Requests is every request received; Served those that reached the
	// API (authenticated and not cut short by a fault); Unauthorized those
	// refused for their credentials.
	Requests     int64
	Served       int64
	Unauthorized int64
	// Faults injected, by kind. Delayed counts requests given latency.
	RateLimited  int64
	ServerErrors int64
	Truncated    int64
	Dropped      int64
	Delayed      int64
	// Refused counts requests answered by a Faults.Refuse rule.
	Refused int64
	// Pages served with status 200, by API.
	EventPages       int64
	LogPages         int64
	SuppressionPages int64
	DomainPages      int64
	MetricsPages     int64
	// Resends is the number of stored messages resent.
	Resends int64
}

// Faults returns the number of faults injected, latency aside.
func (s Stats) Faults() int64 { return s.RateLimited + s.ServerErrors + s.Truncated + s.Dropped }

type counters struct {
	requests, served, unauthorized                     atomic.Int64
	rateLimited, serverErrors, truncated, dropped      atomic.Int64
	delayed, refused                                   atomic.Int64
	eventPages, logPages, suppressionPages, domainPage atomic.Int64
	resends, metricsPages                              atomic.Int64
}

// Stats returns a snapshot of the server's counters.
func (s *Server) Stats() Stats {
	c := &s.stats
	return Stats{
		Requests: c.requests.Load(), Served: c.served.Load(), Unauthorized: c.unauthorized.Load(),
		RateLimited: c.rateLimited.Load(), ServerErrors: c.serverErrors.Load(),
		Truncated: c.truncated.Load(), Dropped: c.dropped.Load(), Delayed: c.delayed.Load(),
		Refused:    c.refused.Load(),
		EventPages: c.eventPages.Load(), LogPages: c.logPages.Load(),
		SuppressionPages: c.suppressionPages.Load(), DomainPages: c.domainPage.Load(),
		Resends: c.resends.Load(), MetricsPages: c.metricsPages.Load(),
	}
}
