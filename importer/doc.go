// Package importer loads exported Mailgun data (files, uploads, standard
// input) into a store: one input at a time through ingest.Read, stored in
// batches through one writer with a commit policy, with the input's
// provenance and every rejected record kept.
//
// It prints nothing: rejected records and progress go to callbacks, so a
// command line prints them and a server answers with them.
package importer
