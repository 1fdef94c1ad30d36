// Package maildiag holds the domain types shared by the ingest, index,
// analyze and report packages: the normalised event record and the
// suppression-list entry. It does no I/O.
package maildiag
