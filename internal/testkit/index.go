package testkit

import (
	"context"
	"testing"

	"github.com/maildiag/maildiag/index"
)

// Query runs a read-only query on an index, with its parameters, and
// returns its rows.
func Query(t testing.TB, db *index.DB, q string, args ...any) [][]any {
	t.Helper()
	rows, err := db.Query(context.Background(), q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out [][]any
	for {
		r, err := rows.Next()
		if err != nil {
			t.Fatal(err)
		}
		if r == nil {
			return out
		}
		out = append(out, r)
	}
}

// OpenIndex opens (or creates) the index at path and its writer, both
// closed when the test ends.
func OpenIndex(t testing.TB, path string) (*index.DB, *index.Writer) {
	t.Helper()
	db, err := index.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	w, err := db.NewWriter(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return db, w
}
