// Package ingest turns outside data into maildiag's normalised records:
// exported files of every Mailgun shape (Read), and Mailgun's API itself
// through one Client that paces every request with a shared Limiter and
// retries what is worth retrying: the Events API and Logs API pagers
// (EventPages, LogPages), the suppression lists (ReadList) and the
// domains (Domains, CheckDomain). Every page goes through the same
// normaliser as a file.
//
// It hands its results to callbacks and knows nothing of SQL or of the
// index; it never logs, and never puts the API key in an error.
package ingest
