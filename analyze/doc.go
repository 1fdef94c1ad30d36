// Package analyze turns indexed Mailgun events into answers: suppression
// search, recipient traces and verdicts, failure breakdowns and the
// delivery-health result the report renders. It returns plain result
// structs for the commands, the server and the report to present.
//
// It does not render HTML, print tables or speak HTTP. Failure
// classification lives in analyze/classify.
package analyze
