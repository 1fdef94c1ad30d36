// Package analyze turns indexed Mailgun events into answers: failure
// classification (an ordered rules table, see rules.txt), the gateway that
// receives mail for a recipient, suppression search, recipient traces and
// verdicts, and breakdowns. It returns plain result structs for the
// commands and the report to present.
//
// It does not render HTML, print tables or speak HTTP, and the
// classification and gateway detection do no I/O at all: their tables are
// embedded in the binary.
package analyze
