// Package pg is the PostgreSQL store: a team's shared index beside the
// embedded SQLite one (package index). It keeps the same facts with the
// same identity of an event (type, Mailgun id, recipient, UTC day), in a
// schema laid out for a shared server: events partitioned by month (the
// writer creates partitions as it needs them), names in dictionaries,
// pg_trgm indexes for wildcard and contains search, daily and hourly
// counts kept at ingest. Writes go through COPY into a staging table and
// one set-based merge per batch.
//
// Every PostgreSQL detail stays here: callers use the interfaces the
// engines declare. Connection strings are never shown with their
// password (Redact).
package pg
