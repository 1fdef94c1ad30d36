// Package reclassify re-derives the failure classes stored in an index
// (class, deciding rule, gateway) from each failure's original JSON, with
// this build's rules: on demand (Run), or before anything new is stored
// beside classes that older rules decided (EnsureRules, which the import
// and sync engines call).
//
// It prints nothing and knows no command line: it reports through a
// Progress, and speaks to the store through the interfaces it declares.
package reclassify
