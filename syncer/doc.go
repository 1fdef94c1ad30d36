// Package syncer is the sync engine: it keeps a store current with a
// Mailgun account. A pass (Run) plans what the store misses of each
// sending domain's events (the ranges not yet read completely, cut into
// windows), pages the windows in parallel through one API client, and
// stores every page through one writer goroutine, each range read
// recorded in the transaction of its events, so that an interrupted pass
// loses nothing and the next one fetches only what is missing. It also
// takes a snapshot of each domain's suppression lists. Watch runs passes
// on an interval.
//
// It prints nothing: it returns a Summary (the --output json contract of
// maildiag sync), reports progress to a Progress, and returns errors a
// caller can tell apart (KeyRefused, ingest.ErrNoSuchDomain,
// *DomainsFailed) to word them for its users.
package syncer
