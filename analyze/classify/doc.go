// Package classify derives what the analyses group failures by: the
// failure class of a failed or rejected event (an ordered rules table,
// rules.txt) and the gateway that receives mail for its recipient
// (gateways.txt). Both tables are embedded data; the package does no I/O
// and keeps no state, so ingest calls it on its workers and the analyses
// and the index call it on stored events.
package classify
