// Package server is maildiag's team server (maildiag serve): Mailgun
// webhooks received live, a JSON API with the contracts of the CLI's
// --output json, a server-rendered web UI, users with roles, and the
// continuous sync. It calls the same engines as the commands (analyze,
// remedy, syncer, ingest) and reaches the index only through the
// interfaces declared in store.go, so that it runs on every store that
// implements them. It keeps no state in the process that another server
// sharing the index would need: sessions, replayed webhook tokens, log-in
// failures, resend approvals and the sync's lease live in the index.
//
// It must not log or answer with a secret: the Mailgun API key, the
// webhook signing key, API tokens, session cookies.
package server
