// Package mgserver is the project's Mailgun-compatible HTTP server: it holds
// a synthetic account in memory (built from package synth, or from raw event
// JSON) and answers the parts of Mailgun's API that maildiag uses, the way
// Mailgun and mailgun-go (v4 and v5) expect them to behave:
//
//   - GET /v3/{domain}/events: begin, end, ascending, limit (up to 300),
//     pretty, filter fields with Mailgun's expression language, opaque
//     next/previous/first/last page URLs that carry the whole query, and
//     late events that appear inside ranges already served;
//   - POST /v1/analytics/logs: the account-wide Logs API with AND filters and
//     opaque page tokens;
//   - GET/POST/DELETE /v3/{domain}/bounces|unsubscribes|complaints|whitelists,
//     with alphabetical page=next&address= paging;
//   - GET /v3/domains (and /v4/domains), GET /v3/domains/{name};
//   - GET and POST (resend) of stored messages, with a retention limit.
//
// Every request needs HTTP Basic auth with user "api" and the configured
// key. Fault injection (429 storms, 5xx bursts, latency, truncated bodies,
// dropped connections) is deterministic by a seed and bounded, and counters
// say what was served and injected.
//
// The server is meant for tests, benchmarks and demos on loopback. It keeps
// no state on disk and never logs the API key.
package mgserver
