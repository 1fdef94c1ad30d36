// Package testkit is shared test support: golden files with -update,
// indexes of generated accounts built in-process on real temp-file SQLite,
// and the comparison of what an index holds with what the project's
// Mailgun-compatible server (mgserver) serves. Only tests import it; the
// tests of ingest cannot (testkit imports ingest), and use mgtest, which
// serves accounts without importing ingest or index.
package testkit
