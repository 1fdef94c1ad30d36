// Package testkit is shared test support: golden files with -update, and
// indexes of generated accounts built in-process on real temp-file SQLite.
// Only tests import it.
package testkit
