// Package synth generates realistic synthetic Mailgun accounts: the events a
// few sending domains produce over some days (accepted, delivered, deferred and
// failed deliveries with the replies real providers and gateways give,
// suppression drops, opens, clicks, unsubscribes, complaints, rejections), the
// suppression lists those events build, and a set of planted stories that
// later analyses must find.
//
// Output is deterministic: the same Config gives the same events, byte for
// byte, in every format. Events are produced as a stream in ascending time
// order through a reorder window: everything that happens to a message is
// decided when it is accepted, and its events wait in a heap (opens up to
// two days) until their time comes. Memory is bounded by that window and by
// the suppression lists, never by the number of events, so 10,000,000
// events stream as easily as 1,000.
//
// Generate streams structured events to a callback (for tests and for a
// Mailgun-compatible server that holds an account in memory); Write renders
// the stream in one of the shapes Mailgun produces (Events API items and
// pages, Logs API items and pages, webhooks, legacy webhooks, CSV) or a
// suppression list in Mailgun's CSV import format.
//
// The package uses only the standard library and does no I/O besides writing
// to the io.Writer it is given.
package synth
